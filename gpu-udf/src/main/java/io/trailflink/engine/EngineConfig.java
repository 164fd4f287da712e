package io.trailflink.engine;

/**
 * How an engine is set up.
 *
 * @param kvBlocks KV capacity in blocks: the engine's memory budget
 * @param blockSize tokens per KV block
 * @param tapLayer hidden state exported per token: the residual stream after this many decoder layers
 *     (Hugging Face's {@code hidden_states[tapLayer]}); -1 means the middle layer
 * @param device "auto" (GPU when present), "cpu", or "gpu" / "gpu:N"
 * @param dtype width of weights, activations and KV: "auto" (the checkpoint's own: f16 for a 16-bit one), "f16",
 *     "f32"
 */
public record EngineConfig(int kvBlocks, int blockSize, int tapLayer, String device, String dtype)
    implements java.io.Serializable {
  public static final int DEFAULT_BLOCK_SIZE = 16;

  public EngineConfig {
    if (kvBlocks <= 0) {
      throw new IllegalArgumentException("kv-blocks must be > 0, got " + kvBlocks);
    }
    if (blockSize <= 0) {
      throw new IllegalArgumentException("block-size must be > 0, got " + blockSize);
    }
    io.trailflink.engine.model.ComputeType.check(dtype);
  }

  /** At the checkpoint's own width. */
  public EngineConfig(int kvBlocks, int blockSize, int tapLayer, String device) {
    this(kvBlocks, blockSize, tapLayer, device, "auto");
  }

  public static EngineConfig defaults(int kvBlocks) {
    return new EngineConfig(kvBlocks, DEFAULT_BLOCK_SIZE, -1, "auto");
  }

  int resolveTapLayer(int numLayers) {
    int layer = tapLayer < 0 ? numLayers / 2 : tapLayer;
    if (layer > numLayers) {
      throw new IllegalArgumentException("tap layer " + tapLayer + " beyond the model's " + numLayers + " layers");
    }
    return layer;
  }
}
