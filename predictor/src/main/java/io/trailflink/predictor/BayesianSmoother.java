package io.trailflink.predictor;

/**
 * TRAIL's Bayesian smoothing of the per-step bin probabilities, exactly as released: a transition matrix T with
 * {@code T[0][0] = 1} and, for i ≥ 1, {@code T[i][i] = 1 − p}, {@code T[i][i−1] = p}, {@code p = min(1, 1/binWidth)}
 * (mass only moves toward shorter remaining lengths; bin 0 absorbs). The first posterior is the classifier's first
 * softmax; each refresh k tokens later takes {@code prior = posterior · T^k}, multiplies by the new softmax and
 * renormalises. Stateless and thread-safe; the posterior lives in {@link RemainingLength}.
 */
public final class BayesianSmoother {
  private final int bins;
  private final double p;

  public BayesianSmoother(LengthBins lengthBins) {
    this.bins = lengthBins.count();
    this.p = Math.min(1.0, 1.0 / lengthBins.width());
  }

  /** Probability per token that a bin's mass moves one bin down. */
  public double shiftProbability() {
    return p;
  }

  /** {@code posterior · T^k}: k tokens of drift toward shorter remaining lengths. */
  public float[] propagate(float[] posterior, int k) {
    double[] cur = new double[bins];
    for (int i = 0; i < bins; i++) {
      cur[i] = posterior[i];
    }
    double[] next = new double[bins];
    for (int step = 0; step < k; step++) {
      next[0] = cur[0] + (bins > 1 ? cur[1] * p : 0);
      for (int j = 1; j < bins; j++) {
        next[j] = cur[j] * (1 - p) + (j + 1 < bins ? cur[j + 1] * p : 0);
      }
      double[] t = cur;
      cur = next;
      next = t;
    }
    float[] out = new float[bins];
    for (int i = 0; i < bins; i++) {
      out[i] = (float) cur[i];
    }
    return out;
  }

  /** The next posterior: {@code normalise(posterior · T^k ⊙ softmaxNow)}; the new softmax alone if they disagree totally. */
  public float[] update(float[] posterior, float[] softmaxNow, int k) {
    float[] prior = propagate(posterior, k);
    double sum = 0;
    for (int i = 0; i < bins; i++) {
      prior[i] *= softmaxNow[i];
      sum += prior[i];
    }
    if (!(sum > 0)) {
      return softmaxNow.clone();
    }
    for (int i = 0; i < bins; i++) {
      prior[i] = (float) (prior[i] / sum);
    }
    return prior;
  }
}
