package io.trailflink.engine.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import io.trailflink.engine.model.LlamaConfig;
import io.trailflink.engine.model.LlamaWeights;
import io.trailflink.engine.model.RopeTables;
import java.util.List;

/**
 * The Llama forward pass as DJL (PyTorch) tensor programs over a {@link RaggedBatch}: any mix of prefill chunks and
 * single-token decode steps in one call, reading and writing the paged {@link KvPool}.
 *
 * <p>Memory discipline: every per-call array lives in the caller's step manager; weights and the pool live in the
 * model manager and are only read (pool slots are overwritten in place), so nothing grows from step to step.
 *
 * <p>Width: weights, activations and the KV pool are in the engine's {@code dtype} (FLOAT32, or FLOAT16 for a
 * 16-bit checkpoint at its own size); as in Hugging Face's Llama, RMSNorm's statistics and the attention softmax are
 * computed in float32 and cast back, and logits and tap states come out as float32.
 */
final class DjlLlama implements AutoCloseable {
  private final LlamaConfig c;
  private final NDManager manager; // owns weights and rope tables for the model's lifetime
  private final DataType dtype; // of weights, activations and KV
  private final long clampedToF16; // BF16 weights beyond F16's range, clamped at load
  private final NDArray embed; // (vocab, hidden)
  private final NDArray lmHeadT; // (hidden, vocab); when tied, a transposed view of the embedding (no copy)
  private final NDArray finalNorm; // (hidden)
  private final Layer[] layers;
  private final NDArray ropeCos; // (positions, headDim/2)
  private final NDArray ropeSin; // (positions, headDim/2)

  /** One decoder layer's weights, linear layers pre-transposed to (in, out). */
  private record Layer(
      NDArray inputNorm, NDArray wq, NDArray wk, NDArray wv, NDArray wo,
      NDArray postNorm, NDArray wGate, NDArray wUp, NDArray wDown,
      NDArray bq, NDArray bk, NDArray bv) {} // q/k/v biases: null unless the architecture has them (Qwen2)

  DjlLlama(LlamaWeights weights, Device device, DataType dtype) {
    this.c = weights.config();
    this.manager = NDManager.newBaseManager(device);
    this.dtype = dtype;
    WeightUploader up = new WeightUploader(manager, dtype);
    embed = up.upload(weights.slice(LlamaWeights.EMBED), false);
    // a tied head reads the embedding matrix through a transposed view: no second copy (525 MB for Llama 3.2 1B).
    // Made once: a view made per forward belonged to this long-lived manager and was never closed (one array leaked
    // per forward of every tied-head model, 93,000 in a 10-minute soak)
    lmHeadT = c.tieWordEmbeddings() ? embed.transpose() : up.upload(weights.slice(LlamaWeights.LM_HEAD), true);
    finalNorm = up.upload(weights.slice(LlamaWeights.FINAL_NORM), false);
    layers = new Layer[c.numLayers()];
    for (int l = 0; l < layers.length; l++) {
      layers[l] = new Layer(
          up.upload(weights.slice(LlamaWeights.layer(l, "input_layernorm.weight")), false),
          up.upload(weights.slice(LlamaWeights.layer(l, "self_attn.q_proj.weight")), true),
          up.upload(weights.slice(LlamaWeights.layer(l, "self_attn.k_proj.weight")), true),
          up.upload(weights.slice(LlamaWeights.layer(l, "self_attn.v_proj.weight")), true),
          up.upload(weights.slice(LlamaWeights.layer(l, "self_attn.o_proj.weight")), true),
          up.upload(weights.slice(LlamaWeights.layer(l, "post_attention_layernorm.weight")), false),
          up.upload(weights.slice(LlamaWeights.layer(l, "mlp.gate_proj.weight")), true),
          up.upload(weights.slice(LlamaWeights.layer(l, "mlp.up_proj.weight")), true),
          up.upload(weights.slice(LlamaWeights.layer(l, "mlp.down_proj.weight")), true),
          bias(up, weights, l, "q_proj"), bias(up, weights, l, "k_proj"), bias(up, weights, l, "v_proj"));
    }
    clampedToF16 = up.clampedToF16();
    RopeTables rope = new RopeTables(c);
    ropeCos = manager.create(rope.flatCos(), new Shape(rope.positions(), rope.half())).toType(dtype, false);
    ropeSin = manager.create(rope.flatSin(), new Shape(rope.positions(), rope.half())).toType(dtype, false);
  }

  private NDArray bias(WeightUploader up, LlamaWeights weights, int layer, String proj) {
    return c.architecture().qkvBias()
        ? up.upload(weights.slice(LlamaWeights.layer(layer, "self_attn." + proj + ".bias")), false) : null;
  }

  private static NDArray project(NDArray x, NDArray w, NDArray bias) {
    NDArray y = x.matMul(w);
    return bias == null ? y : y.add(bias);
  }

  DataType dtype() {
    return dtype;
  }

  /** BF16 weights that were beyond F16's range and clamped to ±65504 at load (0 unless converted to F16). */
  long clampedToF16() {
    return clampedToF16;
  }

  NDManager manager() {
    return manager;
  }

  KvPool newPool(int blocks, int blockSize) {
    return new KvPool(manager, c, blocks, blockSize, dtype);
  }

  /**
   * Result of one forward call, owned by the step manager.
   *
   * @param logits (B, vocab): next-token logits after each sequence's last new token
   * @param tapLast (B, hidden): residual stream after {@code tapLayer} layers at each sequence's last new token
   * @param tapMean (B, hidden): the same, averaged over each sequence's new tokens (the prompt mean for a prefill)
   * @param layers when asked for, the residual stream after 0..numLayers layers, each (B, T, hidden); else null
   */
  record Output(NDArray logits, NDArray tapLast, NDArray tapMean, NDArray[] layers) {}

  /** Runs the chunks as one batch; new keys/values are written into {@code pool} before attention reads it. */
  Output forward(NDManager step, List<SequenceChunk> chunks, KvPool pool, int tapLayer) {
    return forward(step, chunks, pool, tapLayer, false);
  }

  /** As above; with {@code keepLayers} the output also holds every layer's residual stream at every position. */
  Output forward(NDManager step, List<SequenceChunk> chunks, KvPool pool, int tapLayer, boolean keepLayers) {
    RaggedBatch rb = new RaggedBatch(chunks);
    int b = rb.batch;
    int t = rb.newLen;
    int s = rb.keyLen;
    int h = c.hiddenSize();
    int d = c.headDim();
    int half = d / 2;
    NDArray tokens = step.create(rb.tokens, new Shape(b, t));
    NDArray positions = step.create(rb.positions, new Shape(b, t));
    NDArray validFlat = step.create(rb.validFlat);
    NDArray writeSlots = step.create(rb.writeSlots);
    NDArray keySlots = step.create(rb.keySlots, new Shape(b, s));
    NDArray mask = step.create(rb.mask, new Shape(b, 1, 1, t, s)); // float32: added to float32 scores
    NDArray cos = ropeCos.get(step, new NDIndex("{}", positions)).reshape(b, t, 1, half);
    NDArray sin = ropeSin.get(step, new NDIndex("{}", positions)).reshape(b, t, 1, half);
    float scale = (float) (1.0 / Math.sqrt(d));

    NDArray x = embed.get(step, new NDIndex("{}", tokens)); // (B, T, H)
    NDArray tap = tapLayer == 0 ? x : null;
    NDArray[] kept = keepLayers ? new NDArray[layers.length + 1] : null;
    if (kept != null) {
      kept[0] = x;
    }
    for (int l = 0; l < layers.length; l++) {
      Layer w = layers[l];
      NDArray xn = rmsNorm(x, w.inputNorm);
      NDArray q = rope(project(xn, w.wq, w.bq).reshape(b, t, c.numHeads(), d), cos, sin, half);
      NDArray k = rope(project(xn, w.wk, w.bk).reshape(b, t, c.numKvHeads(), d), cos, sin, half);
      NDArray v = project(xn, w.wv, w.bv);
      NDArray kRows = k.reshape(b * t, c.kvDim()).get(new NDIndex("{}", validFlat));
      NDArray vRows = v.reshape(b * t, c.kvDim()).get(new NDIndex("{}", validFlat));
      pool.keys[l].set(new NDIndex("{}", writeSlots), kRows);
      pool.values[l].set(new NDIndex("{}", writeSlots), vRows);
      // keys/values of every visible position: (B, S, kvDim) → (B, kvHeads, 1, S, D)
      NDArray keys = pool.keys[l].get(step, new NDIndex("{}", keySlots))
          .reshape(b, s, c.numKvHeads(), d).transpose(0, 2, 1, 3).expandDims(2);
      NDArray vals = pool.values[l].get(step, new NDIndex("{}", keySlots))
          .reshape(b, s, c.numKvHeads(), d).transpose(0, 2, 1, 3).expandDims(2);
      // queries grouped by the key/value head they read: (B, kvHeads, group, T, D)
      NDArray qg = q.transpose(0, 2, 1, 3).reshape(b, c.numKvHeads(), c.groupSize(), t, d);
      NDArray scores = qg.matMul(keys.transpose(0, 1, 2, 4, 3)).toType(DataType.FLOAT32, false).mul(scale).add(mask);
      NDArray attn = scores.softmax(-1).toType(dtype, false).matMul(vals) // (B, kvHeads, group, T, D)
          .reshape(b, c.numHeads(), t, d).transpose(0, 2, 1, 3).reshape(b, t, c.numHeads() * d);
      x = x.add(attn.matMul(w.wo));
      NDArray xn2 = rmsNorm(x, w.postNorm);
      NDArray gate = xn2.matMul(w.wGate);
      NDArray gated = gate.mul(Activation.sigmoid(gate)).mul(xn2.matMul(w.wUp)); // SwiGLU: silu(gate) * up
      x = x.add(gated.matMul(w.wDown));
      if (l + 1 == tapLayer) {
        tap = x;
      }
      if (kept != null) {
        kept[l + 1] = x;
      }
    }
    NDArray lastFlat = step.create(rb.lastFlat);
    NDArray last = rmsNorm(x, finalNorm).reshape(b * t, h).get(new NDIndex("{}", lastFlat)); // (B, H)
    NDArray logits = last.matMul(lmHeadT).toType(DataType.FLOAT32, false);
    NDArray tap32 = tap.toType(DataType.FLOAT32, false);
    NDArray tapLast = tap32.reshape(b * t, h).get(new NDIndex("{}", lastFlat));
    NDArray weights = step.create(rb.meanWeights, new Shape(b, t, 1));
    NDArray tapMean = tap32.mul(weights).sum(new int[] {1});
    if (kept != null) {
      for (int i = 0; i < kept.length; i++) {
        kept[i] = kept[i].toType(DataType.FLOAT32, false);
      }
    }
    return new Output(logits, tapLast, tapMean, kept);
  }

  /** Hugging Face's LlamaRMSNorm: statistics in float32, then back to the engine's width times the weight. */
  private NDArray rmsNorm(NDArray x, NDArray weight) {
    NDArray x32 = x.toType(DataType.FLOAT32, false);
    NDArray variance = x32.square().mean(new int[] {-1}, true);
    return x32.mul(variance.add((float) c.rmsNormEps()).sqrt().pow(-1f)).toType(dtype, false).mul(weight);
  }

  /** Rotate-half RoPE on (B, T, heads, D) with cos/sin of shape (B, T, 1, D/2). */
  private static NDArray rope(NDArray x, NDArray cos, NDArray sin, int half) {
    NDArray x1 = x.get(new NDIndex("..., :{}", half));
    NDArray x2 = x.get(new NDIndex("..., {}:", half));
    return NDArrays.concat(
        new NDList(x1.mul(cos).sub(x2.mul(sin)), x2.mul(cos).add(x1.mul(sin))), -1);
  }

  @Override
  public void close() {
    manager.close();
  }
}
