package io.trailflink.engine;

import java.util.List;

/**
 * One request as the engine sees it.
 *
 * @param id unique request id
 * @param promptTokens prompt token ids (at least one)
 * @param maxNewTokens cap on generated tokens (tokens)
 * @param forcedLength if > 0, ignore EOS and stop after exactly this many tokens (trace replay); else 0
 * @param sampling how tokens are chosen
 * @param stop stop strings: generation ends with the token that completes one of them in the answer's text
 */
public record GenerationRequest(
    String id, int[] promptTokens, int maxNewTokens, int forcedLength, SamplingParams sampling, List<String> stop) {

  public GenerationRequest {
    stop = List.copyOf(stop);
  }

  /** Without stop strings. */
  public GenerationRequest(String id, int[] promptTokens, int maxNewTokens, int forcedLength, SamplingParams sampling) {
    this(id, promptTokens, maxNewTokens, forcedLength, sampling, List.of());
  }

  public static GenerationRequest greedy(String id, int[] promptTokens, int maxNewTokens) {
    return new GenerationRequest(id, promptTokens, maxNewTokens, 0, SamplingParams.GREEDY);
  }

  /** Tokens this request may generate: the forced length when set, else max_new_tokens. */
  public int tokenBudget() {
    return forcedLength > 0 ? forcedLength : maxNewTokens;
  }
}
