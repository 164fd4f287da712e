package io.trailflink.engine.reference;

import io.trailflink.engine.model.LlamaConfig;
import io.trailflink.engine.model.LlamaWeights;
import io.trailflink.engine.model.RopeTables;
import io.trailflink.engine.model.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A slow, obviously correct Llama forward pass in plain Java: one token at a time, scalar loops, double
 * accumulators, a plain per-sequence KV cache. It is the yardstick the DJL engine is tested and benchmarked against.
 *
 * <p>Matches Hugging Face {@code LlamaForCausalLM} (and Mistral; Qwen2 with its q/k/v bias): RMSNorm (x · rsqrt(mean(x²) + eps) · w), rotate-half RoPE,
 * grouped-query attention (query head h reads key/value head h / group), SwiGLU MLP, tied or untied head.
 * It keeps its own float32 copy of every weight on the heap (tests and benchmarks only; the engine does not).
 */
public final class ReferenceLlama {
  private final LlamaConfig c;
  private final LlamaWeights w;
  private final Map<String, Tensor> f32 = new HashMap<>(); // float32 copies, made on first use
  private final RopeTables rope;

  public ReferenceLlama(LlamaWeights weights) {
    this.w = weights;
    this.c = weights.config();
    this.rope = new RopeTables(c);
  }

  private Tensor t(String name) {
    return f32.computeIfAbsent(name, w::get);
  }

  /** A q/k/v projection, plus its bias when the architecture has one (Qwen2). */
  private float[] projection(int layer, String proj, float[] x) {
    float[] y = matVec(t(LlamaWeights.layer(layer, "self_attn." + proj + ".weight")), x);
    if (c.architecture().qkvBias()) {
      float[] bias = t(LlamaWeights.layer(layer, "self_attn." + proj + ".bias")).data();
      for (int i = 0; i < y.length; i++) {
        y[i] += bias[i];
      }
    }
    return y;
  }

  /** One sequence's cache: keys and values per layer per position. */
  public final class Sequence {
    private final List<float[][]> keys = new ArrayList<>(); // per position: (layer, kvDim)
    private final List<float[][]> values = new ArrayList<>(); // per position: (layer, kvDim)

    public int length() {
      return keys.size();
    }
  }

  /**
   * Output of one token's forward pass.
   *
   * @param logits next-token logits, length vocab
   * @param hidden residual stream after each layer: index l is after l decoder layers (0 = embedding)
   */
  public record Output(float[] logits, float[][] hidden) {}

  public Sequence newSequence() {
    return new Sequence();
  }

  /** Feeds {@code token} at position {@code seq.length()} and appends its keys and values to the cache. */
  public Output forward(Sequence seq, int token) {
    int pos = seq.length();
    if (pos >= rope.positions()) {
      throw new IllegalArgumentException("position " + pos + " beyond max_position_embeddings");
    }
    int h = c.hiddenSize();
    float[][] hidden = new float[c.numLayers() + 1][];
    float[] x = row(t(LlamaWeights.EMBED), token);
    hidden[0] = x.clone();
    float[][] newK = new float[c.numLayers()][];
    float[][] newV = new float[c.numLayers()][];
    for (int l = 0; l < c.numLayers(); l++) {
      float[] xn = rmsNorm(x, t(LlamaWeights.layer(l, "input_layernorm.weight")).data());
      float[] q = projection(l, "q_proj", xn);
      float[] k = projection(l, "k_proj", xn);
      float[] v = projection(l, "v_proj", xn);
      applyRope(q, c.numHeads(), pos);
      applyRope(k, c.numKvHeads(), pos);
      newK[l] = k;
      newV[l] = v;
      float[] attn = attention(seq, l, q, k, v);
      float[] o = matVec(t(LlamaWeights.layer(l, "self_attn.o_proj.weight")), attn);
      for (int i = 0; i < h; i++) {
        x[i] += o[i];
      }
      float[] xn2 = rmsNorm(x, t(LlamaWeights.layer(l, "post_attention_layernorm.weight")).data());
      float[] gate = matVec(t(LlamaWeights.layer(l, "mlp.gate_proj.weight")), xn2);
      float[] up = matVec(t(LlamaWeights.layer(l, "mlp.up_proj.weight")), xn2);
      for (int i = 0; i < gate.length; i++) {
        double g = gate[i];
        gate[i] = (float) (g / (1 + Math.exp(-g)) * up[i]);
      }
      float[] down = matVec(t(LlamaWeights.layer(l, "mlp.down_proj.weight")), gate);
      for (int i = 0; i < h; i++) {
        x[i] += down[i];
      }
      hidden[l + 1] = x.clone();
    }
    seq.keys.add(newK);
    seq.values.add(newV);
    float[] logits = matVec(t(w.lmHeadName()), rmsNorm(x, t(LlamaWeights.FINAL_NORM).data()));
    return new Output(logits, hidden);
  }

  /** Attention of the new query over the cached positions plus the new key/value (causal by construction). */
  private float[] attention(Sequence seq, int layer, float[] q, float[] k, float[] v) {
    int d = c.headDim();
    int n = seq.length() + 1;
    float[] out = new float[c.numHeads() * d];
    double scale = 1.0 / Math.sqrt(d);
    for (int head = 0; head < c.numHeads(); head++) {
      int kvHead = head / c.groupSize();
      double[] scores = new double[n];
      double max = Double.NEGATIVE_INFINITY;
      for (int p = 0; p < n; p++) {
        float[] kp = p < n - 1 ? seq.keys.get(p)[layer] : k;
        double s = 0;
        for (int i = 0; i < d; i++) {
          s += (double) q[head * d + i] * kp[kvHead * d + i];
        }
        scores[p] = s * scale;
        max = Math.max(max, scores[p]);
      }
      double sum = 0;
      for (int p = 0; p < n; p++) {
        scores[p] = Math.exp(scores[p] - max);
        sum += scores[p];
      }
      for (int i = 0; i < d; i++) {
        double acc = 0;
        for (int p = 0; p < n; p++) {
          float[] vp = p < n - 1 ? seq.values.get(p)[layer] : v;
          acc += scores[p] / sum * vp[kvHead * d + i];
        }
        out[head * d + i] = (float) acc;
      }
    }
    return out;
  }

  private void applyRope(float[] vec, int heads, int pos) {
    int d = c.headDim();
    int half = d / 2;
    float[] cos = rope.cos(pos);
    float[] sin = rope.sin(pos);
    for (int head = 0; head < heads; head++) {
      int base = head * d;
      for (int i = 0; i < half; i++) {
        float a = vec[base + i];
        float b = vec[base + half + i];
        vec[base + i] = a * cos[i] - b * sin[i];
        vec[base + half + i] = b * cos[i] + a * sin[i];
      }
    }
  }

  private float[] rmsNorm(float[] x, float[] weight) {
    double ss = 0;
    for (float v : x) {
      ss += (double) v * v;
    }
    double inv = 1.0 / Math.sqrt(ss / x.length + c.rmsNormEps());
    float[] out = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      out[i] = (float) (x[i] * inv) * weight[i];
    }
    return out;
  }

  /** y = W x for W in Hugging Face's (out, in) layout. */
  private static float[] matVec(Tensor weight, float[] x) {
    int out = weight.rows();
    int in = weight.cols();
    float[] data = weight.data();
    float[] y = new float[out];
    for (int o = 0; o < out; o++) {
      double acc = 0;
      int base = o * in;
      for (int i = 0; i < in; i++) {
        acc += (double) data[base + i] * x[i];
      }
      y[o] = (float) acc;
    }
    return y;
  }

  private static float[] row(Tensor t, int r) {
    float[] out = new float[t.cols()];
    System.arraycopy(t.data(), r * t.cols(), out, 0, out.length);
    return out;
  }
}
