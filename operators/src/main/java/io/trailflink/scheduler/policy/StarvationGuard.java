package io.trailflink.scheduler.policy;

import io.trailflink.scheduler.Policy;
import io.trailflink.scheduler.Request;

/**
 * Ages waiting requests so that none waits unboundedly: a candidate's queue key falls by {@code tokensPerSecond}
 * for every second it has waited. Because every candidate ages at the same rate, the key
 * {@code rank + rate · enqueuedAt} orders the queue identically at any later time, so the queue never needs
 * re-sorting. It changes queue order only; preemption still compares plain ranks. Off by default, so the paper's
 * policy is reproduced exactly.
 */
public final class StarvationGuard implements Policy {
  private final Policy base;
  private final double tokensPerMs; // rank credit per millisecond waited

  public StarvationGuard(Policy base, double tokensPerSecond) {
    if (!(tokensPerSecond > 0)) {
      throw new IllegalArgumentException("starvation guard rate must be > 0 tokens/s, got " + tokensPerSecond);
    }
    this.base = base;
    this.tokensPerMs = tokensPerSecond / 1000.0;
  }

  @Override
  public String name() {
    return base.name() + "+guard";
  }

  @Override
  public double rank(Request r) {
    return base.rank(r);
  }

  @Override
  public double queueKey(Request r) {
    return base.queueKey(r) + tokensPerMs * r.queuedSinceMs();
  }

  @Override
  public boolean preemptible(Request r) {
    return base.preemptible(r);
  }

  @Override
  public double margin() {
    return base.margin();
  }

  @Override
  public boolean usesPredictions() {
    return base.usesPredictions();
  }
}
