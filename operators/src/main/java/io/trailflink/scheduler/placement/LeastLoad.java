package io.trailflink.scheduler.placement;

import java.util.Comparator;

/**
 * {@code least-load}: counts where slots bind, predicted work where they do not. First the backlog (requests
 * beyond the engine's slots, 0 wherever a slot is free: a newcomer there starts at once), then the predicted
 * remaining tokens (what fills KV and decides how soon slots free), then KV headroom.
 */
public final class LeastLoad extends LoadOrder {
  private static final long serialVersionUID = 1L;

  @Override
  public String name() {
    return "least-load";
  }

  private static final Comparator<EngineLoad> ORDER =
      Comparator.comparingInt(EngineLoad::backlog).thenComparingDouble(EngineLoad::predictedWorkTokens)
        .thenComparing(KV_HEADROOM);

  @Override
  Comparator<EngineLoad> order() {
    return ORDER;
  }
}
