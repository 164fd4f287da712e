package io.trailflink.engine;

import io.trailflink.engine.model.Architecture;
import io.trailflink.engine.model.DType;
import io.trailflink.engine.model.LlamaConfig;
import io.trailflink.engine.model.LlamaWeights;
import io.trailflink.engine.model.RopeScaling;
import io.trailflink.engine.model.SafeTensors;
import io.trailflink.engine.model.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Writes tiny random Llama checkpoints in Hugging Face layout for tests. */
public final class TinyCheckpoints {
  private TinyCheckpoints() {}

  /** A shape variant: family, GQA or not, llama3 rope scaling or not, tied head or not. */
  public record Spec(int layers, int heads, int kvHeads, boolean llama3Rope, boolean tied, DType dtype, int shards,
      Architecture architecture) {
    Spec(int layers, int heads, int kvHeads, boolean llama3Rope, boolean tied, DType dtype, int shards) {
      this(layers, heads, kvHeads, llama3Rope, tied, dtype, shards, Architecture.LLAMA);
    }

    LlamaConfig config() {
      RopeScaling scaling = llama3Rope ? new RopeScaling(8.0, 1.0, 4.0, 64) : null;
      return new LlamaConfig(97, 32, 48, layers, heads, kvHeads, 32 / heads, 1e-5, llama3Rope ? 500000.0 : 10000.0,
          scaling, 256, tied, 1, List.of(2), architecture);
    }
  }

  public static final Spec GQA_LLAMA3_BF16_SHARDED = new Spec(3, 4, 2, true, false, DType.BF16, 3);
  public static final Spec MHA_TIED_F32 = new Spec(2, 4, 4, false, true, DType.F32, 1);
  /** Qwen2-shaped: bias on q/k/v, tied head. */
  public static final Spec QWEN2_BIAS_TIED_F32 = new Spec(2, 4, 2, false, true, DType.F32, 1, Architecture.QWEN2);
  /** Mistral-shaped: GQA, untied. */
  public static final Spec MISTRAL_GQA_BF16 = new Spec(2, 4, 1, false, false, DType.BF16, 2, Architecture.MISTRAL);

  public static Path write(Path dir, Spec spec, long seed) throws IOException {
    LlamaConfig config = spec.config();
    Random rnd = new Random(seed);
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    for (Map.Entry<String, long[]> e : LlamaWeights.expectedShapes(config).entrySet()) {
      long[] shape = e.getValue();
      int n = 1;
      for (long d : shape) {
        n *= (int) d;
      }
      float[] data = new float[n];
      boolean norm = shape.length == 1;
      for (int i = 0; i < n; i++) {
        // norms near 1; matrices wide enough that logits are well separated (no argmax ties)
        data[i] = norm ? (float) (1 + 0.1 * rnd.nextGaussian()) : (float) (0.25 * rnd.nextGaussian());
      }
      tensors.put(e.getKey(), new Tensor(data, shape));
    }
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("config.json"), config.toJson().toString());
    SafeTensors.writeCheckpoint(dir, tensors, spec.dtype(), spec.shards());
    return dir;
  }

  public static int[] randomTokens(Random rnd, int n, int vocab) {
    int[] t = new int[n];
    for (int i = 0; i < n; i++) {
      t[i] = 3 + rnd.nextInt(vocab - 3); // avoid the special ids 0..2
    }
    return t;
  }
}
