package io.trailflink.scheduler.policy;

import io.trailflink.scheduler.Policy;
import io.trailflink.scheduler.Request;

/** Shortest job first on the initial prediction, never preempting (the paper's vLLM-SJF with BERT predictions). */
public final class SjfPolicy implements Policy {
  @Override
  public String name() {
    return "sjf";
  }

  @Override
  public double rank(Request r) {
    return r.initialEstimate();
  }

  @Override
  public boolean preemptible(Request r) {
    return false;
  }
}
