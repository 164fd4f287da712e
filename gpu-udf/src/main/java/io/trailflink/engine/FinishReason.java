package io.trailflink.engine;

/**
 * Why a sequence stopped generating. On the wire (responses, CLI output) every reason is one word of one
 * vocabulary, the one OpenAI-style servers use: {@link #STOP}, {@link #LENGTH}, {@link #ERROR}, {@link #CANCELLED},
 * and {@link #REJECTED} for a request refused at admission.
 */
public enum FinishReason {
  /** The model emitted an end-of-sequence token. */
  EOS(FinishReason.STOP),
  /** The text reached one of the request's stop strings (the text ends before it). */
  STOP_STRING(FinishReason.STOP),
  /** max_new_tokens reached. */
  MAX_TOKENS(FinishReason.LENGTH),
  /** The forced length of a trace-replay request reached. */
  FORCED_LENGTH(FinishReason.LENGTH),
  /** The model's context (max_position_embeddings) is full. */
  CONTEXT_FULL(FinishReason.LENGTH);

  /** Wire name: the answer ended by itself (EOS or a stop string). */
  public static final String STOP = "stop";
  /** Wire name: a length limit ended it (max_new_tokens, the forced length, or the context). */
  public static final String LENGTH = "length";
  /** Wire name: the engine failed the request (the response's error says why). */
  public static final String ERROR = "error";
  /** Wire name: the client cancelled it, or its deadline passed. */
  public static final String CANCELLED = "cancelled";
  /** Wire name: refused at admission (overload: the engine's waiting queue was full); the error says why. */
  public static final String REJECTED = "rejected";

  private final String wireName;

  FinishReason(String wireName) {
    this.wireName = wireName;
  }

  /** The word used in responses and CLI output. */
  public String wireName() {
    return wireName;
  }
}
