package io.trailflink.sim;

import io.trailflink.scheduler.Decision;
import io.trailflink.scheduler.Policy;
import io.trailflink.scheduler.Request;
import io.trailflink.scheduler.Scheduler;
import io.trailflink.scheduler.SchedulerConfig;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;

/**
 * Discrete-event simulation of one engine under continuous batching, built on exactly the {@link Scheduler} the
 * Flink operator uses. The engine runs <em>commands</em>: the scheduler plans one (its batch and the prompts to
 * prefill), and the command runs {@code quantum} iterations, each lasting {@link StepTimeModel#iterationMs} for
 * the requests of the command still generating (prefill work in its first iteration). Its tokens become visible
 * at the end of the command, as the live job streams them: first tokens, finishes and prediction refreshes are
 * stamped then. With {@code depth} commands in flight the scheduler plans the next command while earlier ones
 * run, from state that lags by the commands still running (the live job's pipeline); a request it paused
 * meanwhile still gets the tokens of commands issued before. With quantum 1 and depth 1 this is the paper's
 * model: the scheduler decides every token. When nothing is queued or running, time jumps to the next arrival.
 */
public final class Simulator {
  /**
   * @param maxRunning most requests in a batch
   * @param kvBlocks KV capacity (blocks)
   * @param blockSize tokens per block
   * @param maxNewTokens requests' output cap (tokens); true lengths above it are capped
   * @param stepTime iteration cost model
   * @param predictions prediction model
   * @param refreshEvery tokens between prediction refreshes (1 = the paper's every token)
   * @param quantum iterations per command (1 = the paper's every token; the live job's {@code --decode-steps})
   * @param depth commands in flight (1, or the live job's {@code --pipeline-depth})
   */
  public record Config(int maxRunning, int kvBlocks, int blockSize, int maxNewTokens, StepTimeModel stepTime,
      PredictionModel predictions, int refreshEvery, int quantum, int depth) {
    public Config {
      if (maxNewTokens < 1 || refreshEvery < 1 || quantum < 1 || depth < 1) {
        throw new IllegalArgumentException("max new tokens, refresh interval, quantum and depth must be >= 1");
      }
    }

    /** Scheduling every iteration, as the paper does. */
    public Config(int maxRunning, int kvBlocks, int blockSize, int maxNewTokens, StepTimeModel stepTime,
        PredictionModel predictions, int refreshEvery) {
      this(maxRunning, kvBlocks, blockSize, maxNewTokens, stepTime, predictions, refreshEvery, 1, 1);
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

    Track(SimRequest sim, PredictionModel.Noise noise) {
      this.sim = sim;
      this.noise = noise;
    }
  }

  /** A planned command: the requests to decode and the prompt (or recomputed) tokens to prefill first. */
  private record Command(List<String> decode, long prefillTokens) {}

  /** Simulates {@code policy} on {@code workload}; {@code onProgress} receives completed-request counts. */
  public SimResult run(Policy policy, List<SimRequest> workload, LongConsumer onProgress) {
    List<SimRequest> arrivals = new ArrayList<>(workload);
    arrivals.sort(Comparator.comparingLong(SimRequest::arrivalMs));
    Scheduler s = new Scheduler(policy, new SchedulerConfig(cfg.maxRunning(), cfg.kvBlocks(), cfg.blockSize(),
        cfg.quantum() * cfg.depth()));
    Map<String, Track> tracks = new HashMap<>();
    ArrayDeque<Command> inFlight = new ArrayDeque<>();
    List<Double> latency = new ArrayList<>();
    List<Double> ttft = new ArrayList<>();
    int rejected = 0;
    long tokens = 0;
    long rounds = 0;
    long schedNanos = 0;
    double now = arrivals.isEmpty() ? 0 : arrivals.get(0).arrivalMs();
    double start = now;
    int next = 0;
    long order = 0;
    while (next < arrivals.size() || s.liveCount() > 0) {
      while (next < arrivals.size() && arrivals.get(next).arrivalMs() <= now) {
        SimRequest a = arrivals.get(next++);
        int out = Math.min(a.outputTokens(), cfg.maxNewTokens());
        SimRequest capped = new SimRequest(a.id(), a.arrivalMs(), a.promptTokens(), out);
        Request r = new Request(a.id(), a.arrivalMs(), order++, a.promptTokens(), cfg.maxNewTokens(), out);
        long t0 = System.nanoTime();
        Decision d = s.submit(r, (long) now);
        if (d.kind() == Decision.Kind.REJECT) {
          rejected++;
          schedNanos += System.nanoTime() - t0;
          continue;
        }
        Track t = new Track(capped, cfg.predictions().noiseFor(next));
        tracks.put(a.id(), t);
        s.predict(a.id(), cfg.predictions().initial(capped, t.noise, cfg.maxNewTokens()));
        schedNanos += System.nanoTime() - t0;
      }
      // plan until the pipeline is full (the first plans of a busy spell see the same state, as live)
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
        schedNanos += System.nanoTime() - t0;
        if (decode.isEmpty()) {
          break;
        }
        inFlight.add(new Command(decode, prefill));
      }
      if (inFlight.isEmpty()) {
        if (next >= arrivals.size()) {
          throw new IllegalStateException("simulation stuck: " + s.liveCount() + " requests queued, none placeable");
        }
        now = Math.max(now, arrivals.get(next).arrivalMs());
        continue;
      }
      // run the oldest command: its requests decode until they reach their length or the quantum ends
      Command c = inFlight.poll();
      Map<String, Integer> produced = new LinkedHashMap<>();
      for (int it = 0; it < cfg.quantum(); it++) {
        int batch = 0;
        long context = 0;
        for (String id : c.decode()) {
          Track t = tracks.get(id);
          if (t != null && t.engineGenerated < t.sim.outputTokens()) {
            context += t.sim.promptTokens() + t.engineGenerated;
            t.engineGenerated++;
            produced.merge(id, 1, Integer::sum);
            batch++;
          }
        }
        if (batch == 0) {
          break;
        }
        now += cfg.stepTime().iterationMs(batch, it == 0 ? c.prefillTokens() : 0, context);
      }
      // its tokens reach the scheduler when it ends
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
          latency.add(now - t.sim.arrivalMs());
          ttft.add(t.firstTokenMs - t.sim.arrivalMs());
          onProgress.accept(latency.size());
        } else if (r.generated() / cfg.refreshEvery() > before / cfg.refreshEvery()) {
          s.predict(id, cfg.predictions().remaining(t.sim, t.noise, r.generated(), cfg.maxNewTokens()));
        }
      }
      schedNanos += System.nanoTime() - t0;
    }
    return new SimResult(policy.name(), toArray(latency), toArray(ttft), rejected, now - start, tokens,
        s.preemptions(), s.evictions(), s.ledger().peak(), rounds, schedNanos);
  }

  private static double[] toArray(List<Double> l) {
    return l.stream().mapToDouble(Double::doubleValue).toArray();
  }
}
