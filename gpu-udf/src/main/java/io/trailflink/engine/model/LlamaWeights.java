package io.trailflink.engine.model;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The tensors of a Llama checkpoint under Hugging Face names, checked against the config's shapes.
 *
 * <p>Linear weights keep Hugging Face's {@code (out, in)} layout. Missing or mis-shaped tensors are refused with
 * their name and the expected shape. The values stay in their files ({@link TensorSlice}) until the engine maps
 * them; {@link #get} widens one to float32 on the heap (the reference forward pass, tests).
 */
public final class LlamaWeights {
  public static final String EMBED = "model.embed_tokens.weight";
  public static final String FINAL_NORM = "model.norm.weight";
  public static final String LM_HEAD = "lm_head.weight";

  private final LlamaConfig config;
  private final Map<String, TensorSlice> tensors;

  public LlamaWeights(LlamaConfig config, Map<String, TensorSlice> tensors, String source) {
    this.config = config;
    this.tensors = new LinkedHashMap<>(tensors);
    List<String> problems = new ArrayList<>();
    expectedShapes(config).forEach((name, shape) -> {
      TensorSlice t = tensors.get(name);
      if (t == null) {
        problems.add("missing tensor '" + name + "'");
      } else if (!java.util.Arrays.equals(t.shape(), shape)) {
        problems.add("tensor '" + name + "' has shape " + t.shapeString()
            + ", config.json implies " + java.util.Arrays.toString(shape));
      }
    });
    if (!problems.isEmpty()) {
      throw new CheckpointException(source + ": " + String.join("; ", problems));
    }
  }

  /** Every tensor the config requires, with its {@code (out, in)} shape. */
  public static Map<String, long[]> expectedShapes(LlamaConfig c) {
    Map<String, long[]> m = new LinkedHashMap<>();
    long h = c.hiddenSize();
    m.put(EMBED, new long[] {c.vocabSize(), h});
    for (int i = 0; i < c.numLayers(); i++) {
      m.put(layer(i, "input_layernorm.weight"), new long[] {h});
      m.put(layer(i, "self_attn.q_proj.weight"), new long[] {(long) c.numHeads() * c.headDim(), h});
      m.put(layer(i, "self_attn.k_proj.weight"), new long[] {c.kvDim(), h});
      m.put(layer(i, "self_attn.v_proj.weight"), new long[] {c.kvDim(), h});
      if (c.architecture().qkvBias()) {
        m.put(layer(i, "self_attn.q_proj.bias"), new long[] {(long) c.numHeads() * c.headDim()});
        m.put(layer(i, "self_attn.k_proj.bias"), new long[] {c.kvDim()});
        m.put(layer(i, "self_attn.v_proj.bias"), new long[] {c.kvDim()});
      }
      m.put(layer(i, "self_attn.o_proj.weight"), new long[] {h, (long) c.numHeads() * c.headDim()});
      m.put(layer(i, "post_attention_layernorm.weight"), new long[] {h});
      m.put(layer(i, "mlp.gate_proj.weight"), new long[] {c.intermediateSize(), h});
      m.put(layer(i, "mlp.up_proj.weight"), new long[] {c.intermediateSize(), h});
      m.put(layer(i, "mlp.down_proj.weight"), new long[] {h, c.intermediateSize()});
    }
    m.put(FINAL_NORM, new long[] {h});
    if (!c.tieWordEmbeddings()) {
      m.put(LM_HEAD, new long[] {c.vocabSize(), h});
    }
    return m;
  }

  /** Hugging Face name of a tensor in decoder layer {@code i}. */
  public static String layer(int i, String suffix) {
    return "model.layers." + i + "." + suffix;
  }

  public LlamaConfig config() {
    return config;
  }

  /** Where the tensor lies in its file. */
  public TensorSlice slice(String name) {
    TensorSlice t = tensors.get(name);
    if (t == null) {
      throw new IllegalArgumentException("no tensor " + name);
    }
    return t;
  }

  /** The tensor widened to float32 on the heap. */
  public Tensor get(String name) {
    return slice(name).toTensor();
  }

  /** Name of the LM head: {@code lm_head.weight}, or the embedding matrix when tied. */
  public String lmHeadName() {
    return config.tieWordEmbeddings() ? EMBED : LM_HEAD;
  }

  /** Parameter count (tied head counted once). */
  public long parameterCount() {
    long n = 0;
    for (String name : expectedShapes(config).keySet()) {
      n += tensors.get(name).count();
    }
    return n;
  }

  /** Whether the checkpoint stores its (largest share of) weights in 16 bits (BF16 or F16). */
  public boolean sixteenBit() {
    long narrow = 0;
    long all = 0;
    for (String name : expectedShapes(config).keySet()) {
      TensorSlice t = tensors.get(name);
      all += t.count();
      narrow += t.dtype() == DType.F32 ? 0 : t.count();
    }
    return narrow * 2 > all;
  }

  /** Bytes of the required tensors in their files (tied head counted once). */
  public long fileBytes() {
    long n = 0;
    for (String name : expectedShapes(config).keySet()) {
      n += tensors.get(name).bytes();
    }
    return n;
  }
}
