package io.trailflink.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Sampling: argmax when greedy, the nucleus respected, frequencies following the softmax. */
class SamplerTest {
  @Test
  void greedyIsArgmax() {
    float[] logits = {0.1f, 3f, -2f, 2.9f};
    assertEquals(1, new Sampler(SamplingParams.GREEDY).sample(logits, 0, 4));
  }

  @Test
  void topPNeverLeavesTheNucleusAndFrequenciesFollowTheSoftmax() {
    // probabilities ∝ exp(logit): 0.6, 0.3, 0.1 (logits = ln p); top-p 0.85 keeps the first two only
    float[] logits = {(float) Math.log(0.6), (float) Math.log(0.3), (float) Math.log(0.1)};
    Sampler s = new Sampler(new SamplingParams(1.0, 0.85, 1));
    int[] counts = new int[3];
    for (int i = 0; i < 30_000; i++) {
      counts[s.sample(logits, 0, 3)]++;
    }
    assertEquals(0, counts[2], "token outside the nucleus");
    double p0 = counts[0] / 30_000.0;
    assertTrue(Math.abs(p0 - 2.0 / 3) < 0.015, "renormalised 0.6/(0.6+0.3), got " + p0);
    Sampler full = new Sampler(new SamplingParams(1.0, 1.0, 2));
    int third = 0;
    for (int i = 0; i < 30_000; i++) {
      third += full.sample(logits, 0, 3) == 2 ? 1 : 0;
    }
    assertTrue(Math.abs(third / 30_000.0 - 0.1) < 0.01, "p(2) = 0.1, got " + third / 30_000.0);
  }
}
