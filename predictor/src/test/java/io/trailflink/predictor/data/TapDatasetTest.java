package io.trailflink.predictor.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TapDatasetTest {
  @TempDir Path dir;

  /** States whose value encodes (layer, position, feature), so the layout can be checked exactly. */
  private static float[][] states(int layers, int positions, int hidden) {
    float[][] s = new float[layers + 1][positions * hidden];
    for (int l = 0; l <= layers; l++) {
      for (int p = 0; p < positions; p++) {
        for (int i = 0; i < hidden; i++) {
          s[l][p * hidden + i] = l * 100 + p + i / 8f;
        }
      }
    }
    return s;
  }

  @Test
  void samplesArePromptMeanThenEachNewestTokenWithTrueRemainingLength() throws IOException {
    JsonObject meta = new JsonObject();
    meta.addProperty("model", "test");
    meta.addProperty("max_new_tokens", 512);
    try (TapDatasetWriter w = new TapDatasetWriter(dir, meta, 2, 4)) {
      // prompt 3 tokens + 5 output tokens, then prompt 2 + output 1 (EOS at once)
      w.add("a", "real", "train", "eos", "first", states(2, 8, 4), 3, 5);
      w.add("b", "real", "val", "eos", "second", states(2, 3, 4), 2, 1);
    }
    TapDataset ds = TapDataset.open(dir);
    assertEquals(6, ds.size());
    assertEquals(2, ds.requests().size());
    assertTrue(ds.requests().get(1).validation());
    int[][] expect = {{0, 0, 5}, {0, 1, 4}, {0, 2, 3}, {0, 3, 2}, {0, 4, 1}, {1, 0, 1}};
    for (int s = 0; s < 6; s++) {
      assertEquals(expect[s][0], ds.requestOf(s));
      assertEquals(expect[s][1], ds.generatedAt(s));
      assertEquals(expect[s][2], ds.remainingAt(s));
    }
    float[] layer1 = ds.layer(1);
    // sample 0: mean over prompt positions 0..2 of (100 + p + i/8) = 101 + i/8
    assertEquals(101f, layer1[0], 1e-3);
    assertEquals(101.125f, layer1[1], 1e-3);
    // sample g (1..4): position prompt + g - 1
    for (int g = 1; g <= 4; g++) {
      assertEquals(100 + 3 + g - 1, layer1[g * 4], 1e-3, "g=" + g);
    }
    assertEquals(200.5f, ds.layer(2)[5 * 4], 0.1); // request b: mean of positions 0..1 at layer 2
  }

  @Test
  void missingOrTruncatedFilesAreNamed() throws IOException {
    JsonObject meta = new JsonObject();
    meta.addProperty("model", "test");
    meta.addProperty("max_new_tokens", 512);
    try (TapDatasetWriter w = new TapDatasetWriter(dir, meta, 1, 4)) {
      w.add("a", "real", "train", "eos", "p", states(1, 6, 4), 3, 3);
    }
    Files.write(dir.resolve(TapDataset.layerFile(1)), new byte[5]);
    IOException e = assertThrows(IOException.class, () -> TapDataset.open(dir).layer(1));
    assertTrue(e.getMessage().contains("layer-1.f16"), e.getMessage());
    assertTrue(assertThrows(IOException.class, () -> TapDataset.open(dir).layer(4)).getMessage().contains("missing"));
    Files.delete(dir.resolve(TapDataset.META));
    assertTrue(assertThrows(IOException.class, () -> TapDataset.open(dir)).getMessage().contains("meta.json"));
  }
}
