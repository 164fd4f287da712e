package io.trailflink.scheduler.placement;

import java.util.List;
import java.util.function.IntPredicate;

/**
 * Moves waiting requests that have not started (no KV to move) from a crowded engine to a quiet one, when the
 * imbalance passes a threshold. An engine's excess is its live requests minus its slots: positive, requests wait
 * for a slot; zero or less, none does. A request moves from the engine with the largest positive excess that has a
 * movable request to the one with the smallest, while the two differ by more than {@code threshold} (a move narrows
 * the gap by two, so a threshold of 1 balances fully and larger ones tolerate more before moving). An engine with a
 * free slot never gives: its waiting requests start at its next plan. Plain Java, stateless.
 *
 * @param threshold the largest excess gap left alone (requests); 0 turns moving off
 */
public record Rebalance(int threshold) implements java.io.Serializable {
  public static final Rebalance OFF = new Rebalance(0);

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
      if (hasMovable.test(i) && (from < 0 || excess(loads.get(i)) > excess(loads.get(from)))) {
        from = i;
      }
      if (to < 0 || excess(loads.get(i)) < excess(loads.get(to))) {
        to = i;
      }
    }
    if (from < 0 || from == to || excess(loads.get(from)) <= 0
        || excess(loads.get(from)) - excess(loads.get(to)) <= threshold) {
      return null;
    }
    return new Move(from, to);
  }

  private static int excess(EngineLoad l) {
    return l.requests() - l.maxRunning();
  }
}
