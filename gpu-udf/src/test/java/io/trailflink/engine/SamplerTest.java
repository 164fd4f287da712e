package io.trailflink.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Sampling: argmax when greedy, the nucleus respected, frequencies following the softmax; top-k and the repetition
 * penalty as Hugging Face's logits warper and processor compute them.
 */
class SamplerTest {
  @Test
  void theRepetitionPenaltyDividesPositiveAndMultipliesNegativeLogitsOfSeenTokensOnce() {
    // logits 2.0 (seen twice), 1.9, -0.5 (seen): penalty 1.5 gives 1.333, 1.9, -0.75 -> argmax moves to token 1
    float[] logits = {2.0f, 1.9f, -0.5f};
    assertEquals(0, new Sampler(SamplingParams.GREEDY).sample(logits, 0, 3, new int[] {0, 0, 2}, 3));
    Sampler penalised = new Sampler(new SamplingParams(0, 1, 0, 0, 1.5));
    assertEquals(1, penalised.sample(logits, 0, 3, new int[] {0, 0, 2}, 3));
    assertEquals(0, penalised.sample(logits, 0, 3, new int[] {2}, 1), "unseen tokens untouched");
    assertEquals(2.0f, logits[0], "the caller's logits are not changed");
  }

  @Test
  void topKKeepsTheKMostLikelyAndTheirTies() {
    float[] logits = {1f, 5f, 3f, 3f, 0f};
    Sampler.keepTopK(logits, 2);
    assertEquals(Float.NEGATIVE_INFINITY, logits[0]);
    assertEquals(5f, logits[1]);
    assertEquals(3f, logits[2], "a tie with the 2nd is kept, as torch.topk's threshold keeps it");
    assertEquals(3f, logits[3]);
    Sampler s = new Sampler(new SamplingParams(1.0, 1.0, 9, 1, 1));
    for (int i = 0; i < 200; i++) {
      assertEquals(1, s.sample(new float[] {1f, 5f, 3f, 0f}, 0, 4, new int[0], 0), "top-1 sampling is argmax");
    }
  }

  @Test
  void greedyIsArgmax() {
    float[] logits = {0.1f, 3f, -2f, 2.9f};
    assertEquals(1, new Sampler(SamplingParams.GREEDY).sample(logits, 0, 4, new int[0], 0));
  }

  @Test
  void topPNeverLeavesTheNucleusAndFrequenciesFollowTheSoftmax() {
    // probabilities ∝ exp(logit): 0.6, 0.3, 0.1 (logits = ln p); top-p 0.85 keeps the first two only
    float[] logits = {(float) Math.log(0.6), (float) Math.log(0.3), (float) Math.log(0.1)};
    Sampler s = new Sampler(new SamplingParams(1.0, 0.85, 1));
    int[] counts = new int[3];
    for (int i = 0; i < 30_000; i++) {
      counts[s.sample(logits, 0, 3, new int[0], 0)]++;
    }
    assertEquals(0, counts[2], "token outside the nucleus");
    double p0 = counts[0] / 30_000.0;
    assertTrue(Math.abs(p0 - 2.0 / 3) < 0.015, "renormalised 0.6/(0.6+0.3), got " + p0);
    Sampler full = new Sampler(new SamplingParams(1.0, 1.0, 2));
    int third = 0;
    for (int i = 0; i < 30_000; i++) {
      third += full.sample(logits, 0, 3, new int[0], 0) == 2 ? 1 : 0;
    }
    assertTrue(Math.abs(third / 30_000.0 - 0.1) < 0.01, "p(2) = 0.1, got " + third / 30_000.0);
  }
}
