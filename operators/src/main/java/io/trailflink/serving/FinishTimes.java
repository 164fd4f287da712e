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
    int batch = Math.max(1, slots);
    double[] out = new double[running.size() + queued.size()];
    PriorityQueue<Double> free = new PriorityQueue<>(Math.max(batch, running.size()) + 1);
    for (int i = 0; i < running.size(); i++) {
      out[i] = Math.max(1, running.get(i)) * stepMs;
      free.add(out[i]);
    }
    while (free.size() > batch) {
      free.poll(); // more running than the slots we assume: the earliest to finish are not a slot's last user
    }
    while (free.size() < batch) {
      free.add(0.0);
    }
    for (int j = 0; j < queued.size(); j++) {
      double start = free.poll();
      double end = start + Math.max(1, queued.get(j)) * stepMs;
      out[running.size() + j] = end;
      free.add(end);
    }
    return out;
  }
}
