package io.trailflink.engine;

import java.util.Arrays;
import java.util.SplittableRandom;

/** Chooses tokens from logits per {@link SamplingParams}; one instance per request (it owns the random state). */
final class Sampler {
  private final SamplingParams params;
  private final SplittableRandom random;

  Sampler(SamplingParams params) {
    this.params = params;
    this.random = new SplittableRandom(params.seed());
  }

  boolean greedy() {
    return params.greedy();
  }

  /** Picks a token from {@code logits[offset .. offset+vocab)}. */
  int sample(float[] logits, int offset, int vocab) {
    if (params.greedy()) {
      return argmax(logits, offset, vocab);
    }
    double max = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < vocab; i++) {
      max = Math.max(max, logits[offset + i]);
    }
    double[] p = new double[vocab];
    double sum = 0;
    for (int i = 0; i < vocab; i++) {
      p[i] = Math.exp((logits[offset + i] - max) / params.temperature());
      sum += p[i];
    }
    Integer[] order = null;
    int keep = vocab;
    if (params.topP() < 1) {
      order = new Integer[vocab];
      for (int i = 0; i < vocab; i++) {
        order[i] = i;
      }
      final double[] probs = p;
      Arrays.sort(order, (a, b) -> Double.compare(probs[b], probs[a]));
      double mass = 0;
      for (keep = 0; keep < vocab && mass < params.topP() * sum; keep++) {
        mass += p[order[keep]];
      }
      sum = mass;
    }
    double u = random.nextDouble() * sum;
    double acc = 0;
    for (int r = 0; r < keep; r++) {
      int i = order == null ? r : order[r];
      acc += p[i];
      if (acc >= u) {
        return i;
      }
    }
    return order == null ? keep - 1 : order[keep - 1];
  }

  static int argmax(float[] logits, int offset, int vocab) {
    int best = 0;
    for (int i = 1; i < vocab; i++) {
      if (logits[offset + i] > logits[offset + best]) {
        best = i;
      }
    }
    return best;
  }
}
