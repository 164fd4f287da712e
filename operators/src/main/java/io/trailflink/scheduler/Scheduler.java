package io.trailflink.scheduler;

import io.trailflink.scheduler.placement.EngineLoad;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Continuous-batching scheduler for one engine: a candidate queue, a running batch and a KV ledger, driven by a
 * {@link Policy}. Plain Java with an explicit clock; the Flink operator and the simulator both wrap it.
 *
 * <h2>Request lifecycle</h2>
 * <pre>
 *            submit                 schedule: admit
 *   ─────────► WAITING ─────────────────────────────► RUNNING ──progress…──► FINISHED
 *                 │                                   │   ▲  ▲
 *                 │ (cannot fit even alone)   preempt │   │  │ resume (KV still resident)
 *                 ▼                                   ▼   │  │
 *             REJECTED                            PREEMPTED  │
 *                                                     │      │ resume (recompute prompt + generated)
 *                                  evict (KV pressure)▼      │
 *                                                  EVICTED ──┘        cancel: any live state → CANCELLED
 * </pre>
 * RUNNING requests may also be evicted directly when the batch's own growth does not fit.
 *
 * <h2>One scheduling round</h2>
 * <ol>
 *   <li><b>Growth.</b> Every running request gets KV reserved for its next {@code quantumTokens} tokens, best rank
 *       first. If the ledger is short, evict: preempted requests first (worst rank first: they are idle), then
 *       running ones (worst rank first).</li>
 *   <li><b>Fill.</b> While the batch has room, place the best candidate — lowest queue key, ties by arrival; with
 *       {@link TenantShares} the head of the least-served tenant's queue; ahead of both, a request past the
 *       starvation bound ({@link #setStarvationBound}):
 *       a preempted one resumes in place; a waiting or evicted one needs KV for its prompt (plus generated tokens)
 *       and a quantum, evicting worse-ranked preempted requests if that makes room. If the best candidate cannot
 *       be placed the round stops (no skipping ahead: the head of the queue is never starved by smaller ones).</li>
 *   <li><b>Preempt</b> (preemptive policies, full batch only). While the best candidate's rank plus the policy's
 *       margin is below the rank of the worst preemptible running request (or the candidate is overdue), preempt
 *       that victim (it keeps its KV) and place the candidate. This is TRAIL's limited preemption: the policy
 *       decides who is preemptible. With tenant shares a victim's tenant must have been served at least as much
 *       as the candidate's.</li>
 * </ol>
 *
 * <h2>Cost</h2>
 * The candidate queue is a sorted map keyed by (queue key, arrival order, id): insert, remove and best are
 * O(log n) in the number waiting. Running-set scans are O(maxRunning); eviction scans only the preempted
 * requests that still hold KV (bounded by the KV capacity), never the whole queue. A prediction update re-keys
 * one entry.
 *
 * <h2>Invariants</h2>
 * Checked by {@link #checkInvariants()} (tests call it after every step): each live request is in exactly one of
 * queue or batch, matching its state; the batch holds at most {@code maxRunning}; resident requests (running,
 * preempted) and only they hold KV; the ledger adds up and never exceeds capacity.
 */
public final class Scheduler implements java.io.Serializable {
  private static final long serialVersionUID = 1L;

  private final Policy policy;
  private final SchedulerConfig config;
  private final KvLedger ledger;
  private final Map<String, Request> live = new HashMap<>();
  private final TreeMap<QueueKey, Request> queue = new TreeMap<>();
  private final Map<String, QueueKey> queueKeys = new HashMap<>();
  private final Map<String, Request> running = new LinkedHashMap<>();
  private final Map<String, Request> preempted = new LinkedHashMap<>(); // queued but KV-resident: eviction candidates
  private final TenantShares shares; // null: no fairness between tenants
  private double starvationBound; // a queued request waits at most this multiple of its predicted service; 0 = off
  private double tokenMs = Double.NaN; // ms per generated token (one engine iteration), for the starvation bound
  private final TreeMap<QueueKey, Request> due = new TreeMap<>(); // with the bound: queued requests by when due
  private final Map<String, QueueKey> dueKeys = new HashMap<>();
  private long rescued; // placements of overdue requests ahead of the policy's order
  private final Map<String, TreeMap<QueueKey, Request>> tenantQueues = new HashMap<>(); // with shares: per tenant
  private long round; // scheduling rounds so far: a request placed in this round is no victim in it
  private long submitted;
  private long preemptions;
  private long evictions;
  private long parked;
  private double predictedWork; // tokens: sum of the live requests' remaining estimates, kept as they change
  private boolean headBlocked; // the last round left a batch slot free because the best candidate's KV did not fit

  /** Position in the candidate queue. */
  private record QueueKey(double key, long order, String id) implements Comparable<QueueKey>, java.io.Serializable {
    @Override
    public int compareTo(QueueKey o) {
      int c = Double.compare(key, o.key);
      if (c != 0) {
        return c;
      }
      c = Long.compare(order, o.order);
      return c != 0 ? c : id.compareTo(o.id);
    }
  }

  public Scheduler(Policy policy, SchedulerConfig config) {
    this(policy, config, null);
  }

  /**
   * A scheduler that shares decode tokens between tenants by {@code shares} (null: none): candidates come from the
   * least-served tenant's queue, in the policy's order within it, and a request preempts only requests of its own
   * tenant or of tenants served at least as much.
   */
  public Scheduler(Policy policy, SchedulerConfig config, TenantShares shares) {
    this.policy = policy;
    this.config = config;
    this.ledger = new KvLedger(config.kvBlocks(), config.blockSize());
    this.shares = shares;
  }

  /** Accepts a request into the queue, or rejects it when it could never fit the KV budget even alone. */
  public Decision submit(Request r, long now) {
    return accept(r, now, false);
  }

  private Decision accept(Request r, long now, boolean moved) {
    if (live.containsKey(r.id())) {
      return new Decision(Decision.Kind.REJECT, r.id(), "duplicate id while the first is in flight");
    }
    int peak = ledger.blocksFor(r.promptTokens() + r.maxNewTokens());
    if (peak > ledger.capacity()) {
      r.setState(RequestState.REJECTED);
      return new Decision(Decision.Kind.REJECT, r.id(),
          "needs up to " + peak + " KV blocks, capacity is " + ledger.capacity());
    }
    submitted++;
    live.put(r.id(), r);
    predictedWork += r.remainingEstimate();
    if (shares != null) {
      shares.arrived(r.tenant(), !moved);
    }
    r.setState(RequestState.WAITING);
    enqueue(r, now);
    return new Decision(Decision.Kind.ACCEPT, r.id(), "queued");
  }

  /** A fresh prediction of {@code id}'s remaining output tokens; the first one (before any output) is r. */
  public void predict(String id, double remainingTokens) {
    predict(id, remainingTokens, -1);
  }

  /**
   * A prediction made when {@code generatedAt} tokens had been generated; one made at 0 (from the prompt) is the
   * initial prediction r even when it arrives after the first tokens (the engine predicts at prefill).
   */
  public void predict(String id, double remainingTokens, int generatedAt) {
    Request r = live.get(id);
    if (r == null) {
      return; // finished or unknown: late predictions are harmless
    }
    boolean queued = queueKeys.containsKey(id);
    if (queued) {
      dequeue(r);
    }
    predictedWork -= r.remainingEstimate();
    r.predict(remainingTokens, generatedAt == 0);
    predictedWork += r.remainingEstimate();
    if (queued) {
      requeue(r);
    }
  }

  /** {@code id} generated {@code tokens} more tokens (its KV grew by as many). */
  public void progress(String id, int tokens) {
    Request r = live.get(id);
    if (r == null || r.state() != RequestState.RUNNING) {
      throw new IllegalStateException("progress for " + id + " which is not running: " + r);
    }
    addGenerated(r, tokens);
    if (!ledger.reserve(id, r.kvTokens())) { // normally reserved ahead by the growth phase
      throw new IllegalStateException("request " + id + " outgrew its KV reservation: " + r);
    }
  }

  /**
   * {@code id} generated {@code tokens} in a command issued before the scheduler paused or evicted it (with
   * commands pipelined, the engine runs the previous plan while the next is made). A preempted request's KV grows
   * within its reservation; an evicted one only counts the tokens (its KV is recomputed on resume). Its queue
   * position is updated, since its rank depends on what it generated.
   */
  public void lateProgress(String id, int tokens) {
    Request r = live.get(id);
    if (r == null) {
      return;
    }
    if (r.state() == RequestState.RUNNING) {
      progress(id, tokens);
      return;
    }
    boolean queued = queueKeys.containsKey(id);
    if (queued) {
      dequeue(r);
    }
    addGenerated(r, tokens);
    if (r.state() == RequestState.PREEMPTED && !ledger.reserve(id, r.kvTokens())) {
      throw new IllegalStateException("preempted request " + id + " outgrew its KV reservation: " + r);
    }
    if (queued) {
      requeue(r);
    }
  }

  /** {@code id} is done; its KV is freed. */
  public void finish(String id) {
    remove(id, RequestState.FINISHED);
  }

  /** {@code id} is withdrawn; its KV is freed. */
  public void cancel(String id) {
    remove(id, RequestState.CANCELLED);
  }

  /**
   * Takes a waiting request that has never run (no KV, no tokens) out of this engine so that another engine can
   * {@link #adopt} it: placement moving work off a crowded engine. Null, changing nothing, when {@code id} is not
   * live here or not waiting.
   */
  public Request withdraw(String id) {
    Request r = live.get(id);
    if (r == null || r.state() != RequestState.WAITING) {
      return null;
    }
    remove(id, RequestState.WAITING);
    submitted--;
    return r;
  }

  /** Queues a request {@link #withdraw withdrawn} from another engine, keeping its time in the queue. */
  public Decision adopt(Request r) {
    return accept(r, r.queuedSinceMs(), true);
  }

  /**
   * The engine lost every KV cache (it restarted): running and preempted requests become EVICTED and queue to be
   * recomputed from their prompt and generated tokens. Returns the requests affected.
   */
  public List<String> engineLost(long now) {
    List<Request> resident = new ArrayList<>(running.values());
    resident.addAll(preempted.values());
    List<String> ids = new ArrayList<>();
    for (Request r : resident) {
      ledger.release(r.id());
      preempted.remove(r.id());
      if (r.state() == RequestState.RUNNING) {
        running.remove(r.id());
        enqueue(r, now);
      }
      r.setState(RequestState.EVICTED);
      ids.add(r.id());
    }
    return ids;
  }

  /**
   * Queues a request restored from a checkpoint, as after {@link #engineLost}: one the engine held (running or
   * preempted) is EVICTED and re-queued with the tokens it generated — a running one from {@code now}, a preempted one
   * with its time in the queue kept; a waiting or evicted one is queued as it was. Call it in arrival order, then
   * {@link #restoreCounters}.
   */
  public void restore(Request r, RequestState was, long now) {
    live.put(r.id(), r);
    predictedWork += r.remainingEstimate();
    if (shares != null) {
      shares.restoredLive(r.tenant());
    }
    if (was.resident() || was == RequestState.EVICTED) {
      r.setState(RequestState.EVICTED);
    } else {
      r.setState(RequestState.WAITING);
    }
    if (was == RequestState.RUNNING) {
      enqueue(r, now);
    } else {
      requeue(r);
    }
  }

  /** The counters a checkpoint kept (see {@link #restore}). */
  public void restoreCounters(long submitted, long preemptions, long evictions, long parked, long rescued) {
    this.submitted = submitted;
    this.preemptions = preemptions;
    this.evictions = evictions;
    this.parked = parked;
    this.rescued = rescued;
  }

  /**
   * Parks a waiting request: the engine prefills it ahead of its turn (first token included) and keeps its KV, so
   * it joins the preempted requests — queued, KV resident, not running — and its admission later costs no prefill;
   * its prefill also gives its initial prediction. Under KV pressure it is evicted first, like any idle preempted
   * request. Returns false, changing nothing, unless the request is waiting and its KV (prompt plus one token)
   * fits with {@code spareBlocks} still free.
   */
  public boolean park(String id, int spareBlocks) {
    Request r = live.get(id);
    if (r == null || r.state() != RequestState.WAITING) {
      return false;
    }
    int tokens = r.promptTokens() + 1;
    if (ledger.shortfall(id, tokens) + spareBlocks > ledger.free() || !ledger.reserve(id, tokens)) {
      return false;
    }
    r.setState(RequestState.PREEMPTED); // stays in the candidate queue under the same key
    preempted.put(id, r);
    parked++;
    return true;
  }

  /** One scheduling round at time {@code now} (ms); returns what to execute, in order. */
  public List<Decision> schedule(long now) {
    List<Decision> out = new ArrayList<>();
    round++;
    reserveGrowth(out, now);
    headBlocked = false;
    while (running.size() < config.maxRunning() && !queue.isEmpty()) {
      Request c = bestCandidate(now);
      if (!place(c, out, now)) {
        // an overdue request or a tenant's head that KV blocks must not stall the engine: the policy's own best next
        Request head = queue.firstEntry().getValue();
        if (head == c || !place(head, out, now)) {
          headBlocked = true;
          break;
        }
      }
    }
    if (running.size() == config.maxRunning()) {
      preemptForShorter(out, now);
    }
    return out;
  }

  private void reserveGrowth(List<Decision> out, long now) {
    long needed = 0;
    for (Request r : running.values()) {
      needed += ledger.shortfall(r.id(), r.kvTokens() + config.quantumTokens());
    }
    if (needed <= ledger.free()) { // the common case: everyone grows, so the order does not matter
      for (Request r : running.values()) {
        ledger.reserve(r.id(), r.kvTokens() + config.quantumTokens());
      }
      return;
    }
    List<Request> byRank = new ArrayList<>(running.values());
    byRank.sort(Comparator.comparingDouble(policy::rank).thenComparingLong(Request::arrivalOrder));
    for (Request r : byRank) {
      if (r.state() != RequestState.RUNNING) {
        continue; // evicted earlier in this loop
      }
      while (!ledger.reserve(r.id(), r.kvTokens() + config.quantumTokens())) {
        Request victim = worst(queuedResident());
        if (victim == null) {
          victim = worst(new ArrayList<>(running.values()));
        }
        evict(victim, out, now, "KV short for the batch's next " + config.quantumTokens() + " tokens");
        if (victim == r) {
          break;
        }
      }
    }
  }

  /** Puts a candidate into the batch; false when KV cannot be found for it. */
  private boolean place(Request c, List<Decision> out, long now) {
    int tokens = c.kvTokens() + config.quantumTokens();
    boolean overdue = overdue(c, now);
    while (!ledger.reserve(c.id(), tokens)) {
      // an overdue request may evict any idle resident request; others only worse-ranked ones
      Request victim = overdue ? worstOtherThan(queuedResident(), c) : worstWorseThan(queuedResident(), c);
      if (victim == null) {
        return false;
      }
      evict(victim, out, now, "room for " + c.id());
    }
    RequestState before = c.state();
    c.setPlacedInRound(round);
    if (overdue) {
      rescued++;
      c.markRescued(); // it waited long enough: never preempted again
    }
    dequeue(c);
    preempted.remove(c.id());
    c.setState(RequestState.RUNNING);
    running.put(c.id(), c);
    switch (before) {
      case WAITING -> out.add(new Decision(Decision.Kind.ADMIT, c.id(), "best candidate, rank " + fmt(policy.rank(c))));
      case PREEMPTED -> out.add(new Decision(Decision.Kind.RESUME, c.id(), "KV resident"));
      case EVICTED -> out.add(new Decision(Decision.Kind.RESUME, c.id(),
          "recompute " + c.kvTokens() + " tokens"));
      default -> throw new IllegalStateException("cannot place " + c);
    }
    return true;
  }

  private void preemptForShorter(List<Decision> out, long now) {
    while (!queue.isEmpty()) {
      Request c = bestCandidate(now);
      Request victim = fairVictim(c);
      boolean unfairlyServed = victim != null;
      double victimRank = Double.NEGATIVE_INFINITY;
      for (Request r : running.values()) {
        if (!unfairlyServed && victimCandidate(r) && servedAtLeast(r, c)) {
          double rank = policy.rank(r);
          if (victim == null || rank > victimRank) {
            victim = r;
            victimRank = rank;
          }
        }
      }
      // a guess from the prompt alone ranks the queue but never preempts: the victim would pay a preemption for it
      boolean guessed = !c.hasPrediction() && !Double.isNaN(c.promptPrior());
      if (victim == null || !(unfairlyServed || overdue(c, now)
          || !guessed && policy.rank(c) + policy.margin() < victimRank)) {
        return;
      }
      if (ledger.shortfall(c.id(), c.kvTokens() + config.quantumTokens()) > ledger.free()) {
        return; // the victim keeps its KV, so the newcomer must fit beside it
      }
      running.remove(victim.id());
      preempted.put(victim.id(), victim);
      victim.setState(RequestState.PREEMPTED);
      victim.countPreemption();
      preemptions++;
      enqueue(victim, now);
      out.add(new Decision(Decision.Kind.PREEMPT, victim.id(), "for " + c.id() + (unfairlyServed
          ? ": tenant '" + victim.tenant() + "' was served more than '" + c.tenant() + "'"
          : ": rank " + fmt(policy.rank(c)) + " < " + fmt(policy.rank(victim)))));
      if (!place(c, out, now)) {
        throw new IllegalStateException("candidate " + c.id() + " could not be placed after preempting " + victim.id());
      }
    }
  }

  /** Whether running {@code r} may be preempted at all: the policy allows it, it was not rescued, nor placed now. */
  private boolean victimCandidate(Request r) {
    return policy.preemptible(r) && !r.rescued() && r.placedInRound() != round;
  }

  /** Whether {@code r} has waited past the starvation bound. */
  private boolean overdue(Request r, long now) {
    QueueKey d = dueKeys.get(r.id());
    return d != null && d.key() <= now;
  }

  /**
   * With tenant shares: a preemptible running request of a tenant served more than {@code c}'s (the most-served
   * tenant's, worst rank first), which {@code c} preempts whatever their ranks — its tenant is owed the slot.
   * Null without shares or when every running tenant has been served no more than {@code c}'s.
   */
  private Request fairVictim(Request c) {
    if (shares == null) {
      return null;
    }
    // a gap of one full batch's quantum before the slot is owed, or two tenants would swap the batch every round
    double victimCounter = shares.counter(c.tenant()) + (double) config.quantumTokens() * config.maxRunning();
    Request victim = null;
    for (Request r : running.values()) {
      if (r.tenant().equals(c.tenant()) || !victimCandidate(r)) {
        continue;
      }
      double counter = shares.counter(r.tenant());
      if (counter > victimCounter
          || victim != null && counter == victimCounter && policy.rank(r) > policy.rank(victim)) {
        victim = r;
        victimCounter = counter;
      }
    }
    return victim;
  }

  /** Without shares always; with them, whether {@code victim}'s tenant was served at least as much as {@code c}'s. */
  private boolean servedAtLeast(Request victim, Request c) {
    return shares == null || victim.tenant().equals(c.tenant())
        || shares.counter(victim.tenant()) >= shares.counter(c.tenant());
  }

  private void evict(Request r, List<Decision> out, long now, String reason) {
    ledger.release(r.id());
    preempted.remove(r.id());
    if (r.state() == RequestState.RUNNING) {
      running.remove(r.id());
      enqueue(r, now);
    }
    r.setState(RequestState.EVICTED);
    r.countEviction();
    evictions++;
    out.add(new Decision(Decision.Kind.EVICT, r.id(), reason));
  }

  private List<Request> queuedResident() {
    return new ArrayList<>(preempted.values());
  }

  private Request worst(List<Request> rs) {
    Request w = null;
    for (Request r : rs) {
      if (w == null || policy.rank(r) > policy.rank(w)
          || policy.rank(r) == policy.rank(w) && r.arrivalOrder() > w.arrivalOrder()) {
        w = r;
      }
    }
    return w;
  }

  private Request worstOtherThan(List<Request> rs, Request c) {
    List<Request> others = new ArrayList<>(rs);
    others.remove(c);
    return worst(others);
  }

  private Request worstWorseThan(List<Request> rs, Request c) {
    Request w = worst(rs);
    return w != null && w != c && policy.rank(w) > policy.rank(c) ? w : null;
  }

  private void enqueue(Request r, long now) {
    r.setQueuedSince(now);
    requeue(r);
  }

  /** Puts {@code r} into the candidate queue (and its tenant's, and the due order) under its current keys. */
  private void requeue(Request r) {
    QueueKey k = new QueueKey(policy.queueKey(r), r.arrivalOrder(), r.id());
    queue.put(k, r);
    queueKeys.put(r.id(), k);
    if (shares != null) {
      tenantQueues.computeIfAbsent(r.tenant(), t -> new TreeMap<>()).put(k, r);
    }
    if (starvationBound > 0 && !Double.isNaN(tokenMs)) {
      // by the prediction, or the cap without one: a short guess from the prompt must not make a request overdue
      double service = r.hasPrediction() ? r.remainingEstimate() : r.maxNewTokens() - r.generated();
      QueueKey d = new QueueKey(r.queuedSinceMs() + starvationBound * service * tokenMs,
          r.arrivalOrder(), r.id());
      due.put(d, r);
      dueKeys.put(r.id(), d);
    }
  }

  private void dequeue(Request r) {
    QueueKey d = dueKeys.remove(r.id());
    if (d != null) {
      due.remove(d);
    }
    QueueKey k = queueKeys.remove(r.id());
    if (k != null) {
      queue.remove(k);
      if (shares != null) {
        TreeMap<QueueKey, Request> own = tenantQueues.get(r.tenant());
        own.remove(k);
        if (own.isEmpty()) {
          tenantQueues.remove(r.tenant());
        }
      }
    }
  }

  /**
   * The candidate to place next: the request longest overdue under the starvation bound, if one is; else the head
   * of the queue, or with tenant shares the head of the queue of the tenant served least so far (lowest virtual
   * token counter; ties by name). Null when nothing is queued.
   */
  private Request bestCandidate(long now) {
    if (queue.isEmpty()) {
      return null;
    }
    if (!due.isEmpty() && due.firstKey().key() <= now) {
      return due.firstEntry().getValue();
    }
    if (shares == null) {
      return queue.firstEntry().getValue();
    }
    String best = null;
    double bestCounter = 0;
    for (String tenant : tenantQueues.keySet()) {
      double c = shares.counter(tenant);
      if (best == null || c < bestCounter || c == bestCounter && tenant.compareTo(best) < 0) {
        best = tenant;
        bestCounter = c;
      }
    }
    return tenantQueues.get(best).firstEntry().getValue();
  }

  private void addGenerated(Request r, int tokens) {
    predictedWork -= r.remainingEstimate();
    r.addGenerated(tokens);
    predictedWork += r.remainingEstimate();
    if (shares != null) {
      shares.charge(r.tenant(), tokens);
    }
  }

  private void remove(String id, RequestState terminal) {
    Request r = live.remove(id);
    if (r == null) {
      return;
    }
    predictedWork = live.isEmpty() ? 0 : predictedWork - r.remainingEstimate(); // no drift left when idle
    if (shares != null) {
      shares.left(r.tenant());
    }
    dequeue(r);
    running.remove(id);
    preempted.remove(id);
    ledger.release(id);
    r.setState(terminal);
  }

  private static String fmt(double v) {
    return Double.isInfinite(v) ? "∞" : String.valueOf(Math.round(v));
  }

  // -- read-only views

  public Request request(String id) {
    return live.get(id);
  }

  /**
   * The waiting request (never run) last in the queue's order, or null: the first to move away. With tenant shares
   * the order is the policy's across all tenants, not the order in which shares would serve them.
   */
  public Request lastWaiting() {
    for (Request r : queue.descendingMap().values()) {
      if (r.state() == RequestState.WAITING) {
        return r;
      }
    }
    return null;
  }

  public List<Request> runningRequests() {
    return List.copyOf(running.values());
  }

  /** The queued requests (waiting, preempted, evicted) in the order the policy would place them: O(n). */
  public List<Request> queuedInOrder() {
    return List.copyOf(queue.values());
  }

  /** The queue in the policy's order, as a read-only view (no copy): iterate it, do not keep it. */
  public java.util.Collection<Request> queuedView() {
    return java.util.Collections.unmodifiableCollection(queue.values());
  }

  public int runningCount() {
    return running.size();
  }

  public int queuedCount() {
    return queue.size();
  }

  /** Requests paused with their KV resident (they are also counted as queued). */
  public int preemptedCount() {
    return preempted.size();
  }

  public int liveCount() {
    return live.size();
  }

  /** The live requests' predicted remaining output in all (tokens); O(1), kept as requests change. */
  public double predictedWork() {
    return predictedWork;
  }

  /** This engine's load as placement reads it. */
  public EngineLoad load() {
    return new EngineLoad(live.size(), running.size(), config.maxRunning(), predictedWork, ledger.free(),
        ledger.capacity());
  }

  public KvLedger ledger() {
    return ledger;
  }

  public Policy policy() {
    return policy;
  }

  /**
   * Bounds waiting: a queued request that has waited {@code multiple} times its predicted service time (its
   * predicted output × {@link #setTokenMs ms per token}) goes ahead of the policy's order (and of the tenant
   * shares), may preempt any preemptible request, and once placed is never preempted; 0 turns the bound off. A request's due time is set when it
   * enters the queue and whenever its prediction changes, with the token time of that moment.
   */
  public void setStarvationBound(double multiple) {
    if (!(multiple >= 0) || Double.isInfinite(multiple)) {
      throw new IllegalArgumentException("starvation bound must be >= 0 (0 = off), got " + multiple);
    }
    starvationBound = multiple;
  }

  /** The engine's time per generated token (ms) as last set; NaN before. */
  public double tokenMs() {
    return tokenMs;
  }

  /** The engine's current time per generated token (ms), which turns predicted tokens into service time. */
  public void setTokenMs(double ms) {
    if (ms > 0 && !Double.isInfinite(ms)) {
      boolean first = Double.isNaN(tokenMs);
      tokenMs = ms;
      if (first && starvationBound > 0) { // requests queued before the first measure get their deadline now
        for (Request r : List.copyOf(queue.values())) {
          dequeue(r);
          requeue(r);
        }
      }
    }
  }

  /** Placements of requests past the starvation bound, ahead of the policy's order. */
  public long starvationRescues() {
    return rescued;
  }

  /** The tenant shares, or null when tenants are not shared fairly. */
  public TenantShares shares() {
    return shares;
  }

  public long preemptions() {
    return preemptions;
  }

  /**
   * Whether the last round left a batch slot free because the best candidate's KV could not be found: then no
   * request should be parked, or the KV freed for it would go to parked requests instead.
   */
  public boolean headBlocked() {
    return headBlocked;
  }

  /** Requests parked so far (prefilled ahead of their turn, see {@link #park}). */
  public long parked() {
    return parked;
  }

  public long evictions() {
    return evictions;
  }

  public long submitted() {
    return submitted;
  }

  /** Throws {@link IllegalStateException} naming the request when any invariant is broken. */
  public void checkInvariants() {
    ledger.check();
    if (running.size() > config.maxRunning()) {
      throw new IllegalStateException("batch of " + running.size() + " exceeds max running " + config.maxRunning());
    }
    if (queue.size() != queueKeys.size() || queue.size() + running.size() != live.size()) {
      throw new IllegalStateException("queue " + queue.size() + " + batch " + running.size() + " != live "
          + live.size());
    }
    int preemptedSeen = 0;
    int residentHolders = 0;
    for (Request r : live.values()) {
      boolean inBatch = running.containsKey(r.id());
      boolean inQueue = queueKeys.containsKey(r.id());
      if (inBatch == inQueue) {
        throw new IllegalStateException("request " + r.id() + " is in " + (inBatch ? "both" : "neither")
            + " queue and batch");
      }
      if (inBatch != (r.state() == RequestState.RUNNING)) {
        throw new IllegalStateException("request " + r.id() + " state " + r.state() + " disagrees with its place");
      }
      if ((r.state() == RequestState.PREEMPTED) != preempted.containsKey(r.id())) {
        throw new IllegalStateException(
            "request " + r.id() + " state " + r.state() + " disagrees with the preempted index");
      }
      preemptedSeen += r.state() == RequestState.PREEMPTED ? 1 : 0;
      boolean holds = ledger.held(r.id()) > 0;
      if (holds != r.state().resident()) {
        throw new IllegalStateException("request " + r.id() + " in state " + r.state()
            + (holds ? " holds" : " does not hold") + " KV");
      }
      if (holds) {
        residentHolders++;
        if (ledger.held(r.id()) < ledger.blocksFor(r.kvTokens())) {
          throw new IllegalStateException("request " + r.id() + " holds fewer blocks than its " + r.kvTokens()
              + " KV tokens need");
        }
      }
    }
    if (preemptedSeen != preempted.size()) {
      throw new IllegalStateException("preempted index holds " + preempted.size() + ", " + preemptedSeen + " preempted");
    }
    if (!dueKeys.keySet().stream().allMatch(queueKeys::containsKey) || due.size() != dueKeys.size()) {
      throw new IllegalStateException("the due order holds requests that are not queued");
    }
    if (shares != null && tenantQueues.values().stream().mapToInt(Map::size).sum() != queue.size()) {
      throw new IllegalStateException("tenant queues hold " + tenantQueues.values().stream().mapToInt(Map::size).sum()
          + " requests, the queue " + queue.size());
    }
    double work = live.values().stream().mapToDouble(Request::remainingEstimate).sum();
    if (Math.abs(work - predictedWork) > 1e-6 * Math.max(1, work)) {
      throw new IllegalStateException("predicted work is kept as " + predictedWork + ", the live requests sum to "
          + work);
    }
    if (residentHolders != ledger.holders()) {
      throw new IllegalStateException("ledger has " + ledger.holders() + " holders, " + residentHolders
          + " resident requests");
    }
  }
}
