package io.trailflink.engine;

/** Why a sequence stopped generating. */
public enum FinishReason {
  /** The model emitted an end-of-sequence token. */
  EOS,
  /** max_new_tokens reached. */
  MAX_TOKENS,
  /** The forced length of a trace-replay request reached. */
  FORCED_LENGTH,
  /** The model's context (max_position_embeddings) is full. */
  CONTEXT_FULL
}
