package io.trailflink.predictor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrailPredictorTest {
  @TempDir Path dir;

  static TrailPredictor random(int hidden, int refreshEvery) {
    float[] mean = new float[hidden];
    float[] std = new float[hidden];
    Arrays.fill(std, 2f);
    LengthMlp mlp = LengthMlp.initialise(hidden, 32, 10, mean, std, 5);
    return new TrailPredictor(new TrailPredictor.Spec(3, hidden, 32, 10, 512, refreshEvery, "test", "trail-mlp-l3"), mlp);
  }

  private static float[] vector(int n, long seed) {
    Random r = new Random(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) r.nextGaussian() * 3;
    }
    return v;
  }

  @Test
  void savedPredictorLoadsToTheSameOutputs() {
    TrailPredictor p = random(16, 1);
    p.save(dir, null);
    TrailPredictor back = TrailPredictor.load(dir, 16);
    float[] x = vector(16, 1);
    assertArrayEquals(p.probabilities(x, 0), back.probabilities(x, 0), 1e-6f);
    assertEquals(p.spec(), back.spec());
  }

  @Test
  void refreshSmoothsAgainstThePreviousPosteriorAndHonoursTheCadence() {
    TrailPredictor p = random(16, 8);
    RemainingLength init = p.initial(vector(16, 2));
    assertEquals(p.bins().expectation(init.posterior()), init.expected(), 1e-9);
    assertFalse(p.due(init, 7));
    assertTrue(p.due(init, 8));
    float[] x = vector(16, 3);
    RemainingLength next = p.refresh(init, x, 8);
    float[] expected = p.smoother().update(init.posterior(), p.probabilities(x, 0), 8);
    assertArrayEquals(expected, next.posterior(), 1e-7f);
    assertEquals(8, next.refreshedAt());
    double sum = 0;
    for (float v : next.posterior()) {
      sum += v;
    }
    assertEquals(1.0, sum, 1e-5);
  }

  @Test
  void badFilesAndDimensionsAreRefusedWithTheFileNamed() throws Exception {
    IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> TrailPredictor.load(dir, 16));
    assertTrue(missing.getMessage().contains("predictor.json"), missing.getMessage());
    random(16, 1).save(dir, null);
    IllegalArgumentException dim = assertThrows(IllegalArgumentException.class, () -> TrailPredictor.load(dir, 192));
    assertTrue(dim.getMessage().contains("192") && dim.getMessage().contains("16"), dim.getMessage());
    Files.write(dir.resolve(TrailPredictor.WEIGHTS_FILE), new byte[] {1, 2, 3});
    IllegalArgumentException corrupt = assertThrows(IllegalArgumentException.class, () -> TrailPredictor.load(dir, 16));
    assertTrue(corrupt.getMessage().contains("predictor.safetensors"), corrupt.getMessage());
    Files.writeString(dir.resolve(TrailPredictor.SPEC_FILE), "{not json");
    IllegalArgumentException badSpec = assertThrows(IllegalArgumentException.class, () -> TrailPredictor.load(dir, 16));
    assertTrue(badSpec.getMessage().contains("corrupt"), badSpec.getMessage());
    TrailPredictor p = random(16, 1);
    assertThrows(IllegalArgumentException.class, () -> p.initial(new float[15]));
  }
}
