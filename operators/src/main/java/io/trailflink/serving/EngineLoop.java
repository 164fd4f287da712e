package io.trailflink.serving;

import io.trailflink.predictor.PromptPrior;
import io.trailflink.scheduler.Decision;
import io.trailflink.scheduler.Request;
import io.trailflink.scheduler.RequestState;
import io.trailflink.scheduler.Scheduler;
import io.trailflink.engine.FinishReason;
import io.trailflink.schema.AdmitSpec;
import io.trailflink.schema.EngineFeedback;
import io.trailflink.schema.EngineLoopState;
import io.trailflink.schema.LoopCountersState;
import io.trailflink.schema.ServedRequestState;
import io.trailflink.schema.TenantCounterState;
import io.trailflink.schema.EngineStatus;
import io.trailflink.schema.EtaUpdate;
import io.trailflink.schema.EpochMicros;
import io.trailflink.schema.FinalResponse;
import io.trailflink.engine.StepExecutor;
import io.trailflink.schema.PredictionUpdate;
import io.trailflink.sim.PredictionModel;
import io.trailflink.sim.SimRequest;
import io.trailflink.schema.ProbeSpec;
import io.trailflink.schema.ResponseChunk;
import io.trailflink.schema.RequestProgress;
import io.trailflink.schema.StepCommand;
import java.io.Serializable;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The scheduling side of one decode engine, as plain Java: the TRAIL {@link Scheduler} plus what serving needs
 * around it — the requests' tokens and text, one command in flight at a time, feedback applied idempotently,
 * final responses assembled, and recovery when the engine restarts. The Flink scheduler function keeps one of
 * these per engine key and only moves records in and out.
 *
 * <h2>The loop</h2>
 * {@link #nextCommand} runs a scheduling round and turns its decisions into one {@link StepCommand} (evict,
 * preempt, resume, admit, then a quantum of {@code decodeSteps} decode steps for every running request). The
 * command's feedback ({@link EngineFeedback}, read back from the predictions topic) is applied by
 * {@link #apply}: tokens become scheduler progress, finished requests become {@link FinalResponse}s, and
 * predictions re-rank the queue. Only feedback for the command in flight is applied; duplicates and stale
 * records from the feedback topic are counted and ignored.
 *
 * <h2>Engine restarts</h2>
 * Feedback carries the engine's incarnation. A new incarnation means the engine lost its KV caches: the
 * feedback's own effects are discarded (whatever it admitted is released), every resident request becomes
 * EVICTED, and is later re-admitted with the tokens it had generated, which the engine recomputes. A command
 * without feedback for {@code stallTimeoutMs} is given up the same way.
 */
public final class EngineLoop implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  private final String engine;
  private final int engineIndex;
  private final ServingConfig config;
  private final Scheduler scheduler;
  private final Map<String, ServedRequest> requests = new LinkedHashMap<>(); // arrival order
  private final Set<String> toRelease = new LinkedHashSet<>();
  /** Whether any request accepted so far carried a deadline ({@link #expire} scans only then). */
  private boolean deadlinesSeen;
  private long arrivals;
  private long nextSeq = 1;
  /** Chunks of the tokens applied since the last {@link #drainChunks} (not state: drained after every call). */
  private transient List<ResponseChunk> chunks;
  /** Commands sent and not yet answered, oldest first (at most {@code pipelineDepth}). */
  private final ArrayDeque<InFlight> inFlight = new ArrayDeque<>();
  /** Accepted requests not probed yet, oldest first (with {@code --no-park}; parking walks the queue instead). */
  private final ArrayDeque<ServedRequest> unprobed = new ArrayDeque<>();
  private String incarnation;
  private final LoopStats stats = new LoopStats();
  private transient PredictionModel synthetic; // predictions from forced lengths (--predictions), built on first use
  /** The ETA stream's measurements and marks; null until first used (a restored loop measures afresh). */
  private EtaBoard etas;
  /** The engine's load after the last applied feedback (not state: drained after every call). */
  private transient EngineStatus status;
  /**
   * The operator's current settings, for what may change across a restore (the ETA interval, predictive
   * admission): {@link #config} is the one the loop was created with, as its snapshot holds it.
   */
  private transient ServingConfig settings;
  /** The highest placement sequence number among the requests received (reported in the status). */
  private long placementsSeen;
  /**
   * Ids of the placements here that left since the last status, one per placement (a repeated id refused as a
   * duplicate too); null until the first.
   */
  private ArrayList<String> ended;

  public EngineLoop(int engineIndex, ServingConfig config) {
    this.engine = EngineId.of(engineIndex).name();
    this.engineIndex = engineIndex;
    this.config = config;
    this.scheduler = config.newScheduler();
  }

  /**
   * The loop's checkpoint form ({@link EngineLoopState}: declared fields, evolvable). It keeps what outlives the
   * engine: every live request with its tokens, text, predictions and history, the command numbering, the counters.
   */
  public EngineLoopState toState() {
    List<ServedRequestState> live = new ArrayList<>(requests.size());
    for (ServedRequest s : requests.values()) {
      live.add(s.toState(scheduler.request(s.request.id())));
    }
    List<TenantCounterState> tenants = new ArrayList<>();
    if (scheduler.shares() != null) {
      scheduler.shares().counters().forEach((t, c) -> tenants.add(new TenantCounterState(t, c)));
    }
    LoopCountersState counters = stats.toState().setSchedulerSubmitted(scheduler.submitted())
        .setSchedulerPreemptions(scheduler.preemptions()).setSchedulerEvictions(scheduler.evictions())
        .setSchedulerParked(scheduler.parked()).setSchedulerRescued(scheduler.starvationRescues())
        .setUnknownTenantRequests(unknownTenantRequests()).build();
    return EngineLoopState.newBuilder().setEngineIndex(engineIndex).setNextSeq(nextSeq)
        .setInFlightSeqs(inFlight.stream().map(f -> f.seq).toList())
        .setArrivals(arrivals).setPlacementsSeen(placementsSeen).setDeadlinesSeen(deadlinesSeen)
        .setToRelease(List.copyOf(toRelease)).setEnded(ended == null ? List.of() : List.copyOf(ended))
        .setTenantCounters(tenants).setCounters(counters).setRequests(live)
        .setTokenMs(Double.isNaN(scheduler.tokenMs()) ? null : scheduler.tokenMs()).build();
  }

  /**
   * A loop from its checkpoint form, under {@code config} (the restored job's settings), as after an engine loss:
   * the restored job's engine is new and holds no KV, so every request the old one held is re-queued EVICTED with
   * the tokens it generated (the engine recomputes them), and the commands that were in flight are voided — their
   * answers (the restored async operator replays them on the new engine) are not applied, and the next command
   * releases every request first, so nothing a replayed command admitted stays behind. Feedback of the lost engine,
   * re-read from the topic, is never applied; the first answer of the new one names its incarnation.
   */
  public static EngineLoop restore(EngineLoopState st, ServingConfig config, long now) {
    EngineLoop loop = new EngineLoop(st.getEngineIndex(), config);
    loop.nextSeq = st.getNextSeq();
    for (long seq : st.getInFlightSeqs()) {
      InFlight f = new InFlight(seq, now, 0, List.of(), 0);
      f.voided = true;
      loop.inFlight.addLast(f);
    }
    // the incarnation stays unknown until the new engine answers a command of this run: the old engine's answers,
    // re-read from the at-least-once topic, carry other issue times (InFlight.answeredBy) and are never applied
    loop.arrivals = st.getArrivals();
    loop.placementsSeen = st.getPlacementsSeen();
    loop.deadlinesSeen = st.getDeadlinesSeen();
    loop.toRelease.addAll(st.getToRelease());
    loop.ended = new ArrayList<>(st.getEnded());
    loop.stats.restore(st.getCounters());
    Scheduler scheduler = loop.scheduler;
    if (st.getTokenMs() != null) { // before the requests: the starvation bound dates them by it
      scheduler.setTokenMs(st.getTokenMs());
    }
    if (scheduler.shares() != null) { // counters of a job that ran without --fairness tenant are empty
      java.util.Map<String, Double> counters = new java.util.HashMap<>();
      st.getTenantCounters().forEach(c -> counters.put(c.getTenant(), c.getVirtualTokens()));
      scheduler.shares().restore(counters, st.getCounters().getUnknownTenantRequests());
    }
    for (ServedRequestState rs : st.getRequests()) {
      ServedRequest s = ServedRequest.restored(rs, loop.engineIndex);
      // the restored async operator replays the commands it held on the new engine before the next one, which may
      // have admitted this request again there: the next command releases it first (harmless where unknown)
      loop.toRelease.add(rs.getId());
      Request restored = s.restoredRequest(rs);
      restored.setPromptPrior(loop.promptPrior(s.request.promptTokenIds(), s.request.maxNewTokens()));
      scheduler.restore(restored, RequestState.valueOf(rs.getState()), now);
      loop.requests.put(s.request.id(), s);
      if (config.probeBatch() > 0 && !config.park() && !s.probed) {
        loop.unprobed.addLast(s);
      }
    }
    LoopCountersState c = st.getCounters();
    scheduler.restoreCounters(c.getSchedulerSubmitted(), c.getSchedulerPreemptions(), c.getSchedulerEvictions(),
        c.getSchedulerParked(), c.getSchedulerRescued());
    return loop;
  }

  /**
   * Accepts a request into the queue, or refuses it: REJECT (duplicate id in flight, can never fit the KV budget; a
   * dead letter) or SHED (the waiting queue is at {@code maxWaiting}, or with predictive admission its predicted
   * finish is past its deadline: answered with {@link #shed}).
   */
  public Decision submit(ValidatedRequest v, long now) {
    placementsSeen = Math.max(placementsSeen, v.placementSeq());
    if (requests.containsKey(v.id())) {
      left(v);
      return new Decision(Decision.Kind.REJECT, v.id(), "duplicate id while the first is in flight");
    }
    Decision d = accept(v, now);
    if (d.kind() != Decision.Kind.ACCEPT) {
      left(v);
    }
    return d;
  }

  /**
   * The prompt prior's guess of a request's total output (tokens), or NaN without a prior: it ranks and times a
   * waiting request until TRAIL's own prediction comes (once the request is parked or probed).
   */
  private double promptPrior(int[] promptTokenIds, int maxNewTokens) {
    String dir = settings().promptPriorDir();
    PromptPrior prior = dir == null || promptTokenIds.length == 0 ? null : PromptPriors.of(dir);
    return prior == null ? Double.NaN : prior.predictTotal(promptTokenIds, maxNewTokens);
  }

  private Decision accept(ValidatedRequest v, long now) {
    if (config.maxWaiting() > 0 && scheduler.queuedCount() >= config.maxWaiting()) {
      stats.shed++;
      return new Decision(Decision.Kind.SHED, v.id(), "overloaded: " + scheduler.queuedCount() + " requests wait on "
          + engine + " (--max-waiting " + config.maxWaiting() + ")");
    }
    // the scheduler sees the request's own cap; a forced length is only the truth (for the oracle), never a cap
    // that would clamp predictions to the true length
    int cap = Math.max(v.maxNewTokens(), v.forcedOutputTokens());
    Request r = new Request(v.id(), v.submittedAtMs(), arrivals++, v.promptTokenIds().length, cap,
        v.forcedOutputTokens() > 0 ? v.forcedOutputTokens() : -1, v.tenant());
    r.setPromptPrior(promptPrior(v.promptTokenIds(), v.maxNewTokens()));
    Decision d = scheduler.submit(r, now);
    if (d.kind() == Decision.Kind.ACCEPT) {
      deadlinesSeen |= v.deadlineAtMs() > 0;
      ServedRequest s = new ServedRequest(v, (int) arrivals);
      requests.put(v.id(), s);
      predictSynthetic(s, 0);
      if (config.probeBatch() > 0 && !config.park()) { // parking walks the scheduler's queue instead
        unprobed.addLast(s);
      }
      // a request predicted on arrival (from its forced length), or one no prediction will come for before it is
      // admitted (no parking or probing), is judged now; the model predicts the others once their prompt is embedded
      // (parked or probed), and refuseUnreachable judges them then
      boolean predictionComing = !config.syntheticPredictions() && config.probeBatch() > 0;
      if (settings().predictiveAdmission() && v.deadlineAtMs() > 0
          && (scheduler.request(v.id()).hasPrediction() || !predictionComing)) {
        double finishAt = etas().predictedFinishAtMs(scheduler, requests, v.id(), now);
        if (finishAt > v.deadlineAtMs()) { // NaN (no iteration time measured yet) admits
          requests.remove(v.id());
          scheduler.cancel(v.id());
          stats.unreachable++;
          return new Decision(Decision.Kind.SHED, v.id(), unreachable(finishAt, v));
        }
      }
      // the client's submission time, not acceptance: a burst that validation lets in over seconds is still a burst
      etas().arrived(Math.min(v.submittedAtMs(), now));
      etas().publish(scheduler, requests, v.id(), engine, config.policy(), now);
    }
    return d;
  }

  /** The next command for the engine, or null while one is in flight or there is nothing to do. */
  public StepCommand nextCommand(long now) {
    if (inFlight.size() >= config.pipelineDepth() || inFlight.stream().anyMatch(f -> f.voided)) {
      return null; // full, or waiting for the answers to commands the lost engine never ran
    }
    long t0 = System.nanoTime();
    long cpu0 = THREADS.getCurrentThreadCpuTime();
    List<String> evict = new ArrayList<>();
    List<String> preempt = new ArrayList<>();
    List<String> resume = new ArrayList<>();
    List<AdmitSpec> admit = new ArrayList<>();
    for (Decision d : scheduler.schedule(now)) {
      ServedRequest s = requests.get(d.requestId());
      switch (d.kind()) {
        case EVICT -> {
          evict.add(d.requestId());
          s.kvResident = false;
        }
        case PREEMPT -> preempt.add(d.requestId());
        case ADMIT, RESUME -> {
          if (!s.inEngine) {
            admit.add(admitSpec(s));
          } else if (!s.kvResident) {
            resume.add(d.requestId());
          }
          if (s.firstAdmittedAtMs < 0) {
            s.firstAdmittedAtMs = now; // a parked request is admitted when it first joins the batch
          }
          s.inEngine = true;
          s.kvResident = true;
        }
        default -> throw new IllegalStateException("unexpected decision " + d);
      }
    }
    List<String> decode = new ArrayList<>();
    for (Request r : scheduler.runningRequests()) {
      decode.add(r.id());
    }
    etas().planned(decode.size(), scheduler.queuedCount());
    List<String> park = new ArrayList<>();
    List<ProbeSpec> probe = parkOrProbe(admit, park);
    List<String> release = new ArrayList<>(toRelease);
    toRelease.clear();
    if (decode.isEmpty() && evict.isEmpty() && preempt.isEmpty() && release.isEmpty() && probe.isEmpty()
        && admit.isEmpty()) {
      return null;
    }
    long seq = nextSeq++;
    long issuedAtUs = EpochMicros.now();

    List<String> involved = new ArrayList<>(decode);
    admit.forEach(a -> involved.add(a.getRequestId()));
    inFlight.addLast(new InFlight(seq, now, issuedAtUs, involved, admit.size()));
    stats.commands++;
    double decisionUs = (System.nanoTime() - t0) / 1e3;
    double decisionCpuUs = (THREADS.getCurrentThreadCpuTime() - cpu0) / 1e3;
    stats.recordDecision(decisionUs);
    return StepCommand.newBuilder().setEngine(engine).setEngineIndex(engineIndex).setStepSeq(seq)
        .setIssuedAtMs(now).setIssuedAtUs(issuedAtUs).setRelease(release).setEvict(evict).setPreempt(preempt).setResume(resume)
        .setAdmit(admit).setPark(park).setDecode(decode).setDecodeSteps(config.decodeSteps()).setProbe(probe)
        .setDecisionUs(decisionUs).setDecisionCpuUs(decisionCpuUs).build();
  }

  /**
   * Most padded prompt tokens the probes of one command may cost (tokens): the engine runs a command's probes as one
   * padded batch, so one long prompt among short ones makes every row as long. Without this bound a backlog of real
   * instructions (a few of hundreds of tokens) made the first commands of a 2,000-row batch cost up to a second each.
   */
  public static final int PROBE_TOKEN_BUDGET = 1024;

  /**
   * Waiting requests not embedded yet (in the queue's order when parking, oldest first when probing), while the
   * padded batch stays within {@link #PROBE_TOKEN_BUDGET}
   * (at least one), get their prompt embedded for the predictor's initial rank. With parking (the default) each is
   * <em>parked</em> while the KV has room for it beside a quarter of the capacity kept free
   * ({@link Scheduler#park}): prefilled into this command's admit list and paused, so its prefill is done once and
   * its admission later is free; the rest wait, ranked by their prompt prior's guess (without one: at their
   * max_new_tokens, in arrival order), until room frees — so TRAIL's own prediction ranks a window of waiting
   * requests as large as the KV allows, never paying a prefill twice. Parking takes them in the queue's order.
   * Without parking ({@code --no-park}) each is <em>probed</em>: a prefill whose KV is dropped, repeated at
   * admission.
   * Parked requests are added to {@code admit} and {@code park}; the probes are returned.
   */
  private List<ProbeSpec> parkOrProbe(List<AdmitSpec> admit, List<String> park) {
    List<ProbeSpec> probe = new ArrayList<>();
    // parking takes the waiting requests in the policy's order (by their prompt prior's guess under TRAIL), so
    // the KV window holds those likely to run soon; probing (--no-park) takes them oldest first
    ArrayDeque<ServedRequest> pending = config.park() ? unembeddedInRankOrder(config.probeBatch()) : unprobed;
    int longestProbe = 0; // probes run as one padded batch
    int parkTokens = 0; // parks are prefilled in length groups, so their real tokens count
    int spare = config.kvBlocks() / 4;
    while (probe.size() + park.size() < config.probeBatch() && !pending.isEmpty()) {
      ServedRequest s = pending.pollFirst(); // O(probe batch) per command, however many wait
      if (s.inEngine || s.probed || requests.get(s.request.id()) != s) {
        continue;
      }
      Request r = scheduler.request(s.request.id());
      if (r == null || r.state() != RequestState.WAITING) {
        continue; // placed (or re-queued after an engine loss) since it arrived: nothing to embed
      }
      int len = s.request.promptTokenIds().length;
      boolean parkable = config.park() && scheduler.ledger().blocksFor(len + 1) + spare <= config.kvBlocks();
      if (parkable) {
        if (!park.isEmpty() && parkTokens + len > PROBE_TOKEN_BUDGET) {
          pending.addFirst(s); // the next command takes it
          break;
        }
        if (scheduler.headBlocked() || !scheduler.park(s.request.id(), spare)) {
          pending.addFirst(s); // no room now: it waits (ranked by its prompt prior, if any) for a later try
          break;
        }
        parkTokens += len;
        s.probed = true;
        admit.add(admitSpec(s));
        park.add(s.request.id());
        s.inEngine = true;
        s.kvResident = true;
        stats.parked++;
        continue;
      }
      if (!probe.isEmpty() && (probe.size() + 1) * Math.max(longestProbe, len) > PROBE_TOKEN_BUDGET) {
        pending.addFirst(s); // the next command takes it
        break;
      }
      longestProbe = Math.max(longestProbe, len);
      s.probed = true;
      List<Integer> prompt = new ArrayList<>(len);
      for (int t : s.request.promptTokenIds()) {
        prompt.add(t);
      }
      probe.add(ProbeSpec.newBuilder().setRequestId(s.request.id()).setPromptTokenIds(prompt).build());
    }
    return probe;
  }

  /**
   * Up to {@code n} waiting requests not embedded yet, in the scheduler's queue order: O(n + the requests ahead of
   * them that are parked, preempted or evicted), which the KV bounds, however many wait.
   */
  private ArrayDeque<ServedRequest> unembeddedInRankOrder(int n) {
    ArrayDeque<ServedRequest> out = new ArrayDeque<>();
    for (Request r : scheduler.queuedView()) {
      if (out.size() >= n) {
        break;
      }
      ServedRequest s = r.state() == RequestState.WAITING ? requests.get(r.id()) : null;
      if (s != null && !s.inEngine && !s.probed) {
        out.addLast(s);
      }
    }
    return out;
  }

  private AdmitSpec admitSpec(ServedRequest s) {
    ValidatedRequest v = s.request;
    List<Integer> prompt = new ArrayList<>(v.promptTokenIds().length);
    for (int t : v.promptTokenIds()) {
      prompt.add(t);
    }
    return AdmitSpec.newBuilder().setRequestId(v.id()).setPromptTokenIds(prompt)
        .setGeneratedTokenIds(s.generatedTokens()).setMaxNewTokens(v.maxNewTokens())
        .setForcedOutputTokens(v.forcedOutputTokens())
        .setSampling(v.sampling()).setStop(v.stop()).build();
  }

  /**
   * Applies the feedback of the command in flight; returns the final responses of the requests it finished.
   * Feedback for another engine, or for a command that is not in flight (a duplicate), changes nothing.
   */
  public List<FinalResponse> apply(EngineFeedback fb, long now) {
    InFlight head = inFlight.peekFirst();
    if (!engine.equals(fb.getEngine()) || head == null || fb.getStepSeq() != head.seq || !head.answeredBy(fb)) {
      stats.staleFeedback++;
      return List.of();
    }
    inFlight.pollFirst();
    stats.recordStep(fb, now);
    if (head.voided) {
      // planned before the engine was lost: the requests were re-queued since; forget what the new engine took on
      releaseAdmitted(fb);
      if (head.issuedAtUs != 0) { // a command restored from a checkpoint may be answered by the lost engine too
        incarnation = fb.getEngineIncarnation();
      }
      return List.of();
    }
    if (incarnation != null && !incarnation.equals(fb.getEngineIncarnation())) {
      incarnation = fb.getEngineIncarnation();
      engineRestarted(fb, now);
      return List.of();
    }
    incarnation = fb.getEngineIncarnation();
    List<FinalResponse> finals = new ArrayList<>();
    Set<String> answered = new HashSet<>();
    int iterations = 0; // decode iterations the command ran: its most new tokens for one request
    int newTokens = 0;
    for (RequestProgress p : fb.getProgress()) {
      if (StepExecutor.PROBED.equals(p.getOutcome())) {
        continue; // an embedding for the predictor; the request itself is untouched
      }
      answered.add(p.getRequestId());
      ServedRequest s = requests.get(p.getRequestId());
      if (s == null) {
        continue; // e.g. the answer to a release
      }
      Request r = scheduler.request(p.getRequestId());
      int n = p.getNewTokenIds().size();
      if (n > 0) {
        if (s.firstTokenAtMs < 0) {
          s.firstTokenAtMs = fb.getFinishedAtMs();
        }
        s.append(p.getNewTokenIds(), p.getTextDelta());
        iterations = Math.max(iterations, n);
        newTokens += n;
        pendingChunks().add(ResponseChunk.newBuilder().setRequestId(s.request.id()).setEngine(engine)
            .setStepSeq(fb.getStepSeq()).setTokenIds(p.getNewTokenIds()).setText(p.getTextDelta())
            .setGenerated(s.generatedCount).setEmittedAt(Instant.ofEpochMilli(fb.getFinishedAtMs())).build());
        scheduler.lateProgress(r.id(), n); // plain progress while running; paused/evicted since, with pipelining
        if (p.getFinishReason() == null) {
          predictSynthetic(s, r.generated());
        }

      }
      boolean failed = "REJECTED".equals(p.getOutcome()) || "FAILED".equals(p.getOutcome())
          || "KV_FULL".equals(p.getOutcome()) && p.getBlocksHeld() == 0 && n == 0;
      if (p.getFinishReason() != null) {
        finals.add(finish(s, p.getFinishReason(), null, fb.getFinishedAtMs()));
      } else if (failed) {
        toRelease.add(s.request.id());
        finals.add(finish(s, FinishReason.ERROR, p.getOutcome() + ": " + p.getMessage(), fb.getFinishedAtMs()));
      }
    }
    if (fb.getError() != null) {
      // the command failed as a whole: requests it left unanswered are in an unknown state on the engine
      for (String id : head.requests) {
        ServedRequest s = requests.get(id);
        if (s != null && !answered.contains(id)) {
          toRelease.add(id);
          finals.add(finish(s, FinishReason.ERROR, fb.getError(), fb.getFinishedAtMs()));
        }
      }
    }
    Set<String> firstPredicted = new HashSet<>();
    if (!config.syntheticPredictions()) {
      for (PredictionUpdate u : fb.getPredictions()) {
        Request r = scheduler.request(u.getRequestId());
        if (r == null) {
          continue; // finished or unknown: a late prediction changes nothing
        }
        double remaining = PredictionUnderCap.remaining(u, r.maxNewTokens());
        if (!r.hasPrediction()) {
          etas().initialPrediction(remaining);
          firstPredicted.add(u.getRequestId());
        }
        scheduler.predict(u.getRequestId(), remaining, u.getGenerated());
        ServedRequest s = requests.get(u.getRequestId());
        if (s != null) {
          s.predictedP90 = u.getPredictedRemainingP90();
        }
      }
    }
    etas().commandDone(new EtaBoard.Command(fb.getIssuedAtMs(), fb.getFinishedAtMs(), fb.getBusyMs(),
        fb.getDecodeMs(), fb.getPrefillMs(), iterations, head.prefills));
    if (config.starvationBound() > 0) { // the bound's service times (NaN until measured: the last kept)
      scheduler.setTokenMs(etas().stepMs(config.maxNewTokensLimit()));
    }
    if (settings().predictiveAdmission()) {
      finals.addAll(refuseUnreachable(firstPredicted, now));
    }
    status = statusNow(now, fb.getStepSeq(), newTokens, fb.getBusyMs());
    return finals;
  }

  /**
   * Predictive admission after acceptance: a request accepted without a prediction (the model predicts once a prompt
   * is embedded, when it is parked or probed) is judged at its first prediction, and every predicted request that has
   * not joined the batch is judged again after each command; one whose ETA is past its deadline is refused —
   * released from the engine, one final response {@code rejected} — before it costs more.
   */
  private List<FinalResponse> refuseUnreachable(Set<String> firstPredicted, long now) {
    Set<String> candidates = new HashSet<>();
    for (String id : firstPredicted) {
      ServedRequest s = requests.get(id);
      Request r = scheduler.request(id);
      if (s != null && r != null && s.request.deadlineAtMs() > 0 && s.firstAdmittedAtMs < 0
          && r.state() != RequestState.RUNNING) {
        candidates.add(id); // never one that has joined the batch (it may have streamed tokens)
      }
    }
    // and every predicted request that has not joined the batch yet: under a shortest-first order the work ahead
    // of a long one grows with every short arrival, so one that was reachable when first judged may not be now
    for (ServedRequest s : requests.values()) {
      Request r = scheduler.request(s.request.id());
      if (s.request.deadlineAtMs() > 0 && s.firstAdmittedAtMs < 0 && r != null && r.hasPrediction()
          && r.state() != RequestState.RUNNING) {
        candidates.add(s.request.id());
      }
    }
    if (candidates.isEmpty()) {
      return List.of();
    }
    List<FinalResponse> refused = new ArrayList<>();
    for (var e : etas().predictedFinishAtMs(scheduler, requests, candidates, now).entrySet()) {
      ServedRequest s = requests.get(e.getKey());
      if (e.getValue() > s.request.deadlineAtMs()) {
        stats.unreachable++;
        if (s.inEngine) {
          toRelease.add(e.getKey());
        }
        etas().withdrawn(Math.min(s.request.submittedAtMs(), now));
        refused.add(finish(s, FinishReason.REJECTED, unreachable(e.getValue(), s.request), now)); // frees its KV
      }
    }
    return refused;
  }

  private static String unreachable(double finishAtMs, ValidatedRequest v) {
    return String.format(java.util.Locale.ROOT,
        "deadline-unreachable: predicted to finish %d ms after submission, its deadline is %d ms",
        Math.round(finishAtMs - v.submittedAtMs()), v.deadlineAtMs() - v.submittedAtMs());
  }

  /**
   * With {@code --predictions oracle|noisy:A,B|recorded:FILE}: the prediction after {@code generated} tokens, from
   * the request's forced output length and the simulator's error model (the same per-arrival noise as
   * {@code Simulator}, so a live run and its simulation see the same errors). The predictor's own predictions are
   * then ignored. A request without a forced length gets none (it is ranked by max_new_tokens).
   */
  private void predictSynthetic(ServedRequest s, int generated) {
    int truth = s.request.forcedOutputTokens();
    if (!config.syntheticPredictions() || truth <= 0) {
      return;
    }
    if (synthetic == null) {
      synthetic = PredictionModel.parse(config.predictions(), 1);
    }
    SimRequest sim = new SimRequest(s.request.id(), 0, s.request.promptTokenIds().length, truth);
    PredictionModel.Noise noise = synthetic.noiseFor(s.arrivalNumber);
    int cap = s.request.maxNewTokens();
    double predicted = generated == 0 ? synthetic.initial(sim, noise, cap) : synthetic.remaining(sim, noise, generated, cap);
    if (generated == 0) {
      etas().initialPrediction(predicted);
    }
    scheduler.predict(s.request.id(), predicted, generated);
  }

  /**
   * The response chunks of the tokens applied by {@link #apply} since the last call, in order; the responses topic
   * gets them from here so that streamed tokens and final responses come from the same (checkpointed) state.
   */
  public List<ResponseChunk> drainChunks() {
    List<ResponseChunk> out = chunks == null ? List.of() : chunks;
    chunks = null;
    return out;
  }

  /**
   * The ETA updates due now (first predictions, refreshes every --eta-every-ms) plus those published since the last
   * call (acceptances). Call it after the next command is out: the estimate plays the whole queue, and the engine's
   * idle time is the loop's critical path.
   */
  public List<EtaUpdate> drainEtas(long now) {
    etas().publish(scheduler, requests, null, engine, config.policy(), now);
    return etas().drain();
  }

  /** Takes the operator's current settings for what may change across a restore (see {@link #settings}). */
  public void useSettings(ServingConfig current) {
    settings = current;
    etas().setEveryMs(current.etaEveryMs());
  }

  private ServingConfig settings() {
    return settings != null ? settings : config;
  }

  /** The engine's load after the feedback applied by the last {@link #apply}, or null when it applied none. */
  public EngineStatus drainStatus() {
    EngineStatus out = status;
    status = null;
    return out;
  }

  /** The engine's load now, with the requests that left since the last status (drained). */
  private EngineStatus statusNow(long now, long stepSeq, int newTokens, double busyMs) {
    EngineStatus s = EngineStatus.newBuilder().setEngine(engine).setPolicy(config.policy())
        .setAt(Instant.ofEpochMilli(now)).setStepSeq(stepSeq).setRunning(scheduler.runningCount())
        .setWaiting(scheduler.queuedCount() - scheduler.preemptedCount()).setPreempted(scheduler.preemptedCount())
        .setKvBlocksUsed(scheduler.ledger().used()).setKvBlocksCapacity(scheduler.ledger().capacity())
        .setNewTokens(newTokens).setBusyMs(busyMs)
        .setStepMs(Double.isNaN(etas().lastStepMs()) ? null : etas().lastStepMs())
        .setPredictedWorkTokens(scheduler.predictedWork()).setPlacementsSeen(placementsSeen)
        .setEnded(ended == null ? List.of() : List.copyOf(ended)).build();
    if (ended != null) {
      ended.clear();
    }
    return s;
  }

  /**
   * A status for an engine with no command in flight whose requests left without one (refused, shed, cancelled):
   * no feedback will bring a status soon, and placement must hear of them. Null otherwise.
   */
  public EngineStatus statusIfIdle(long now) {
    if (!inFlight.isEmpty() || ended == null || ended.isEmpty()) {
      return null;
    }
    return statusNow(now, nextSeq - 1, 0, 0);
  }

  /**
   * A status for an engine that has gone quiet (nothing live, no command in flight), a moment after its last one:
   * whatever was placed on it by then is counted, for readers that cannot tell a request on its way from one that
   * never came (the overload gate). Null while it has work: its feedback brings statuses.
   */
  public EngineStatus statusIfQuiet(long now) {
    if (!idle()) {
      return null;
    }
    return statusNow(now, nextSeq - 1, 0, 0);
  }

  /** {@code v} left this engine: the next status tells placement. */
  private void left(ValidatedRequest v) {
    if (ended == null) {
      ended = new ArrayList<>();
    }
    ended.add(v.id());
  }

  private EtaBoard etas() {
    if (etas == null) { // a new or restored loop
      etas = new EtaBoard(settings().etaEveryMs(), config.maxRunning(), config.decodeSteps(), config.pipelineDepth());
    }
    return etas;
  }

  private List<ResponseChunk> pendingChunks() {
    if (chunks == null) {
      chunks = new ArrayList<>();
    }
    return chunks;
  }

  /** Gives up a command without feedback for longer than the stall timeout; true when it did. */
  public boolean giveUpStalledCommand(long now) {
    InFlight head = inFlight.peekFirst();
    if (head == null || now - head.issuedAtMs < config.stallTimeoutMs()) {
      return false;
    }
    inFlight.clear(); // their answers, should they come, are stale
    stats.stalls++;
    lose(now);
    return true;
  }

  private void engineRestarted(EngineFeedback fb, long now) {
    stats.engineRestarts++;
    releaseAdmitted(fb);
    lose(now);
    inFlight.forEach(f -> f.voided = true);
  }

  /** Requests the engine holds after a command planned for an engine that is gone: forget them there. */
  private void releaseAdmitted(EngineFeedback fb) {
    for (RequestProgress p : fb.getProgress()) {
      ServedRequest s = requests.get(p.getRequestId());
      if ("OK".equals(p.getOutcome()) && p.getBlocksHeld() > 0 && (s == null || !s.inEngine)) {
        toRelease.add(p.getRequestId()); // the new engine admitted it from a replayed command: forget it there
      }
    }
  }

  private void lose(long now) {
    scheduler.engineLost(now);
    for (ServedRequest s : requests.values()) {
      toRelease.add(s.request.id()); // harmless where the engine does not know it
      s.inEngine = false;
      s.kvResident = false;
    }
  }

  /**
   * Cancels {@code id} wherever it is — waiting, running, preempted or evicted: the scheduler and its KV ledger drop
   * it now, the engine is told to release it in the next command (the at most {@code pipelineDepth} commands already
   * in flight may still decode it; their tokens are ignored), and its one final response, {@code cancelled}, is
   * returned. Null for an id that is not in flight (unknown or finished): counted in {@link LoopStats#cancelsUnknown}.
   */
  public FinalResponse cancel(String id, String reason, long now) {
    ServedRequest s = requests.get(id);
    if (s == null) {
      stats.cancelsUnknown++;
      return null;
    }
    stats.cancelled++;
    if (s.inEngine) {
      toRelease.add(id);
    }
    scheduler.cancel(id);
    return finish(s, FinishReason.CANCELLED, reason, now);
  }

  /**
   * Cancels every request whose deadline has passed ({@code deadlineAtMs <= now}), with the error
   * {@code deadline: …}; returns their final responses.
   */
  public List<FinalResponse> expire(long now) {
    if (!deadlinesSeen) {
      return List.of(); // no request ever carried a deadline: nothing to scan on every feedback
    }
    List<String> late = new ArrayList<>();
    for (ServedRequest s : requests.values()) {
      long at = s.request.deadlineAtMs();
      if (at > 0 && at <= now) {
        late.add(s.request.id());
      }
    }
    List<FinalResponse> finals = new ArrayList<>();
    for (String id : late) {
      long budget = requests.get(id).request.deadlineAtMs() - requests.get(id).request.submittedAtMs();
      finals.add(cancel(id, "deadline: not finished within " + budget + " ms of submission", now));
      stats.deadlines++;
    }
    return finals;
  }

  /** The one final response of a request shed at submission: {@code rejected}, with the reason as its error. */
  public FinalResponse shed(ValidatedRequest v, String reason, long now) {
    return FinalResponse.newBuilder().setRequestId(v.id()).setTenant(v.tenant()).setText("")
        .setPromptTokens(v.promptTokenIds().length).setOutputTokens(0)
        .setSubmittedAt(Instant.ofEpochMilli(v.submittedAtMs())).setFirstTokenAt(Instant.ofEpochMilli(now))
        .setFinishedAt(Instant.ofEpochMilli(now)).setTtftMs(now - v.submittedAtMs())
        .setLatencyMs(now - v.submittedAtMs()).setQueueingMs(now - v.submittedAtMs()).setPreemptions(0)
        .setEvictions(0).setFinishReason(FinishReason.REJECTED).setError(reason).setEngine(engine)
        .setPolicy(config.policy()).setInitialPrediction(null).build();
  }

  private FinalResponse finish(ServedRequest s, String reason, String error, long finishedAt) {
    ValidatedRequest v = s.request;
    Request r = scheduler.request(v.id());
    requests.remove(v.id());
    scheduler.finish(v.id());
    left(v);
    long first = s.firstTokenAtMs < 0 ? finishedAt : s.firstTokenAtMs;
    stats.finished++;
    etas().finished(v.id(), s.generatedCount, FinishReason.STOP.equals(reason) || FinishReason.LENGTH.equals(reason));
    return FinalResponse.newBuilder().setRequestId(v.id()).setTenant(v.tenant()).setText(s.text.toString())
        .setPromptTokens(v.promptTokenIds().length).setOutputTokens(s.generatedCount)
        .setSubmittedAt(Instant.ofEpochMilli(v.submittedAtMs())).setFirstTokenAt(Instant.ofEpochMilli(first))
        .setFinishedAt(Instant.ofEpochMilli(finishedAt))
        .setTtftMs(first - v.submittedAtMs()).setLatencyMs(finishedAt - v.submittedAtMs())
        .setQueueingMs(s.firstAdmittedAtMs < 0 ? finishedAt - v.submittedAtMs() : s.firstAdmittedAtMs - v.submittedAtMs())
        .setPreemptions(r == null ? 0 : r.preemptions()).setEvictions(r == null ? 0 : r.evictions())
        .setFinishReason(reason).setError(error).setEngine(engine).setPolicy(config.policy())
        .setInitialPrediction(r == null || !r.hasPrediction() ? null : r.initialPrediction()).build();
  }

  // -- views for metrics and tests

  public int engineIndex() {
    return engineIndex;
  }

  public boolean idle() {
    return requests.isEmpty() && inFlight.isEmpty() && toRelease.isEmpty();
  }

  public boolean commandInFlight() {
    return !inFlight.isEmpty();
  }

  public int liveRequests() {
    return requests.size();
  }

  public int running() {
    return scheduler.runningCount();
  }

  /** Requests of tenants without a weight of their own (with --fairness tenant and weights given). */
  public long unknownTenantRequests() {
    return scheduler.shares() == null ? 0 : scheduler.shares().unknownTenantRequests();
  }

  public int preempted() {
    return scheduler.preemptedCount();
  }

  public int queued() {
    return scheduler.queuedCount();
  }

  public int kvBlocksUsed() {
    return scheduler.ledger().used();
  }

  public int kvBlocksCapacity() {
    return scheduler.ledger().capacity();
  }

  public long preemptions() {
    return scheduler.preemptions();
  }

  public long evictions() {
    return scheduler.evictions();
  }

  public LoopStats stats() {
    return stats;
  }

  public Scheduler scheduler() {
    return scheduler;
  }

  /** A command sent to the engine and not answered yet. */
  private static final class InFlight implements Serializable {
    private static final long serialVersionUID = 1L;
    final long seq;
    final long issuedAtMs; // epoch ms
    /**
     * Epoch µs, echoed by its feedback: with the number it tells this command from another run's command of the same
     * number (after a restore the numbers come round again, and the at-least-once topic re-delivers the old answers);
     * 0 when unknown (a command restored from a checkpoint, voided: any answer of its number settles it).
     */
    final long issuedAtUs;
    final List<String> requests; // decoded or admitted by it
    /** Prompts it prefills (admissions and parks; a parked request's admission later needs none). */
    final int prefills;
    /** Planned for an engine that has since been lost (restart): its answer is only used to release. */
    boolean voided;

    InFlight(long seq, long issuedAtMs, long issuedAtUs, List<String> requests, int prefills) {
      this.seq = seq;
      this.issuedAtMs = issuedAtMs;
      this.issuedAtUs = issuedAtUs;
      this.requests = requests;
      this.prefills = prefills;
    }

    /** Whether {@code fb} answers this command, not another run's command of the same number. */
    boolean answeredBy(EngineFeedback fb) {
      return issuedAtUs == 0 || fb.getIssuedAtUs() == 0 || fb.getIssuedAtUs() == issuedAtUs;
    }
  }
}
