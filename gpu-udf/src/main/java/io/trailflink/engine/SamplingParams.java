package io.trailflink.engine;

/**
 * How the next token is chosen, in Hugging Face's order: the repetition penalty on the logits of every token already
 * in the prompt or the answer, then temperature 0 is greedy (argmax); otherwise softmax(logits / temperature)
 * restricted to the {@code topK} most likely tokens and then to the smallest set whose mass reaches {@code topP},
 * drawn with a generator seeded by {@code seed} so a request's text is reproducible.
 *
 * @param temperature 0 for greedy, else > 0
 * @param topP nucleus mass in (0, 1]
 * @param seed random seed of this request's sampler
 * @param topK most likely tokens kept (ties with the k-th kept too); 0 = all
 * @param repetitionPenalty divides positive and multiplies negative logits of tokens already seen; 1 = off
 */
public record SamplingParams(double temperature, double topP, long seed, int topK, double repetitionPenalty) {
  public static final SamplingParams GREEDY = new SamplingParams(0, 1, 0);

  public SamplingParams {
    if (!(temperature >= 0) || Double.isInfinite(temperature)) {
      throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
    }
    if (!(topP > 0 && topP <= 1)) {
      throw new IllegalArgumentException("top_p must be in (0, 1], got " + topP);
    }
    if (topK < 0) {
      throw new IllegalArgumentException("top_k must be >= 0, got " + topK);
    }
    if (!(repetitionPenalty > 0) || Double.isInfinite(repetitionPenalty)) {
      throw new IllegalArgumentException("repetition_penalty must be > 0, got " + repetitionPenalty);
    }
  }

  /** Without top-k or repetition penalty. */
  public SamplingParams(double temperature, double topP, long seed) {
    this(temperature, topP, seed, 0, 1);
  }

  public boolean greedy() {
    return temperature == 0;
  }

  /** True when the token is the logits' argmax, which the device can compute without sending the logits back. */
  public boolean plainArgmax() {
    return greedy() && repetitionPenalty == 1;
  }
}
