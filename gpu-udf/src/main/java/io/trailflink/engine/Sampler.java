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

  /** True when the token is the plain argmax of the logits (no sampling, no penalty). */
  boolean plainArgmax() {
    return params.plainArgmax();
  }

  /**
   * Picks a token from {@code logits[offset .. offset+vocab)}; {@code seen} lists the tokens already in the prompt
   * and the answer ({@code seenCount} of them), for the repetition penalty.
   */
  int sample(float[] logits, int offset, int vocab, int[] seen, int seenCount) {
    if (params.repetitionPenalty() != 1) {
      float[] penalised = Arrays.copyOfRange(logits, offset, offset + vocab);
      penalise(penalised, seen, seenCount);
      logits = penalised;
      offset = 0;
    }
    if (params.greedy()) {
      return argmax(logits, offset, vocab);
    }
    if (params.topK() > 0 && params.topK() < vocab) {
      float[] kept = Arrays.copyOfRange(logits, offset, offset + vocab);
      keepTopK(kept, params.topK());
      logits = kept;
      offset = 0;
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

  /** Hugging Face's RepetitionPenaltyLogitsProcessor: once per distinct token seen. */
  private void penalise(float[] logits, int[] seen, int seenCount) {
    float p = (float) params.repetitionPenalty();
    boolean[] done = new boolean[logits.length];
    for (int i = 0; i < seenCount; i++) {
      int t = seen[i];
      if (t >= 0 && t < logits.length && !done[t]) {
        done[t] = true;
        logits[t] = logits[t] < 0 ? logits[t] * p : logits[t] / p;
      }
    }
  }

  /** Hugging Face's TopKLogitsWarper: every logit below the k-th largest becomes -inf (ties with it are kept). */
  static void keepTopK(float[] logits, int k) {
    float[] sorted = logits.clone();
    Arrays.sort(sorted);
    float kth = sorted[sorted.length - k];
    for (int i = 0; i < logits.length; i++) {
      if (logits[i] < kth) {
        logits[i] = Float.NEGATIVE_INFINITY;
      }
    }
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
