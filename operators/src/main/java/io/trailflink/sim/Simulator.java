package io.trailflink.sim;

import io.trailflink.scheduler.Decision;
import io.trailflink.scheduler.Policy;
import io.trailflink.scheduler.Request;
import io.trailflink.scheduler.RequestState;
import io.trailflink.scheduler.Scheduler;
import io.trailflink.scheduler.SchedulerConfig;
import io.trailflink.scheduler.TenantShares;
import io.trailflink.scheduler.placement.EngineLoad;
import io.trailflink.scheduler.placement.HashPlacement;
import io.trailflink.scheduler.placement.Placement;
import io.trailflink.scheduler.placement.Rebalance;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.function.LongConsumer;

/**
 * Discrete-event simulation of engines under continuous batching, built on exactly the {@link Scheduler} the
 * Flink operator uses — one scheduler and one KV budget per engine — and the {@link Placement} the job's placement
 * operator uses to pick each arrival's engine.
 *
 * <p>An engine runs <em>commands</em>: its scheduler plans one (its batch and the prompts to prefill), and the
 * command runs {@code quantum} iterations, each lasting {@link StepTimeModel#iterationMs} for the requests of the
 * command still generating (prefill work in its first iteration). Its tokens become visible at the end of the
 * command, as the live job streams them: first tokens, finishes and prediction refreshes are stamped then. With
 * {@code depth} commands in flight the scheduler plans the next command while earlier ones run, from state that
 * lags by the commands still running (the live job's pipeline); a request it paused meanwhile still gets the
 * tokens of commands issued before. With quantum 1 and depth 1 this is the paper's model: the scheduler decides
 * every token. An engine with nothing to run waits for its next arrival. With {@link Waiting} the engine also
 * does what the live loop does with waiting requests: it parks them (prefilled, first token out, KV kept) and
 * predicts a request only once its prompt is prefilled.
 *
 * <p>Events at one instant go: commands ending then apply their tokens, arrivals up to then are placed (reading
 * every engine's load as it stands) and submitted, then every idle engine plans its next command.
 */
public final class Simulator {
  /**
   * @param maxRunning most requests in a batch (per engine)
   * @param kvBlocks KV capacity (blocks, per engine)
   * @param blockSize tokens per block
   * @param maxNewTokens requests' output cap (tokens); true lengths above it are capped
   * @param stepTime iteration cost model
   * @param predictions prediction model
   * @param refreshEvery tokens between prediction refreshes (1 = the paper's every token)
   * @param quantum iterations per command (1 = the paper's every token; the live job's {@code --decode-steps})
   * @param depth commands in flight (1, or the live job's {@code --pipeline-depth})
   * @param waiting what the engine does with waiting requests besides the scheduler's plan ({@link Waiting#NONE}:
   *     nothing, the paper's model)
   */
  public record Config(int maxRunning, int kvBlocks, int blockSize, int maxNewTokens, StepTimeModel stepTime,
      PredictionModel predictions, int refreshEvery, int quantum, int depth, Waiting waiting) {
    public Config {
      if (maxNewTokens < 1 || refreshEvery < 1 || quantum < 1 || depth < 1) {
        throw new IllegalArgumentException("max new tokens, refresh interval, quantum and depth must be >= 1");
      }
      waiting = waiting == null ? Waiting.NONE : waiting;
    }

    /** Waiting requests only wait, as in the paper's model. */
    public Config(int maxRunning, int kvBlocks, int blockSize, int maxNewTokens, StepTimeModel stepTime,
        PredictionModel predictions, int refreshEvery, int quantum, int depth) {
      this(maxRunning, kvBlocks, blockSize, maxNewTokens, stepTime, predictions, refreshEvery, quantum, depth,
          Waiting.NONE);
    }

    /** Scheduling every iteration, as the paper does. */
    public Config(int maxRunning, int kvBlocks, int blockSize, int maxNewTokens, StepTimeModel stepTime,
        PredictionModel predictions, int refreshEvery) {
      this(maxRunning, kvBlocks, blockSize, maxNewTokens, stepTime, predictions, refreshEvery, 1, 1);
    }
  }

  /**
   * What the live engine loop does with waiting requests beside the scheduler's plan, so the simulator can replay
   * it: <em>parking</em> (each command prefills up to {@code parkBatch} waiting requests, in the queue's order, into
   * KV they keep while a quarter of the KV stays free; each gets its first token then and is paused, and its
   * admission later costs no prefill), and predictions that wait for the prompt's prefill.
   *
   * @param parkBatch most waiting requests parked per command (0: no parking)
   * @param parkTokenBudget most prompt tokens parked per command (at least one request)
   * @param predictAtPrefill true: a request is first predicted when its prompt is prefilled (parked or admitted),
   *     as with the live TRAIL predictor, and ranks by its prompt prior (or its cap) until then; false: predicted on
   *     arrival (oracle, noisy)
   */
  public record Waiting(int parkBatch, int parkTokenBudget, boolean predictAtPrefill) {
    public static final Waiting NONE = new Waiting(0, 0, false);

    public Waiting {
      if (parkBatch < 0 || parkTokenBudget < 0) {
        throw new IllegalArgumentException("park batch and token budget must be >= 0");
      }
    }
  }

  private final Config cfg;

  public Simulator(Config cfg) {
    this.cfg = cfg;
  }

  /** Per-request bookkeeping. */
  private static final class Track {
    final SimRequest sim;
    final PredictionModel.Noise noise;
    double firstTokenMs = -1;
    int engineGenerated; // tokens the engine produced, including those of commands not yet ended
    boolean predicted; // the scheduler has its first prediction

    Track(SimRequest sim, PredictionModel.Noise noise) {
      this.sim = sim;
      this.noise = noise;
    }
  }

  /**
   * A planned command: the requests to decode, the waiting requests it parks (their first token only), and the
   * prompt (or recomputed) tokens to prefill first, parks included.
   */
  private record Command(List<String> decode, List<String> park, long prefillTokens) {}

  /**
   * The engines and how they share work.
   *
   * @param engines engines, each its own scheduler and KV budget
   * @param placement picks each arrival's engine from their loads
   * @param shares tenant shares each engine's scheduler keeps fresh counters of; null: no fairness
   * @param starvationBound a queued request waits at most this multiple of its predicted service time; 0 = off
   * @param rebalance when waiting requests that have not started move to a quieter engine
   */
  public record Cluster(int engines, Placement placement, TenantShares shares, double starvationBound,
      Rebalance rebalance) {
    public Cluster {
      if (engines < 1) {
        throw new IllegalArgumentException("engines must be >= 1, got " + engines);
      }
      if (!(starvationBound >= 0)) {
        throw new IllegalArgumentException("starvation bound must be >= 0, got " + starvationBound);
      }
    }

    /** Without moving waiting requests between engines. */
    public Cluster(int engines, Placement placement, TenantShares shares, double starvationBound) {
      this(engines, placement, shares, starvationBound, Rebalance.OFF);
    }

    /** One engine, the paper's set-up. */
    public static Cluster single() {
      return new Cluster(1, new HashPlacement(), null, 0);
    }

    /** {@code engines} engines placed by {@code placement}, without fairness or a starvation bound. */
    public static Cluster of(int engines, Placement placement) {
      return new Cluster(engines, placement, null, 0);
    }

    /** How the results name this placement: the placement, and the rebalance threshold when moving is on. */
    public String placementLabel() {
      return placement.name() + (rebalance.on() ? "+rebalance:" + rebalance.threshold() : "");
    }
  }

  /** Simulates {@code policy} on one engine. */
  public SimResult run(Policy policy, List<SimRequest> workload, LongConsumer onProgress) {
    return run(policy, Cluster.single(), workload, onProgress);
  }

  /** Simulates {@code cluster}'s engines, each scheduling with {@code policy}; {@code onProgress} receives completed-request counts. */
  public SimResult run(Policy policy, Cluster cluster, List<SimRequest> workload, LongConsumer onProgress) {
    return new Run(policy, cluster, onProgress).run(workload);
  }

  /** One simulation: the engines, the shared clock and the figures. */
  private final class Run {
    final Placement placement;
    final Rebalance rebalance;
    final String placementLabel;
    final String policyName;
    final Engine[] engines;
    final LongConsumer onProgress;
    final List<Double> latency = new ArrayList<>();
    final List<Double> ttft = new ArrayList<>();
    final List<String> tenantOf = new ArrayList<>();
    final PriorityQueue<Engine> busy = new PriorityQueue<>(Comparator.comparingDouble((Engine e) -> e.busyUntil)
        .thenComparingInt(e -> e.index));
    int rejected;
    long tokens;
    long rounds;
    long schedNanos;
    long order;
    long moves;

    Run(Policy policy, Cluster cluster, LongConsumer onProgress) {
      this.placement = cluster.placement();
      this.rebalance = cluster.rebalance();
      this.placementLabel = cluster.placementLabel();
      int n = cluster.engines();
      this.policyName = policy.name();
      this.onProgress = onProgress;
      this.engines = new Engine[n];
      for (int i = 0; i < n; i++) {
        Scheduler s = new Scheduler(policy, new SchedulerConfig(cfg.maxRunning(), cfg.kvBlocks(), cfg.blockSize(),
            cfg.quantum() * cfg.depth()), cluster.shares() == null ? null : cluster.shares().fresh());
        s.setStarvationBound(cluster.starvationBound());
        engines[i] = new Engine(i, s);
      }
    }

    SimResult run(List<SimRequest> workload) {
      List<SimRequest> arrivals = new ArrayList<>(workload);
      arrivals.sort(Comparator.comparingLong(SimRequest::visibleMs)); // the order the scheduler sees them in
      double now = arrivals.isEmpty() ? 0 : arrivals.get(0).visibleMs();
      double start = arrivals.stream().mapToLong(SimRequest::arrivalMs).min().orElse(0);
      int next = 0;
      List<EngineLoad> loads = new ArrayList<>(engines.length);
      java.util.BitSet touched = new java.util.BitSet(engines.length); // engines whose state changed at this instant
      while (next < arrivals.size() || !busy.isEmpty()) {
        double nextArrival = next < arrivals.size() ? arrivals.get(next).visibleMs() : Double.POSITIVE_INFINITY;
        now = busy.isEmpty() ? nextArrival : Math.min(nextArrival, busy.peek().busyUntil);
        touched.clear();
        while (!busy.isEmpty() && busy.peek().busyUntil <= now) {
          Engine e = busy.poll();
          e.complete(now);
          touched.set(e.index);
        }
        while (next < arrivals.size() && arrivals.get(next).visibleMs() <= now) {
          SimRequest a = arrivals.get(next++);
          Engine e = engines.length == 1 ? engines[0] : engines[place(a, loads)];
          e.submit(a, next, now);
          touched.set(e.index);
        }
        if (rebalance.on()) {
          rebalance(loads, touched);
        }
        // an engine nothing happened to has nothing new to plan (an idle one with requests cannot place them)
        for (int i = touched.nextSetBit(0); i >= 0; i = touched.nextSetBit(i + 1)) {
          Engine e = engines[i];
          if (!e.running && e.start(now)) {
            busy.add(e);
          }
        }
      }
      for (Engine e : engines) {
        if (e.s.liveCount() > 0) {
          throw new IllegalStateException("simulation stuck: " + e.s.liveCount() + " requests queued on engine "
              + e.index + ", none placeable");
        }
      }
      long preemptions = 0;
      long evictions = 0;
      int peakKv = 0;
      for (Engine e : engines) {
        preemptions += e.s.preemptions();
        evictions += e.s.evictions();
        peakKv = Math.max(peakKv, e.s.ledger().peak());
      }
      return new SimResult(policyName, toArray(latency), toArray(ttft), rejected, now - start, tokens, preemptions,
          evictions, peakKv, rounds, schedNanos, tenantOf.toArray(String[]::new), engines.length, placementLabel, moves);
    }

    /**
     * Moves waiting requests that have not started from crowded engines to quiet ones until {@link #rebalance} is
     * satisfied (timed with the scheduler); the engines involved are marked {@code touched} so that they plan again.
     */
    void rebalance(List<EngineLoad> loads, java.util.BitSet touched) {
      long t0 = System.nanoTime();
      loads.clear();
      for (Engine e : engines) {
        loads.add(e.s.load());
      }
      Rebalance.Move m;
      while ((m = rebalance.next(loads, i -> engines[i].s.lastWaiting() != null)) != null) {
        engines[m.from()].moveTo(engines[m.to()]);
        moves++;
        loads.set(m.from(), engines[m.from()].s.load());
        loads.set(m.to(), engines[m.to()].s.load());
        touched.set(m.from());
        touched.set(m.to());
      }
      schedNanos += System.nanoTime() - t0;
    }

    /** The engine for {@code a}, chosen from every engine's load as it stands (timed with the scheduler). */
    int place(SimRequest a, List<EngineLoad> loads) {
      long t0 = System.nanoTime();
      loads.clear();
      for (Engine e : engines) {
        loads.add(e.s.load());
      }
      // as in the job, nothing is predicted before the request reaches its engine: it counts as its cap
      int chosen = placement.choose(a.id(), cfg.maxNewTokens(), loads);
      schedNanos += System.nanoTime() - t0;
      return chosen;
    }

    /** One engine: its scheduler, its commands in flight and the command it is running. */
    final class Engine {
      final int index;
      final Scheduler s;
      final Map<String, Track> tracks = new HashMap<>();
      final ArrayDeque<Command> inFlight = new ArrayDeque<>();
      final java.util.Set<String> probed = new java.util.HashSet<>(); // too long to park: predicted as if probed
      Map<String, Integer> produced = Map.of(); // tokens of the command running, visible when it ends
      double busyUntil;
      boolean running;

      Engine(int index, Scheduler s) {
        this.index = index;
        this.s = s;
      }

      /** {@code a}, the {@code arrivalIndex}-th arrival (1-based: it seeds its prediction noise), at {@code now}. */
      void submit(SimRequest a, int arrivalIndex, double now) {
        int out = Math.min(a.outputTokens(), cfg.maxNewTokens());
        SimRequest capped = new SimRequest(a.id(), a.arrivalMs(), a.promptTokens(), out, a.tenant(), a.promptPrior(),
            a.hopMs());
        Request r = new Request(a.id(), a.arrivalMs(), order++, a.promptTokens(), cfg.maxNewTokens(), out,
            a.tenant());
        r.setPromptPrior(a.promptPrior());
        long t0 = System.nanoTime();
        Decision d = s.submit(r, (long) now);
        if (d.kind() == Decision.Kind.REJECT) {
          rejected++;
          schedNanos += System.nanoTime() - t0;
          return;
        }
        Track t = new Track(capped, cfg.predictions().noiseFor(arrivalIndex));
        tracks.put(a.id(), t);
        if (!cfg.waiting().predictAtPrefill()) {
          s.predict(a.id(), cfg.predictions().initial(capped, t.noise, cfg.maxNewTokens()));
          t.predicted = true;
        }
        schedNanos += System.nanoTime() - t0;
      }

      /** Moves this engine's last waiting request, with its track, to {@code other}'s queue. */
      void moveTo(Engine other) {
        Request r = s.withdraw(s.lastWaiting().id());
        if (other.s.adopt(r).kind() != Decision.Kind.ACCEPT) { // engines share one config: it always fits
          throw new IllegalStateException("engine " + other.index + " refused " + r.id() + " moved to it");
        }
        other.tracks.put(r.id(), tracks.remove(r.id()));
        if (probed.remove(r.id())) {
          other.probed.add(r.id());
        }
      }

      /**
       * Plans until the pipeline is full (the first plans of a busy spell see the same state, as live) and starts
       * the oldest command: its requests decode until they reach their length or the quantum ends. False when
       * there is nothing to run.
       */
      boolean start(double now) {
        while (inFlight.size() < cfg.depth()) {
          long t0 = System.nanoTime();
          List<Decision> decisions = s.schedule((long) now);
          rounds++;
          long prefill = 0;
          for (Decision d : decisions) {
            if (d.kind() == Decision.Kind.ADMIT
                || d.kind() == Decision.Kind.RESUME && d.reason().startsWith("recompute")) {
              prefill += s.request(d.requestId()).kvTokens();
            }
          }
          List<String> decode = new ArrayList<>();
          for (Request r : s.runningRequests()) {
            decode.add(r.id());
          }
          List<String> park = park();
          for (String id : park) {
            prefill += s.request(id).promptTokens();
          }
          schedNanos += System.nanoTime() - t0;
          if (decode.isEmpty() && park.isEmpty()) {
            break;
          }
          inFlight.add(new Command(decode, park, prefill));
        }
        Command c = inFlight.poll();
        if (c == null) {
          return false;
        }
        Map<String, Integer> made = new LinkedHashMap<>();
        for (String id : c.park()) { // a parked request's prefill gives its first token
          Track t = tracks.get(id);
          if (t != null && t.engineGenerated == 0) {
            t.engineGenerated = 1;
            made.put(id, 1);
          }
        }
        double end = now;
        int iterations = 0;
        for (int it = 0; it < cfg.quantum(); it++) {
          int batch = 0;
          long context = 0;
          for (String id : c.decode()) {
            Track t = tracks.get(id);
            if (t != null && t.engineGenerated < t.sim.outputTokens()) {
              context += t.sim.promptTokens() + t.engineGenerated;
              t.engineGenerated++;
              made.merge(id, 1, Integer::sum);
              batch++;
            }
          }
          if (batch == 0) {
            break;
          }
          end += cfg.stepTime().iterationMs(batch, it == 0 ? c.prefillTokens() : 0, context);
          iterations++;
        }
        if (iterations > 0) {
          s.setTokenMs((end - now) / iterations); // as the job learns it: each command's time per iteration
        } else if (c.prefillTokens() > 0) {
          end += cfg.stepTime().iterationMs(0, c.prefillTokens(), 0); // parks only
        }
        if (iterations > 0 || c.prefillTokens() > 0) {
          end += cfg.stepTime().perCommandMs(); // the loop's gap between two commands
        }
        produced = made;
        busyUntil = end;
        running = true;
        return true;
      }

      /**
       * Parks waiting requests as the live loop does (see {@link Waiting}): in the queue's order, up to the batch and
       * the token budget, while each fits the KV beside a quarter kept free and the queue's head is not blocked.
       */
      List<String> park() {
        Waiting w = cfg.waiting();
        if (w.parkBatch() == 0) {
          return List.of();
        }
        List<Request> candidates = new ArrayList<>();
        for (Request r : s.queuedView()) {
          if (candidates.size() >= w.parkBatch()) {
            break;
          }
          if (r.state() == RequestState.WAITING && !probed.contains(r.id())) {
            candidates.add(r);
          }
        }
        int spare = cfg.kvBlocks() / 4;
        int tokens = 0;
        List<String> out = new ArrayList<>();
        for (Request r : candidates) {
          int len = r.promptTokens();
          if (s.ledger().blocksFor(len + 1) + spare > cfg.kvBlocks()) {
            // the live loop probes it instead (a prefill whose KV is dropped; its time is not simulated): predicted
            probed.add(r.id());
            Track t = tracks.get(r.id());
            if (t != null && !t.predicted) {
              s.predict(r.id(), cfg.predictions().initial(t.sim, t.noise, cfg.maxNewTokens()), 0);
              t.predicted = true;
            }
            continue;
          }
          if (!out.isEmpty() && tokens + len > w.parkTokenBudget()) {
            break;
          }
          if (s.headBlocked() || !s.park(r.id(), spare)) {
            break;
          }
          tokens += len;
          out.add(r.id());
        }
        return out;
      }

      /** The running command ends at {@code now}: its tokens reach the scheduler. */
      void complete(double now) {
        running = false;
        long t0 = System.nanoTime();
        for (Map.Entry<String, Integer> e : produced.entrySet()) {
          String id = e.getKey();
          Track t = tracks.get(id);
          Request r = s.request(id);
          int before = r.generated();
          s.lateProgress(id, e.getValue());
          tokens += e.getValue();
          if (t.firstTokenMs < 0) {
            t.firstTokenMs = now;
          }
          if (r.generated() >= t.sim.outputTokens()) {
            s.finish(id);
            tracks.remove(id);
            probed.remove(id);
            latency.add(now - t.sim.arrivalMs());
            ttft.add(t.firstTokenMs - t.sim.arrivalMs());
            tenantOf.add(t.sim.tenant());
            onProgress.accept(latency.size());
          } else {
            if (!t.predicted) { // the prompt's prefill (a park or an admission) gave the first prediction
              s.predict(id, cfg.predictions().initial(t.sim, t.noise, cfg.maxNewTokens()), 0);
              t.predicted = true;
            }
            if (r.generated() / cfg.refreshEvery() > before / cfg.refreshEvery()) {
              s.predict(id, cfg.predictions().remaining(t.sim, t.noise, r.generated(), cfg.maxNewTokens()));
            }
          }
        }
        produced = Map.of();
        schedNanos += System.nanoTime() - t0;
      }
    }
  }

  private static double[] toArray(List<Double> l) {
    return l.stream().mapToDouble(Double::doubleValue).toArray();
  }
}
