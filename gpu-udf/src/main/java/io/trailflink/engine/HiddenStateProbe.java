package io.trailflink.engine;

import ai.djl.Device;
import io.trailflink.engine.djl.DjlForward;
import io.trailflink.engine.model.Checkpoint;
import io.trailflink.engine.model.LlamaConfig;

/**
 * Reads a model's hidden states at every layer for a whole token sequence in one teacher-forced forward, for
 * building predictor training data: the state at position p of layer l is what an engine tapping layer l reports
 * when it feeds the token at p (a causal model's state depends only on the tokens up to p). Not thread-safe.
 */
public final class HiddenStateProbe implements AutoCloseable {
  private final LlamaConfig model;
  private final DjlForward forward;

  public HiddenStateProbe(Checkpoint checkpoint, Device device) {
    this.model = checkpoint.config();
    int blockSize = EngineConfig.DEFAULT_BLOCK_SIZE;
    this.forward = new DjlForward(checkpoint.weights(), device, (model.maxPositions() + blockSize - 1) / blockSize,
        blockSize, 0);
  }

  /**
   * Every layer's residual stream at every position of {@code tokens}.
   *
   * @return {@code [layer][position * hidden + i]} for layers 0 (embeddings) .. numLayers
   */
  public float[][] states(int[] tokens) {
    if (tokens.length == 0 || tokens.length > model.maxPositions()) {
      throw new IllegalArgumentException(
          "sequence of " + tokens.length + " tokens; the model takes 1.." + model.maxPositions());
    }
    return forward.allLayerStates(tokens);
  }

  public int numLayers() {
    return model.numLayers();
  }

  public int hiddenSize() {
    return model.hiddenSize();
  }

  @Override
  public void close() {
    forward.close();
  }
}
