package io.trailflink.scheduler.placement;

import java.util.Comparator;

/**
 * {@code least-predicted-work}: the engine whose live requests have the fewest predicted remaining tokens in all;
 * ties by KV headroom. Request size counts, where least-requests treats a 500-token request like a 5-token one.
 */
public final class LeastPredictedWork extends LoadOrder {
  private static final long serialVersionUID = 1L;

  @Override
  public String name() {
    return "least-predicted-work";
  }

  private static final Comparator<EngineLoad> ORDER =
      Comparator.comparingDouble(EngineLoad::predictedWorkTokens).thenComparing(KV_HEADROOM);

  @Override
  Comparator<EngineLoad> order() {
    return ORDER;
  }
}
