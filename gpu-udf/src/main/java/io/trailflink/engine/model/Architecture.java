package io.trailflink.engine.model;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The decoder families the engine runs: all are Llama-shaped (RMSNorm, RoPE, grouped-query attention, SwiGLU);
 * they differ in what config.json says and in bias on the query/key/value projections.
 */
public enum Architecture {
  /** Llama 1, 2, 3, 3.1, 3.2 ({@code LlamaForCausalLM}, model_type llama). */
  LLAMA("llama", "LlamaForCausalLM", false),
  /** Mistral ({@code MistralForCausalLM}); sliding-window attention caps the context at the window. */
  MISTRAL("mistral", "MistralForCausalLM", false),
  /** Qwen2 and Qwen2.5 ({@code Qwen2ForCausalLM}): bias on the q/k/v projections. */
  QWEN2("qwen2", "Qwen2ForCausalLM", true);

  private final String modelType;
  private final String className;
  private final boolean qkvBias;

  Architecture(String modelType, String className, boolean qkvBias) {
    this.modelType = modelType;
    this.className = className;
    this.qkvBias = qkvBias;
  }

  public String modelType() {
    return modelType;
  }

  /** The class name config.json's {@code architectures} lists. */
  public String className() {
    return className;
  }

  /** Whether q_proj, k_proj and v_proj carry a bias. */
  public boolean qkvBias() {
    return qkvBias;
  }

  /** The family named by config.json's {@code model_type}, refused with the supported list otherwise. */
  static Architecture ofModelType(String modelType, String source) {
    for (Architecture a : values()) {
      if (a.modelType.equals(modelType)) {
        return a;
      }
    }
    throw new CheckpointException(source + ": model_type '" + modelType + "' is not supported (supported: "
        + Arrays.stream(values()).map(a -> a.modelType + " (" + a.className + ")").collect(Collectors.joining(", "))
        + ")");
  }

  /** Checks that config.json's {@code architectures} entry is this family's class. */
  void checkClassName(String name, String source) {
    if (!className.equals(name)) {
      throw new CheckpointException(source + ": architectures '" + name + "' is not supported (supported: "
          + Arrays.stream(values()).map(Architecture::className).collect(Collectors.joining(", ")) + ")");
    }
  }
}
