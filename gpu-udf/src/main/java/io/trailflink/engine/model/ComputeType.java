package io.trailflink.engine.model;

import java.util.Locale;

/**
 * The width an engine holds weights, activations and KV in. {@code auto} keeps a checkpoint at its own size: F16 for
 * a 16-bit checkpoint (BF16 is converted to F16: DJL cannot hold BF16), F32 for an F32 one.
 */
public enum ComputeType {
  F16,
  F32;

  /** Parses {@code auto}, {@code f16} or {@code f32}; {@code auto} is resolved against the weights. */
  public static ComputeType parse(String value, LlamaWeights weights) {
    return switch (value == null ? "auto" : value.toLowerCase(Locale.ROOT)) {
      case "auto" -> forWeights(weights);
      case "f16", "float16", "half" -> F16;
      case "f32", "float32" -> F32;
      default -> throw new IllegalArgumentException("--dtype must be auto, f16 or f32, got '" + value + "'");
    };
  }

  /** F16 when most of the checkpoint's bytes are 16-bit, else F32. */
  public static ComputeType forWeights(LlamaWeights weights) {
    return weights.sixteenBit() ? F16 : F32;
  }

  /** Checks a value without weights at hand (flags are checked before anything loads). */
  public static void check(String value) {
    String v = value == null ? "auto" : value.toLowerCase(Locale.ROOT);
    if (!v.equals("auto") && !v.equals("f16") && !v.equals("f32") && !v.equals("float16") && !v.equals("float32")
        && !v.equals("half")) {
      throw new IllegalArgumentException("--dtype must be auto, f16 or f32, got '" + value + "'");
    }
  }
}
