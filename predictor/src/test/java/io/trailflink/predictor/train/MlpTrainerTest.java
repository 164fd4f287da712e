package io.trailflink.predictor.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trailflink.predictor.LengthMlp;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MlpTrainerTest {
  /** Four classes set by the quadrant of two hidden directions, in 24 noisy dimensions with an offset and scale. */
  private static float[] data(int n, int in, int[] labels, long seed) {
    Random r = new Random(seed);
    float[] x = new float[n * in];
    for (int s = 0; s < n; s++) {
      for (int i = 0; i < in; i++) {
        x[s * in + i] = (float) (r.nextGaussian() * 3 + 40);
      }
      float a = x[s * in] - 40 + x[s * in + 5] - 40;
      float b = x[s * in + 7] - 40 - (x[s * in + 11] - 40);
      labels[s] = (a > 0 ? 1 : 0) + (b > 0 ? 2 : 0);
    }
    return x;
  }

  @Test
  void learnsANonLinearlySeparableProblemAndIsDeterministic() {
    int in = 24;
    int n = 3000;
    int[] labels = new int[n];
    float[] x = data(n, in, labels, 1);
    int[] train = new int[2500];
    for (int i = 0; i < train.length; i++) {
      train[i] = i;
    }
    MlpTrainer trainer = new MlpTrainer(new MlpTrainer.Config(64, 12, 0.01, 32, 0.01, 3));
    LengthMlp mlp = trainer.train(x, in, labels, train, 4, e -> {});
    int hits = 0;
    for (int s = 2500; s < n; s++) {
      hits += PredictorEvaluation.argmax(mlp.probabilities(x, s * in)) == labels[s] ? 1 : 0;
    }
    assertTrue(hits / 500.0 > 0.9, "held-out accuracy " + hits / 500.0);
    LengthMlp again = trainer.train(x, in, labels, train, 4, e -> {});
    assertArrayEquals(mlp.probabilities(x, 0), again.probabilities(x, 0), 0f);
  }
}
