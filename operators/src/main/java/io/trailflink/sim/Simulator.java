package io.trailflink.sim;

import io.trailflink.scheduler.Decision;
import io.trailflink.scheduler.Policy;
import io.trailflink.scheduler.Request;
import io.trailflink.scheduler.Scheduler;
import io.trailflink.scheduler.SchedulerConfig;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;

/**
 * Discrete-event simulation of one engine under continuous batching, built on exactly the {@link Scheduler} the
 * Flink operator uses. Each engine iteration: arrivals up to now are submitted; the scheduler plans the batch;
 * the iteration lasts {@link StepTimeModel#iterationMs} for its batch size and prefill work (admitted prompts and
 * recomputed evictions); every running request then produces one token — an admitted request's first token comes
 * at the end of the iteration that prefilled it. Predictions are refreshed every {@code refreshEvery} tokens.
 * When nothing is queued or running, time jumps to the next arrival.
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
   * @param quantum iterations between scheduling rounds (1 = the paper's every token; the live job's
   *     {@code --decode-steps}); a request finishing inside a quantum leaves its slot empty until the next round
   */
  public record Config(int maxRunning, int kvBlocks, int blockSize, int maxNewTokens, StepTimeModel stepTime,
      PredictionModel predictions, int refreshEvery, int quantum) {
    public Config {
      if (maxNewTokens < 1 || refreshEvery < 1 || quantum < 1) {
        throw new IllegalArgumentException("max new tokens, refresh interval and quantum must be >= 1");
      }
    }

    /** Scheduling every iteration, as the paper does. */
    public Config(int maxRunning, int kvBlocks, int blockSize, int maxNewTokens, StepTimeModel stepTime,
        PredictionModel predictions, int refreshEvery) {
      this(maxRunning, kvBlocks, blockSize, maxNewTokens, stepTime, predictions, refreshEvery, 1);
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

    Track(SimRequest sim, PredictionModel.Noise noise) {
      this.sim = sim;
      this.noise = noise;
    }
  }

  /** Simulates {@code policy} on {@code workload}; {@code onProgress} receives completed-request counts. */
  public SimResult run(Policy policy, List<SimRequest> workload, LongConsumer onProgress) {
    List<SimRequest> arrivals = new ArrayList<>(workload);
    arrivals.sort(Comparator.comparingLong(SimRequest::arrivalMs));
    Scheduler s = new Scheduler(policy, new SchedulerConfig(cfg.maxRunning(), cfg.kvBlocks(), cfg.blockSize(), 1));
    Map<String, Track> tracks = new HashMap<>();
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
    int sinceRound = 0; // iterations since the last scheduling round
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
      if (s.liveCount() == 0) {
        now = arrivals.get(next).arrivalMs();
        continue;
      }
      long t0 = System.nanoTime();
      List<Decision> decisions = List.of();
      if (sinceRound % cfg.quantum() == 0 || s.runningRequests().isEmpty()) {
        decisions = s.schedule((long) now);
        rounds++;
        sinceRound = 0;
      }
      sinceRound++;
      schedNanos += System.nanoTime() - t0;
      long prefill = 0;
      for (Decision d : decisions) {
        if (d.kind() == Decision.Kind.ADMIT
            || d.kind() == Decision.Kind.RESUME && d.reason().startsWith("recompute")) {
          prefill += s.request(d.requestId()).kvTokens();
        }
      }
      List<Request> running = s.runningRequests();
      if (running.isEmpty()) {
        if (next >= arrivals.size()) {
          throw new IllegalStateException("simulation stuck: " + s.liveCount() + " requests queued, none placeable");
        }
        now = Math.max(now, arrivals.get(next).arrivalMs());
        continue;
      }
      now += cfg.stepTime().iterationMs(running.size(), prefill);
      t0 = System.nanoTime();
      for (Request r : running) {
        Track t = tracks.get(r.id());
        s.progress(r.id(), 1);
        tokens++;
        if (t.firstTokenMs < 0) {
          t.firstTokenMs = now;
        }
        if (r.generated() >= t.sim.outputTokens()) {
          s.finish(r.id());
          tracks.remove(r.id());
          latency.add(now - t.sim.arrivalMs());
          ttft.add(t.firstTokenMs - t.sim.arrivalMs());
          onProgress.accept(latency.size());
        } else if (r.generated() % cfg.refreshEvery() == 0) {
          s.predict(r.id(), cfg.predictions().remaining(t.sim, t.noise, r.generated(), cfg.maxNewTokens()));
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
