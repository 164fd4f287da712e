package io.trailflink.scheduler.placement;

import java.util.Comparator;
import java.util.List;

/**
 * A placement that picks the least-loaded engine by a comparator; ties go to the first engine at or after the
 * request's hash, so equal engines share new requests instead of the lowest index taking them all.
 */
abstract class LoadOrder implements Placement {
  private static final long serialVersionUID = 1L;

  /** Lower is less loaded. */
  abstract Comparator<EngineLoad> order();

  @Override
  public final int choose(String requestId, double predictedTokens, List<EngineLoad> loads) {
    int n = loads.size();
    Comparator<EngineLoad> order = order();
    int start = Placement.hash(requestId, n);
    int best = start;
    for (int k = 1; k < n; k++) {
      int i = (start + k) % n;
      if (order.compare(loads.get(i), loads.get(best)) < 0) {
        best = i;
      }
    }
    return best;
  }

  /** More free KV first. */
  static final Comparator<EngineLoad> KV_HEADROOM =
      Comparator.comparingInt((EngineLoad l) -> l.kvFreeBlocks()).reversed();
}
