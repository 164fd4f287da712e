package io.trailflink.predictor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class BayesianSmootherTest {
  @Test
  void paperBinsHaveTheReleasedMidpointsAndEdges() {
    LengthBins b = LengthBins.PAPER;
    assertEquals(51.2, b.width(), 1e-12);
    assertEquals(25.6, b.midpoint(0), 1e-9);
    assertEquals(486.4, b.midpoint(9), 1e-9);
    assertEquals(0, b.binOf(51.1));
    assertEquals(1, b.binOf(51.2));
    assertEquals(9, b.binOf(512));
    assertEquals(9, b.binOf(4000));
  }

  @Test
  void transitionMovesMassDownOneBinWithProbabilityOneOverWidthAndBinZeroAbsorbs() {
    // 4 bins over 0..8: width 2, p = 0.5
    BayesianSmoother s = new BayesianSmoother(new LengthBins(4, 8));
    assertEquals(0.5, s.shiftProbability(), 1e-12);
    float[] post = {0.1f, 0.2f, 0.3f, 0.4f};
    // posterior · T: prior[0] = .1 + .2*.5; prior[1] = .2*.5 + .3*.5; prior[2] = .3*.5 + .4*.5; prior[3] = .4*.5
    assertArrayEquals(new float[] {0.2f, 0.25f, 0.35f, 0.2f}, s.propagate(post, 1), 1e-6f);
    // T^2 = (posterior · T) · T
    float[] two = s.propagate(post, 2);
    assertArrayEquals(new float[] {0.2f + 0.125f, 0.125f + 0.175f, 0.175f + 0.1f, 0.1f}, two, 1e-6f);
    float[] many = s.propagate(post, 200);
    assertEquals(1f, many[0], 1e-5f);
    assertArrayEquals(post, s.propagate(post, 0), 0f);
  }

  @Test
  void binsOneTokenWideMoveAllMassEachStep() {
    BayesianSmoother s = new BayesianSmoother(new LengthBins(4, 4)); // width 1 → p = 1
    assertEquals(1.0, s.shiftProbability(), 1e-12);
    assertArrayEquals(new float[] {0.3f, 0.3f, 0.4f, 0f}, s.propagate(new float[] {0.1f, 0.2f, 0.3f, 0.4f}, 1), 1e-6f);
  }

  @Test
  void updateIsPriorTimesLikelihoodRenormalised() {
    BayesianSmoother s = new BayesianSmoother(new LengthBins(4, 8));
    float[] post = {0.1f, 0.2f, 0.3f, 0.4f};
    float[] now = {0.25f, 0.25f, 0.25f, 0.25f};
    // a flat softmax leaves the prior as it is
    assertArrayEquals(s.propagate(post, 1), s.update(post, now, 1), 1e-6f);
    float[] sharp = {0f, 1f, 0f, 0f};
    assertArrayEquals(new float[] {0, 1, 0, 0}, s.update(post, sharp, 3), 1e-6f);
    float[] mixed = {0.5f, 0.5f, 0f, 0f};
    float[] prior = s.propagate(post, 1); // .2 .25 .35 .2
    float z = prior[0] * 0.5f + prior[1] * 0.5f;
    assertArrayEquals(new float[] {prior[0] * 0.5f / z, prior[1] * 0.5f / z, 0, 0}, s.update(post, mixed, 1), 1e-6f);
    // total disagreement falls back to the new softmax instead of dividing by zero
    assertArrayEquals(new float[] {0, 0, 0, 1}, s.update(new float[] {1, 0, 0, 0}, new float[] {0, 0, 0, 1}, 1), 0f);
  }

  @Test
  void estimateCountsDownBetweenRefreshesAndIsClamped() {
    RemainingLength r = new RemainingLength(new float[] {1, 0}, 10, 100.0);
    assertEquals(100.0, r.estimate(10, 512), 1e-12);
    assertEquals(95.0, r.estimate(15, 512), 1e-12);
    assertEquals(50.0, r.estimate(15, 65), 1e-12); // at most maxNewTokens − generated
    assertEquals(0.0, r.estimate(300, 512), 1e-12);
  }
}
