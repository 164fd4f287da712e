package io.trailflink.serving;

import java.util.List;
import java.util.PriorityQueue;

/**
 * When each of an engine's requests is expected to finish, from the work predicted for it and for everything the
 * active policy serves first: the running batch decodes side by side, one token per request per iteration, and
 * each queued request, in the policy's order, takes the first batch slot to free up. Plain arithmetic over
 * predictions; the caller supplies them and the engine's measured iteration time.
 */
public final class FinishTimes {
  private FinishTimes() {}

  /**
   * Finish offsets from now (ms), running requests first then queued ones, in the order given.
   *
   * @param running remaining output of each request in the batch (tokens)
   * @param queued remaining output of each queued request, in the policy's order (tokens)
   * @param slots requests decoding side by side (at least 1)
   * @param stepMs wall time of one decode iteration (ms)
   */
  public static double[] offsetsMs(List<Double> running, List<Double> queued, int slots, double stepMs) {
    return offsetsMs(running, queued, slots, stepMs, null, 0);
  }

  /** Longest wait an estimate reports (ms). */
  static final double STARVED_MS = 3_600_000;

  /**
   * As {@link #offsetsMs(List, List, int, double)}, with requests that arrive later and go ahead of a queued one. Its
   * wait {@code W0} (until a slot frees, from the work queued now) grows by the work that arrives ahead of it while
   * it waits: {@code W = W0 + load[j] · min(W, horizon)}, where {@code load[j]} is the share of the engine's token
   * rate that arrivals ranked ahead of it take (the busy-period argument of an M/G/1 queue under shortest-first,
   * {@code W = W0 / (1 - load)}), and the arrivals are expected to go on for {@code horizonMs} — as long as they have
   * gone on so far — not forever, so an overload that has lasted seconds does not predict hours.
   *
   * @param aheadLoad per queued request, the load of arrivals ranked ahead of it (0 = none); null = no arrivals
   * @param horizonMs how much longer the arrivals are expected to last (ms)
   */
  public static double[] offsetsMs(List<Double> running, List<Double> queued, int slots, double stepMs,
      double[] aheadLoad, double horizonMs) {
    return offsetsMs(running, queued, slots, stepMs, aheadLoad, horizonMs, 0);
  }

  /**
   * As {@link #offsetsMs(List, List, int, double, double[], double)}, with a slot left empty for
   * {@code gapIterations} after each request ends before the next one takes it: the engine decodes in quanta of
   * several iterations and the next command is planned before the last one's answers are in, so a finished
   * request's slot is refilled only a command or two later.
   */
  public static double[] offsetsMs(List<Double> running, List<Double> queued, int slots, double stepMs,
      double[] aheadLoad, double horizonMs, double gapIterations) {
    int batch = Math.max(1, slots);
    double gapMs = Math.max(0, gapIterations) * stepMs;
    double[] out = new double[running.size() + queued.size()];
    PriorityQueue<Double> free = new PriorityQueue<>(Math.max(batch, running.size()) + 1);
    for (int i = 0; i < running.size(); i++) {
      out[i] = Math.max(1, running.get(i)) * stepMs;
      free.add(out[i] + gapMs);
    }
    while (free.size() > batch) {
      free.poll(); // more running than the slots we assume: the earliest to finish are not a slot's last user
    }
    while (free.size() < batch) {
      free.add(0.0);
    }
    for (int j = 0; j < queued.size(); j++) {
      double start = free.poll();
      double work = Math.max(1, queued.get(j)) * stepMs;
      double end = start + work;
      free.add(end + gapMs); // the schedule of the work queued now
      double load = aheadLoad == null ? 0 : aheadLoad[j];
      double wait = load < 1 && start / (1 - load) <= horizonMs ? start / (1 - load) : start + load * horizonMs;
      out[running.size() + j] = Math.min(STARVED_MS, wait + work);
    }
    return out;
  }
}
