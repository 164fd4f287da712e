package io.trailflink.engine.train;

import java.util.List;

/** The bundled model's chat format; the special tokens are single ids in its tokenizer. */
public final class PromptTemplate {
  public static final String PAD = "<pad>";
  public static final String BOS = "<s>";
  public static final String EOS = "</s>";
  public static final String USER = "<|user|>";
  public static final String ASSISTANT = "<|assistant|>";
  public static final List<String> SPECIAL_TOKENS = List.of(PAD, BOS, EOS, USER, ASSISTANT);

  private PromptTemplate() {}

  /** What the model sees before its answer. */
  public static String prompt(String instruction) {
    return BOS + USER + "\n" + instruction.strip() + "\n" + ASSISTANT + "\n";
  }
}
