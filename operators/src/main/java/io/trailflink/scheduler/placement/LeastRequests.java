package io.trailflink.scheduler.placement;

import java.util.Comparator;

/** {@code least-requests}: the engine with the fewest running plus queued requests; ties by KV headroom. */
public final class LeastRequests extends LoadOrder {
  private static final long serialVersionUID = 1L;

  @Override
  public String name() {
    return "least-requests";
  }

  private static final Comparator<EngineLoad> ORDER =
      Comparator.comparingInt(EngineLoad::requests).thenComparing(KV_HEADROOM);

  @Override
  Comparator<EngineLoad> order() {
    return ORDER;
  }
}
