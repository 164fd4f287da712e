package io.trailflink.engine.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.trailflink.engine.model.ComputeType;
import io.trailflink.engine.model.LlamaWeights;
import java.util.List;

/**
 * The engine's only door into DJL: owns the model on its device and the KV pool, runs one batched forward per
 * call inside a fresh step manager (closed before returning, so per-step native memory never accumulates), and
 * hands back plain Java arrays.
 */
public final class DjlForward implements AutoCloseable {
  private final DjlLlama model;
  private final KvPool pool;
  private final Device device;
  private final int tapLayer;
  private final int vocab;
  private final int hidden;

  /** At the checkpoint's own width ({@link ComputeType#forWeights}). */
  public DjlForward(LlamaWeights weights, Device device, int kvBlocks, int blockSize, int tapLayer) {
    this(weights, device, kvBlocks, blockSize, tapLayer, ComputeType.forWeights(weights));
  }

  public DjlForward(LlamaWeights weights, Device device, int kvBlocks, int blockSize, int tapLayer,
      ComputeType type) {
    this.device = device;
    this.model = new DjlLlama(weights, device, type == ComputeType.F16 ? DataType.FLOAT16 : DataType.FLOAT32);
    this.pool = model.newPool(kvBlocks, blockSize);
    this.tapLayer = tapLayer;
    this.vocab = weights.config().vocabSize();
    this.hidden = weights.config().hiddenSize();
  }

  /** The width weights, activations and KV are held in. */
  public ComputeType computeType() {
    return model.dtype() == DataType.FLOAT16 ? ComputeType.F16 : ComputeType.F32;
  }

  /** BF16 weights beyond F16's range, clamped to ±65504 when the checkpoint was loaded at F16. */
  public long clampedToF16() {
    return model.clampedToF16();
  }

  /**
   * One forward's results as Java arrays.
   *
   * @param argmax (B) greedy token per sequence when asked for on device, else null
   * @param logits (B × vocab) row-major next-token logits when argmax is null, else null
   * @param tapLast (B, hidden) tap-layer state at each sequence's last new token
   * @param tapMean (B, hidden) tap-layer state averaged over each sequence's new tokens, or null when not asked
   */
  public record Result(int[] argmax, float[] logits, float[][] tapLast, float[][] tapMean) {}

  /** Runs the chunks; greedy picks the argmax on the device (no logits transfer). */
  public Result step(List<SequenceChunk> chunks, boolean greedy, boolean wantMean) {
    try (NDManager step = model.manager().newSubManager()) {
      DjlLlama.Output out = model.forward(step, chunks, pool, tapLayer);
      int[] argmax = null;
      float[] logits = null;
      if (greedy) {
        long[] idx = out.logits().argMax(1).toLongArray();
        argmax = new int[idx.length];
        for (int i = 0; i < idx.length; i++) {
          argmax[i] = (int) idx[i];
        }
      } else {
        logits = out.logits().toFloatArray();
      }
      float[][] tapLast = rows(out.tapLast().toFloatArray(), chunks.size());
      float[][] tapMean = wantMean ? rows(out.tapMean().toFloatArray(), chunks.size()) : null;
      return new Result(argmax, logits, tapLast, tapMean);
    }
  }

  /**
   * Feeds one whole sequence (teacher forcing) and returns every layer's residual stream at every position:
   * {@code [layer 0..numLayers][position * hidden + i]}; layer 0 is the embeddings. The KV slots {@code 0..n-1} of
   * the pool are overwritten, so a forward used for this serves nothing else.
   */
  public float[][] allLayerStates(int[] tokens) {
    int[] slots = new int[tokens.length];
    for (int i = 0; i < slots.length; i++) {
      slots[i] = i;
    }
    try (NDManager step = model.manager().newSubManager()) {
      DjlLlama.Output out = model.forward(step, List.of(new SequenceChunk(0, tokens, slots)), pool, tapLayer, true);
      float[][] layers = new float[out.layers().length][];
      for (int l = 0; l < layers.length; l++) {
        layers[l] = out.layers()[l].toFloatArray();
      }
      return layers;
    }
  }

  /** Rebuilds the KV cache of the chunks (evicted requests); the outputs are not needed. */
  public void recompute(List<SequenceChunk> chunks) {
    try (NDManager step = model.manager().newSubManager()) {
      model.forward(step, chunks, pool, tapLayer);
    }
  }

  public int vocab() {
    return vocab;
  }

  public Device device() {
    return device;
  }

  /**
   * Arrays the model's manager holds, its sub-managers included (weights, RoPE tables, the KV pool): constant once
   * built — a step's temporaries must die with the step.
   */
  public int managedArrays() {
    return model.manager().getManagedArrays().size();
  }

  public long kvPoolBytes() {
    return pool.bytes();
  }

  private float[][] rows(float[] flat, int b) {
    float[][] out = new float[b][hidden];
    for (int i = 0; i < b; i++) {
      System.arraycopy(flat, i * hidden, out[i], 0, hidden);
    }
    return out;
  }

  @Override
  public void close() {
    pool.close();
    model.close();
  }
}
