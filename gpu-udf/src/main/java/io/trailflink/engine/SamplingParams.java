package io.trailflink.engine;

/**
 * How the next token is chosen. Temperature 0 is greedy (argmax); otherwise softmax(logits / temperature)
 * restricted to the smallest set of tokens whose mass reaches {@code topP}, drawn with a generator seeded by
 * {@code seed} so a request's text is reproducible.
 *
 * @param temperature 0 for greedy, else > 0
 * @param topP nucleus mass in (0, 1]
 * @param seed random seed of this request's sampler
 */
public record SamplingParams(double temperature, double topP, long seed) {
  public static final SamplingParams GREEDY = new SamplingParams(0, 1, 0);

  public SamplingParams {
    if (!(temperature >= 0) || Double.isInfinite(temperature)) {
      throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
    }
    if (!(topP > 0 && topP <= 1)) {
      throw new IllegalArgumentException("top_p must be in (0, 1], got " + topP);
    }
  }

  public boolean greedy() {
    return temperature == 0;
  }
}
