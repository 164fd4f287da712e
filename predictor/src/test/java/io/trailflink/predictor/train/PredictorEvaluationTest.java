package io.trailflink.predictor.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import com.google.gson.JsonObject;
import io.trailflink.predictor.data.TapDataset;
import io.trailflink.predictor.data.TapDatasetWriter;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PredictorEvaluationTest {
  @TempDir Path dir;

  @Test
  void theAgeOnlyBaselineIsTheTrainingSplitsMeanRemainingAtEachCount() throws IOException {
    JsonObject meta = new JsonObject();
    meta.addProperty("model", "test");
    meta.addProperty("max_new_tokens", 8);
    try (TapDatasetWriter w = new TapDatasetWriter(dir, meta, 1, 2)) {
      w.add("a", "real", "train", "eos", "first", new float[2][9 * 2], 4, 5); // remaining 5, 4, 3, 2, 1
      w.add("b", "real", "val", "eos", "held out", new float[2][9 * 2], 2, 7); // never counted
      w.add("c", "real", "train", "eos", "third", new float[2][9 * 2], 4, 3); // remaining 3, 2, 1
    }
    double[] mean = PredictorEvaluation.meanRemainingByGenerated(TapDataset.open(dir), 8);
    // g = 0..2 both training requests, 3..4 only a, 5 onwards none: the previous mean less one, never below 0
    assertArrayEquals(new double[] {4, 3, 2, 2, 1, 0, 0, 0}, mean, 1e-9);
  }
}
