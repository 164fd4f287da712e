package io.trailflink.sim;

import java.util.SplittableRandom;

/**
 * Predicted remaining lengths for simulated requests.
 *
 * <ul>
 *   <li>{@code oracle}: the truth.
 *   <li>{@code noisy:MAE_INITIAL,MAE_REFINED}: the truth plus Gaussian noise whose mean absolute error is
 *       MAE_INITIAL for the initial prediction (before any output) and, for refined predictions at fraction f of
 *       the output generated, {@code 2·MAE_REFINED·(1 − f)}: the error shrinks linearly to 0 as the request
 *       progresses and averages MAE_REFINED over its lifetime. Each request draws its two standard normal
 *       deviates once, so its error is persistent rather than jittering per refresh (σ = MAE·√(π/2)).
 *       Predictions are clamped to [1, max] for the total and [0, max − generated] for the remainder.
 *   <li>{@code fixed:MAE}: one noisy prediction y at arrival (MAE as above), never refined: the remainder is
 *       y − generated (negative once the job outlives its prediction). This is the predictor of the M/G/1
 *       analysis (SPRPT with predictions), used by the theory check.
 * </ul>
 */
public final class PredictionModel {
  private final String spec;
  private final double maeInitial; // tokens
  private final double maeRefined; // tokens
  private final long seed;
  private final boolean fixed; // never refined: remainder = initial − generated

  private PredictionModel(String spec, double maeInitial, double maeRefined, long seed) {
    this.fixed = spec.startsWith("fixed:");
    this.spec = spec;
    this.maeInitial = maeInitial;
    this.maeRefined = maeRefined;
    this.seed = seed;
  }

  /** Parses {@code oracle} or {@code noisy:A,B}. */
  public static PredictionModel parse(String spec, long seed) {
    if (spec.equals("oracle")) {
      return new PredictionModel(spec, 0, 0, seed);
    }
    if (spec.startsWith("fixed:")) {
      try {
        double a = Double.parseDouble(spec.substring(6));
        if (a >= 0) {
          return new PredictionModel(spec, a, 0, seed);
        }
      } catch (RuntimeException e) {
        // fall through to the error below
      }
    }
    if (spec.startsWith("noisy:")) {
      String[] p = spec.substring(6).split(",");
      try {
        double a = Double.parseDouble(p[0]);
        double b = Double.parseDouble(p[1]);
        if (p.length == 2 && a >= 0 && b >= 0) {
          return new PredictionModel(spec, a, b, seed);
        }
      } catch (RuntimeException e) {
        // fall through to the error below
      }
    }
    throw new IllegalArgumentException("--predictions must be oracle, noisy:MAE_INITIAL,MAE_REFINED or fixed:MAE"
        + " (tokens), got '"
        + spec + "'");
  }

  public String spec() {
    return spec;
  }

  /**
   * Per-request noise, drawn once. SplittableRandom mixes its seed, so consecutive request indices give
   * independent deviates (java.util.Random's first outputs for neighbouring seeds are correlated).
   */
  public Noise noiseFor(int requestIndex) {
    SplittableRandom rnd = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + requestIndex);
    return new Noise(rnd.nextGaussian(), rnd.nextGaussian());
  }

  /** A request's two standard normal deviates: initial and refined. */
  public record Noise(double initial, double refined) {}

  private static final double SIGMA_PER_MAE = Math.sqrt(Math.PI / 2);

  /** Initial predicted total output length. */
  public double initial(SimRequest r, Noise n, int maxNewTokens) {
    double p = r.outputTokens() + n.initial() * maeInitial * SIGMA_PER_MAE;
    return Math.max(1, Math.min(maxNewTokens, p));
  }

  /** Refined predicted remaining length after {@code generated} tokens. */
  public double remaining(SimRequest r, Noise n, int generated, int maxNewTokens) {
    if (fixed) {
      return initial(r, n, maxNewTokens) - generated;
    }
    double f = (double) generated / r.outputTokens();
    double mae = 2 * maeRefined * Math.max(0, 1 - f);
    double p = r.outputTokens() - generated + n.refined() * mae * SIGMA_PER_MAE;
    return Math.max(0, Math.min(maxNewTokens - generated, p));
  }
}
