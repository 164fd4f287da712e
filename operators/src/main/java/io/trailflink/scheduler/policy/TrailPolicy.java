package io.trailflink.scheduler.policy;

import io.trailflink.scheduler.Policy;
import io.trailflink.scheduler.Request;

/**
 * TRAIL: shortest predicted remaining processing time first with limited preemption. A running request of initial
 * prediction r that has generated a tokens is preemptible only while {@code a < C·r} (and, optionally, while it
 * has been preempted fewer than {@code maxPreemptions} times); past that it runs to completion — its rank counts
 * as +∞ for victim choice, as in the public port. C = 1 is SPRPT; C = 0 never preempts (shortest predicted job
 * first). The oracle variant ranks by true remaining length and applies the cut-off to the true length.
 *
 * <p>Against the authors' public port: r is clamped to max_new_tokens (as the port does) and a request with no
 * prediction yet is not preemptible (as in the port: nothing says it is short). The cut-off stays the paper's
 * strict {@code a < C·r} where the port writes {@code <=}: with {@code <=}, C = 0 would still preempt requests that
 * have generated nothing, and the paper defines C = 0 as non-preemptive.
 *
 * <p>Queue order always uses the predicted remaining length: waiting requests have a = 0, so with C = 0 they are
 * still ordered shortest-first (non-preemptive SPJF), not by arrival.
 */
public final class TrailPolicy implements Policy {
  public static final double PAPER_C = 0.8;

  private final String name;
  private final double c; // preemption limit, fraction of the initial prediction
  private final double margin; // tokens
  private final int maxPreemptions; // per request; Integer.MAX_VALUE = no cap
  private final boolean oracle; // rank by true lengths

  public TrailPolicy(String name, double c, double margin, int maxPreemptions, boolean oracle) {
    if (!(c >= 0) || Double.isInfinite(c)) {
      throw new IllegalArgumentException("C must be >= 0, got " + c);
    }
    if (!(margin >= 0)) {
      throw new IllegalArgumentException("preemption margin must be >= 0, got " + margin);
    }
    if (maxPreemptions < 0) {
      throw new IllegalArgumentException("max preemptions must be >= 0, got " + maxPreemptions);
    }
    this.name = name;
    this.c = c;
    this.margin = margin;
    this.maxPreemptions = maxPreemptions;
    this.oracle = oracle;
  }

  /** TRAIL with the paper's defaults (C = 0.8, no margin, no cap). */
  public static TrailPolicy trail(double c) {
    return new TrailPolicy("trail", c, 0, Integer.MAX_VALUE, false);
  }

  /** SPRPT: TRAIL with C = 1. */
  public static TrailPolicy sprpt() {
    return new TrailPolicy("sprpt", 1.0, 0, Integer.MAX_VALUE, false);
  }

  /** The limit: true remaining lengths, same preemption rule. */
  public static TrailPolicy oracle(double c) {
    return new TrailPolicy("oracle", c, 0, Integer.MAX_VALUE, true);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public double rank(Request r) {
    return oracle ? r.trueRemaining() : r.remainingEstimate();
  }

  @Override
  public boolean preemptible(Request r) {
    boolean truth = oracle && r.trueOutputTokens() >= 0;
    if (!truth && !r.hasPrediction()) {
      return false;
    }
    double initial = truth ? r.trueOutputTokens() : r.initialPrediction();
    return r.generated() < c * initial && r.preemptions() < maxPreemptions;
  }

  @Override
  public double margin() {
    return margin;
  }

  @Override
  public boolean usesPredictions() {
    return !oracle; // the oracle's truth comes with the request (a forced length)
  }

  public double c() {
    return c;
  }
}
