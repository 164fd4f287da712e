package io.trailflink.predictor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class LengthBinsTest {
  private final LengthBins bins = new LengthBins(4, 400); // width 100

  @Test
  void aQuantileInterpolatesInsideTheBinWhereTheMassIsReached() {
    float[] p = {0.5f, 0.5f, 0, 0};
    assertEquals(50, bins.quantile(p, 0.25), 1e-6);
    assertEquals(180, bins.quantile(p, 0.9), 1e-4);
    assertEquals(200, bins.quantile(p, 1.0), 1e-6);
  }

  @Test
  void allMassInTheLastBinEndsAtTheCapAndUnnormalisedProbabilitiesAreScaled() {
    assertEquals(390, bins.quantile(new float[] {0, 0, 0, 2f}, 0.9), 1e-4);
    assertEquals(bins.expectation(new float[] {0.25f, 0.25f, 0.25f, 0.25f}), 200, 1e-6);
    assertEquals(200, bins.quantile(new float[] {0.25f, 0.25f, 0.25f, 0.25f}, 0.5), 1e-4);
  }
}
