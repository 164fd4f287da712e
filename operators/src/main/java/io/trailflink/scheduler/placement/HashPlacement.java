package io.trailflink.scheduler.placement;

import java.util.List;

/** {@code hash}: a request's engine is a hash of its id, whatever the load (the job's placement before this one). */
public final class HashPlacement implements Placement {
  private static final long serialVersionUID = 1L;

  @Override
  public String name() {
    return "hash";
  }

  @Override
  public int choose(String requestId, double predictedTokens, List<EngineLoad> loads) {
    return Placement.hash(requestId, loads.size());
  }

  @Override
  public boolean readsLoad() {
    return false;
  }
}
