package io.trailflink.engine.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import io.trailflink.engine.model.LlamaConfig;
import io.trailflink.engine.model.LlamaWeights;
import io.trailflink.engine.model.RopeTables;
import io.trailflink.engine.model.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The Llama model as trainable DJL arrays under Hugging Face names and {@code (out, in)} layout, with a dense causal
 * forward pass for teacher-forced training. Exported weights load in the engine and the reference unchanged.
 */
final class TrainingLlama implements AutoCloseable {
  final LlamaConfig c;
  final NDManager manager;
  final Map<String, NDArray> params = new LinkedHashMap<>();
  private final NDArray ropeCos; // (positions, headDim/2)
  private final NDArray ropeSin;

  TrainingLlama(NDManager parent, LlamaConfig config, Map<String, Tensor> init) {
    this.c = config;
    this.manager = parent.newSubManager();
    for (Map.Entry<String, long[]> e : LlamaWeights.expectedShapes(config).entrySet()) {
      Tensor t = init.get(e.getKey());
      NDArray a = manager.create(t.data(), new Shape(e.getValue()));
      a.setRequiresGradient(true);
      params.put(e.getKey(), a);
    }
    RopeTables rope = new RopeTables(config);
    float[] cos = rope.flatCos();
    float[] sin = rope.flatSin();
    ropeCos = manager.create(cos, new Shape(rope.positions(), rope.half()));
    ropeSin = manager.create(sin, new Shape(rope.positions(), rope.half()));
  }

  /** Logits (B, T, vocab) for tokens (B, T), causal attention; every array is created in {@code step}. */
  NDArray forward(NDManager step, NDArray tokens) {
    long b = tokens.getShape().get(0);
    int t = (int) tokens.getShape().get(1);
    int d = c.headDim();
    int half = d / 2;
    NDArray cos = ropeCos.get(step, new NDIndex(":{}", t)).reshape(1, t, 1, half);
    NDArray sin = ropeSin.get(step, new NDIndex(":{}", t)).reshape(1, t, 1, half);
    float[] maskData = new float[t * t];
    for (int i = 0; i < t; i++) {
      for (int j = i + 1; j < t; j++) {
        maskData[i * t + j] = Float.NEGATIVE_INFINITY;
      }
    }
    NDArray mask = step.create(maskData, new Shape(1, 1, 1, t, t));
    float scale = (float) (1.0 / Math.sqrt(d));
    NDArray x = p(LlamaWeights.EMBED).get(step, new NDIndex("{}", tokens));
    for (int l = 0; l < c.numLayers(); l++) {
      NDArray xn = rmsNorm(x, p(LlamaWeights.layer(l, "input_layernorm.weight")));
      NDArray q = rope(linear(xn, l, "self_attn.q_proj.weight").reshape(b, t, c.numHeads(), d), cos, sin, half);
      NDArray k = rope(linear(xn, l, "self_attn.k_proj.weight").reshape(b, t, c.numKvHeads(), d), cos, sin, half);
      NDArray v = linear(xn, l, "self_attn.v_proj.weight").reshape(b, t, c.numKvHeads(), d);
      NDArray qg = q.transpose(0, 2, 1, 3).reshape(b, c.numKvHeads(), c.groupSize(), t, d);
      NDArray kg = k.transpose(0, 2, 3, 1).expandDims(2); // (B, kvHeads, 1, D, T)
      NDArray vg = v.transpose(0, 2, 1, 3).expandDims(2); // (B, kvHeads, 1, T, D)
      NDArray attn = qg.matMul(kg).mul(scale).add(mask).softmax(-1).matMul(vg)
          .reshape(b, c.numHeads(), t, d).transpose(0, 2, 1, 3).reshape(b, t, (long) c.numHeads() * d);
      x = x.add(attn.matMul(transposed(step, LlamaWeights.layer(l, "self_attn.o_proj.weight"))));
      NDArray xn2 = rmsNorm(x, p(LlamaWeights.layer(l, "post_attention_layernorm.weight")));
      NDArray gate = linear(xn2, l, "mlp.gate_proj.weight");
      NDArray up = linear(xn2, l, "mlp.up_proj.weight");
      NDArray gated = gate.mul(Activation.sigmoid(gate)).mul(up); // SwiGLU: silu(gate) * up
      x = x.add(gated.matMul(transposed(step, LlamaWeights.layer(l, "mlp.down_proj.weight"))));
    }
    String head = c.tieWordEmbeddings() ? LlamaWeights.EMBED : LlamaWeights.LM_HEAD;
    return rmsNorm(x, p(LlamaWeights.FINAL_NORM)).matMul(transposed(step, head));
  }

  private NDArray linear(NDArray x, int layer, String name) {
    return x.matMul(transposed(x.getManager(), LlamaWeights.layer(layer, name)));
  }

  /** W^T as a view owned by the step (a view made from a parameter would otherwise pile up in its manager). */
  private NDArray transposed(NDManager step, String name) {
    NDArray t = p(name).transpose();
    t.attach(step);
    return t;
  }

  private NDArray p(String name) {
    return params.get(name);
  }

  private NDArray rmsNorm(NDArray x, NDArray weight) {
    NDArray variance = x.square().mean(new int[] {-1}, true);
    return x.mul(variance.add((float) c.rmsNormEps()).sqrt().pow(-1f)).mul(weight);
  }

  private static NDArray rope(NDArray x, NDArray cos, NDArray sin, int half) {
    NDArray x1 = x.get(new NDIndex("..., :{}", half));
    NDArray x2 = x.get(new NDIndex("..., {}:", half));
    return NDArrays.concat(new NDList(x1.mul(cos).sub(x2.mul(sin)), x2.mul(cos).add(x1.mul(sin))), -1);
  }

  /** Current weights as plain tensors (for saving). */
  Map<String, Tensor> export() {
    Map<String, Tensor> out = new LinkedHashMap<>();
    params.forEach((n, a) -> out.put(n, new Tensor(a.toFloatArray(), a.getShape().getShape())));
    return out;
  }

  @Override
  public void close() {
    manager.close();
  }
}
