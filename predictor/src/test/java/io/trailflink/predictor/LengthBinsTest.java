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

  @Test
  void theExpectationUpToACapKeepsTheChanceOfStoppingEarly() {
    LengthBins bins = new LengthBins(10, 500); // width 50
    float[] shortOrLong = {0.5f, 0, 0, 0, 0, 0, 0, 0, 0, 0.5f}; // E = 0.5·25 + 0.5·475 = 250
    float[] mostlyLong = {0.1f, 0, 0, 0, 0, 0, 0, 0, 0, 0.9f}; // E = 430
    assertEquals(250.0, bins.expectationUpTo(shortOrLong, 500), 1e-4, "no cap binding: the plain expectation");
    assertEquals(bins.expectation(mostlyLong), bins.expectationUpTo(mostlyLong, 1000), 1e-4);
    // with 100 tokens left both plain expectations clamp to 100 (a tie); the capped ones tell them apart
    assertEquals(0.5 * 25 + 0.5 * 100, bins.expectationUpTo(shortOrLong, 100), 1e-4);
    assertEquals(0.1 * 25 + 0.9 * 100, bins.expectationUpTo(mostlyLong, 100), 1e-4);
    // a limit inside a bin: uniform over [0, 50) capped at 20 averages (20² / 2 + 20 · 30) / 50 = 16
    float[] first = {1, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    assertEquals(16.0, bins.expectationUpTo(first, 20), 1e-4);
    assertEquals(0.0, bins.expectationUpTo(first, 0), 1e-9);
  }
}
