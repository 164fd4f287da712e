package io.trailflink.scheduler.policy;

import io.trailflink.scheduler.Policy;
import io.trailflink.scheduler.Request;

/** First come, first served, never preempting: the baseline every engine ships. */
public final class FcfsPolicy implements Policy {
  @Override
  public String name() {
    return "fcfs";
  }

  @Override
  public double rank(Request r) {
    return r.arrivalOrder();
  }

  @Override
  public boolean preemptible(Request r) {
    return false;
  }

  @Override
  public boolean usesPredictions() {
    return false;
  }
}
