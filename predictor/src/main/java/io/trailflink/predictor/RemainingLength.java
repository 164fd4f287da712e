package io.trailflink.predictor;

import java.io.Serializable;

/**
 * One request's prediction state between refreshes: the smoothed posterior over the length bins and when it was
 * computed. Between refreshes the estimate counts down one per generated token (the public port's behaviour for
 * K &gt; 1). Immutable.
 *
 * @param posterior smoothed probability per bin
 * @param refreshedAt tokens generated when the posterior was last refreshed
 * @param expected Σ posterior · midpoints at that refresh (tokens)
 */
public record RemainingLength(float[] posterior, int refreshedAt, double expected) implements Serializable {

  /** Point estimate after {@code generated} tokens, clamped to {@code [0, maxNewTokens − generated]} (tokens). */
  public double estimate(int generated, int maxNewTokens) {
    double e = expected - (generated - refreshedAt);
    return Math.max(0, Math.min(maxNewTokens - generated, e));
  }
}
