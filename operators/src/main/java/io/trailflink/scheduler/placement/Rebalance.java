package io.trailflink.scheduler.placement;

import java.util.Comparator;
import java.util.List;
import java.util.function.IntPredicate;

/**
 * Moves waiting requests that have not started (no KV to move) from a crowded engine to a quiet one, when the
 * imbalance passes a threshold. An engine's queue is its live requests that are not running: they wait for a slot
 * or, where KV binds, for memory. A request moves from the engine with the longest queue that holds a movable
 * request to the one with the shortest (ties: fewer running, then more free KV), while the two queues differ by more
 * than {@code threshold} (a move narrows the gap by two, so a threshold of 1 balances fully and larger ones tolerate
 * more before moving). Plain Java, stateless.
 *
 * @param threshold the largest queue gap left alone (requests); 0 turns moving off
 */
public record Rebalance(int threshold) implements java.io.Serializable {
  public static final Rebalance OFF = new Rebalance(0);

  /** The quietest engine first: the shortest queue, then the fewest running, then the most free KV. */
  private static final Comparator<EngineLoad> QUIETER = Comparator.comparingInt(Rebalance::queued)
      .thenComparingInt(EngineLoad::running)
      .thenComparing(Comparator.comparingInt(EngineLoad::kvFreeBlocks).reversed());

  public Rebalance {
    if (threshold < 0) {
      throw new IllegalArgumentException("rebalance threshold must be >= 0 (0 = off), got " + threshold);
    }
  }

  public boolean on() {
    return threshold > 0;
  }

  /** A move: one waiting request from engine {@code from} to engine {@code to}. */
  public record Move(int from, int to) {}

  /**
   * The next move for these loads, or null when the engines are balanced within the threshold.
   *
   * @param loads one per engine
   * @param hasMovable whether engine i holds a waiting request that has not started
   */
  public Move next(List<EngineLoad> loads, IntPredicate hasMovable) {
    if (!on() || loads.size() < 2) {
      return null;
    }
    int from = -1;
    int to = -1;
    for (int i = 0; i < loads.size(); i++) {
      if (hasMovable.test(i) && (from < 0 || queued(loads.get(i)) > queued(loads.get(from)))) {
        from = i;
      }
      if (to < 0 || QUIETER.compare(loads.get(i), loads.get(to)) < 0) {
        to = i;
      }
    }
    if (from < 0 || from == to || queued(loads.get(from)) - queued(loads.get(to)) <= threshold) {
      return null;
    }
    return new Move(from, to);
  }

  /** Live requests not in the batch: waiting, preempted or evicted. */
  private static int queued(EngineLoad l) {
    return l.requests() - l.running();
  }
}
