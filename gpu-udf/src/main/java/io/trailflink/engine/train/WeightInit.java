package io.trailflink.engine.train;

import io.trailflink.engine.model.LlamaConfig;
import io.trailflink.engine.model.LlamaWeights;
import io.trailflink.engine.model.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/** Initial weights for a model about to be trained (also handy for tests that need a runnable checkpoint). */
public final class WeightInit {
  private WeightInit() {}

  /** GPT-2 style initialisation: N(0, 0.02), residual projections scaled by 1/sqrt(2·layers), norms at 1. */
  public static Map<String, Tensor> gpt2Style(LlamaConfig config, long seed) {
    Random rnd = new Random(seed);
    Map<String, Tensor> out = new LinkedHashMap<>();
    double residualStd = 0.02 / Math.sqrt(2.0 * config.numLayers());
    for (Map.Entry<String, long[]> e : LlamaWeights.expectedShapes(config).entrySet()) {
      long[] shape = e.getValue();
      int n = 1;
      for (long d : shape) {
        n *= (int) d;
      }
      float[] data = new float[n];
      boolean norm = shape.length == 1;
      boolean residual = e.getKey().endsWith("o_proj.weight") || e.getKey().endsWith("down_proj.weight");
      double std = residual ? residualStd : 0.02;
      for (int i = 0; i < n; i++) {
        data[i] = norm ? 1f : (float) (std * rnd.nextGaussian());
      }
      out.put(e.getKey(), new Tensor(data, shape));
    }
    return out;
  }
}
