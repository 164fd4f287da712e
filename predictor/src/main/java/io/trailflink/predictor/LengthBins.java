package io.trailflink.predictor;

import java.io.Serializable;

/**
 * TRAIL's target: remaining output length in {@code count} equal-width bins over {@code [0, cap)} tokens; a length
 * of {@code cap} or more falls in the last bin. The paper's: 10 bins over 0..512 (width 51.2, midpoints 25.6 …
 * 486.4).
 *
 * @param count number of bins
 * @param cap output cap the bins cover (tokens)
 */
public record LengthBins(int count, int cap) implements Serializable {
  public static final LengthBins PAPER = new LengthBins(10, 512);

  public LengthBins {
    if (count < 2 || cap < count) {
      throw new IllegalArgumentException("need at least 2 bins and cap >= bins, got " + count + " over " + cap);
    }
  }

  /** Bin width (tokens). */
  public double width() {
    return (double) cap / count;
  }

  public int binOf(double remainingTokens) {
    int b = (int) Math.floor(remainingTokens / width());
    return Math.max(0, Math.min(count - 1, b));
  }

  /** Bin midpoint (tokens). */
  public double midpoint(int bin) {
    return (bin + 0.5) * width();
  }

  /** Σ p[k] · midpoint[k] (tokens). */
  public double expectation(float[] probabilities) {
    double e = 0;
    for (int k = 0; k < count; k++) {
      e += probabilities[k] * midpoint(k);
    }
    return e;
  }

  /**
   * E[min(L, limit)] (tokens), the mass of each bin spread evenly over it: the expected remaining length of a
   * request that stops at {@code limit} (its own cap less what it generated) when that lies within the bins' range.
   * Unlike {@link #expectation} clamped to the limit, it keeps what the bins say about requests likely to stop
   * early: two requests whose expectations both exceed the limit still differ by their chance of stopping sooner.
   * Equals {@link #expectation} for a limit at or above {@code cap}.
   */
  public double expectationUpTo(float[] probabilities, double limit) {
    double w = width();
    double e = 0;
    for (int k = 0; k < count; k++) {
      double a = k * w;
      double b = a + w;
      double m;
      if (limit <= a) {
        m = limit;
      } else if (limit >= b) {
        m = (a + b) / 2;
      } else { // uniform over [a, b): the part below the limit averages (a + limit) / 2, the rest stops at it
        m = ((limit * limit - a * a) / 2 + limit * (b - limit)) / w;
      }
      e += probabilities[k] * m;
    }
    return Math.max(0, e);
  }

  /**
   * The {@code q}-quantile of the remaining length (tokens): the bin where the cumulative probability reaches
   * {@code q}, interpolated linearly inside it (mass spread evenly over each bin; the last bin is taken to end at
   * the cap). {@code probabilities} need not sum exactly to 1.
   */
  public double quantile(float[] probabilities, double q) {
    double total = 0;
    for (int k = 0; k < count; k++) {
      total += probabilities[k];
    }
    double target = q * total;
    double cumulative = 0;
    for (int k = 0; k < count; k++) {
      double p = probabilities[k];
      if (p > 0 && cumulative + p >= target) {
        return (k + (target - cumulative) / p) * width();
      }
      cumulative += p;
    }
    return cap;
  }
}
