package io.trailflink.job;

import io.trailflink.schema.EngineFeedback;
import io.trailflink.schema.PredictionUpdate;
import io.trailflink.schema.RequestProgress;
import io.trailflink.serving.PredictionUnderCap;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;

/**
 * Progress of an offline batch and its ETA from TRAIL's own predictions: the predicted remaining tokens of every row
 * not yet done (the latest prediction the engine published for it, capped at what its max_new_tokens leaves; for a
 * row with none yet, the prompt prior's guess, else the mean length of the rows finished so far, else half its
 * cap) divided by the token rate measured over the last {@link #WINDOW_MS}. Fed from the predictions topic;
 * thread-safe.
 */
public final class BatchProgress {
  static final long WINDOW_MS = 30_000;

  private final Map<String, Integer> caps = new HashMap<>(); // max_new_tokens of rows not done
  private final Map<String, Double> predicted = new HashMap<>(); // latest predicted remaining (tokens)
  private final Map<String, Double> guesses = new HashMap<>(); // the prompt prior's total, before any prediction
  private final Map<String, Integer> generated = new HashMap<>(); // tokens generated so far
  private final Deque<long[]> tokenTimes = new ArrayDeque<>(); // (epoch ms, tokens) per engine step
  private long tokens; // generated in all
  private long finishedTokens;
  private int finished;
  private final EngineTime engineTime = new EngineTime();

  /**
   * Where the engine's time went, summed over its commands (ms): the figures that tell a batch's throughput loss
   * in the loop (busy fraction below 1), in CPU contention (CPU over busy below 1) or in extra work (probes).
   */
  public static final class EngineTime {
    public long commands;
    public double busyMs;
    public double cpuMs;
    public double prefillMs;
    public double probeMs;
    public double decodeMs;
    public long firstIssuedAtMs = Long.MAX_VALUE;
    public long lastFinishedAtMs;

    /** One run of timed engine calls (a direct batch): prefill and decode time (ms) between two epoch-ms times. */
    public static EngineTime of(double prefillMs, double decodeMs, double cpuMs, long startMs, long endMs) {
      EngineTime t = new EngineTime();
      t.commands = 1;
      t.prefillMs = prefillMs;
      t.decodeMs = decodeMs;
      t.busyMs = prefillMs + decodeMs;
      t.cpuMs = cpuMs;
      t.firstIssuedAtMs = startMs;
      t.lastFinishedAtMs = endMs;
      return t;
    }

    EngineTime copy() {
      EngineTime c = new EngineTime();
      c.commands = commands;
      c.busyMs = busyMs;
      c.cpuMs = cpuMs;
      c.prefillMs = prefillMs;
      c.probeMs = probeMs;
      c.decodeMs = decodeMs;
      c.firstIssuedAtMs = firstIssuedAtMs;
      c.lastFinishedAtMs = lastFinishedAtMs;
      return c;
    }

    void add(EngineFeedback fb) {
      commands++;
      busyMs += fb.getBusyMs();
      cpuMs += fb.getCpuMs();
      prefillMs += fb.getPrefillMs();
      probeMs += fb.getProbeMs();
      decodeMs += fb.getDecodeMs();
      if (fb.getIssuedAtMs() > 0) {
        firstIssuedAtMs = Math.min(firstIssuedAtMs, fb.getIssuedAtMs());
      }
      lastFinishedAtMs = Math.max(lastFinishedAtMs, fb.getFinishedAtMs());
    }

    /** Busy time over the span from the first command issued to the last step finished (NaN with none). */
    public double busyFraction() {
      long span = lastFinishedAtMs - firstIssuedAtMs;
      return commands == 0 || span <= 0 ? Double.NaN : busyMs / span;
    }
  }

  /** A row to track until {@link #done}. */
  public synchronized void pending(String id, int maxNewTokens) {
    caps.put(id, maxNewTokens);
  }

  /** A row to track, with the prompt prior's guess of its length (tokens; NaN = none) until a prediction comes. */
  public synchronized void pending(String id, int maxNewTokens, double guess) {
    caps.put(id, maxNewTokens);
    if (!Double.isNaN(guess)) {
      guesses.put(id, guess);
    }
  }

  /** The row's output is written. */
  public synchronized void done(String id, int outputTokens) {
    if (caps.remove(id) != null) {
      finished++;
      finishedTokens += outputTokens;
    }
    predicted.remove(id);
    guesses.remove(id);
    generated.remove(id);
  }

  /** One engine step's facts: new tokens and refreshed predictions. */
  public synchronized void feedback(EngineFeedback fb, long nowMs) {
    long stepTokens = 0;
    for (RequestProgress p : fb.getProgress()) {
      stepTokens += p.getNewTokenIds().size();
      if (caps.containsKey(p.getRequestId())) {
        generated.put(p.getRequestId(), p.getGenerated());
      }
    }
    for (PredictionUpdate u : fb.getPredictions()) {
      if (caps.containsKey(u.getRequestId())) {
        predicted.put(u.getRequestId(), PredictionUnderCap.remaining(u, caps.get(u.getRequestId())));
      }
    }
    engineTime.add(fb);
    tokens += stepTokens;
    tokenTimes.addLast(new long[] {nowMs, stepTokens});
    while (!tokenTimes.isEmpty() && tokenTimes.peekFirst()[0] < nowMs - WINDOW_MS) {
      tokenTimes.removeFirst();
    }
  }

  /** Tokens a run without engine feedback (direct) reports as its rows finish. */
  public synchronized void tokensGenerated(long n, long nowMs) {
    tokens += n;
    tokenTimes.addLast(new long[] {nowMs, n});
    while (!tokenTimes.isEmpty() && tokenTimes.peekFirst()[0] < nowMs - WINDOW_MS) {
      tokenTimes.removeFirst();
    }
  }

  /** Tokens per second over the last window (0 before two steps). */
  public synchronized double tokensPerSecond(long nowMs) {
    if (tokenTimes.size() < 2) {
      return 0;
    }
    long span = Math.max(1, nowMs - tokenTimes.peekFirst()[0]);
    long n = tokenTimes.stream().mapToLong(t -> t[1]).sum();
    return n * 1000.0 / span;
  }

  /** Predicted tokens still to generate for every row not done. */
  public synchronized double predictedRemainingTokens() {
    double meanLength = finished > 0 ? (double) finishedTokens / finished : -1;
    double sum = 0;
    for (Map.Entry<String, Integer> e : caps.entrySet()) {
      int gen = generated.getOrDefault(e.getKey(), 0);
      int left = Math.max(0, e.getValue() - gen);
      Double p = predicted.get(e.getKey());
      Double prior = guesses.get(e.getKey());
      double guess = p != null ? p : prior != null ? Math.max(0, prior - gen)
          : meanLength >= 0 ? Math.max(0, meanLength - gen) : left / 2.0;
      sum += Math.min(left, guess);
    }
    return sum;
  }

  /** Seconds to go at the measured rate, or NaN before a rate is known. */
  public synchronized double etaSeconds(long nowMs) {
    double rate = tokensPerSecond(nowMs);
    return rate > 0 ? predictedRemainingTokens() / rate : Double.NaN;
  }

  /** The engine's time so far (a copy), from the feedback of every command. */
  public synchronized EngineTime engineTime() {
    return engineTime.copy();
  }

  public synchronized long tokens() {
    return tokens;
  }
}
