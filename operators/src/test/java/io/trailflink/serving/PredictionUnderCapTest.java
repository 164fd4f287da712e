package io.trailflink.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.trailflink.schema.PredictionUpdate;
import java.util.List;
import org.junit.jupiter.api.Test;

class PredictionUnderCapTest {
  private static PredictionUpdate update(int generated, double published, List<Float> bins, int binsCap) {
    return PredictionUpdate.newBuilder().setRequestId("r").setEngine("engine-0").setStepSeq(1).setGenerated(generated)
        .setPredictedRemaining(published).setBinProbabilities(bins).setPredictorVersion("t").setBinsCapTokens(binsCap)
        .build();
  }

  @Test
  void aCapBelowTheBinsRangeRanksByTheChanceOfStoppingBeforeIt() {
    // bins of 50 tokens over [0, 500): half the mass in the first bin, half in the last; published E = 250
    List<Float> shortOrLong = List.of(0.5f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0.5f);
    List<Float> mostlyLong = List.of(0.1f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0.9f);
    // cap 128, 28 generated: 100 left, where clamping would tie both at 100
    assertEquals(0.5 * 25 + 0.5 * 100, PredictionUnderCap.remaining(update(28, 250, shortOrLong, 500), 128), 1e-4);
    assertEquals(0.1 * 25 + 0.9 * 100, PredictionUnderCap.remaining(update(28, 430, mostlyLong, 500), 128), 1e-4);
    // a cap the bins' range does not exceed, no bins, or an older record without their range: as published
    assertEquals(250, PredictionUnderCap.remaining(update(0, 250, shortOrLong, 500), 512), 1e-9);
    assertEquals(40, PredictionUnderCap.remaining(update(0, 40, List.of(), 500), 128), 1e-9);
    assertEquals(250, PredictionUnderCap.remaining(update(0, 250, shortOrLong, 0), 128), 1e-9);
  }
}
