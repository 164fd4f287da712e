package io.trailflink.job;

import io.trailflink.engine.text.PromptEncoder;
import io.trailflink.predictor.PromptPrior;
import io.trailflink.schema.InferenceRequest;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/** The prompt prior's guess of each request's output, as the job makes it at acceptance (outside the job). */
public final class PromptPriorGuesses {
  private PromptPriorGuesses() {}

  /**
   * @param priorDir the prior's directory, or null for none
   * @param raw as {@code --raw-prompts}
   * @return per request, E[min(L, max_new_tokens)] (tokens); NaN everywhere without a prior, and for a request
   *     whose prompt the encoder refuses (the job refuses it too)
   */
  public static double[] of(Path model, Path priorDir, List<InferenceRequest> requests, boolean raw) {
    double[] out = new double[requests.size()];
    Arrays.fill(out, Double.NaN);
    if (priorDir == null) {
      return out;
    }
    PromptPrior prior = PromptPrior.load(priorDir);
    try (PromptEncoder encoder = PromptEncoder.forCheckpoint(model)) {
      for (int i = 0; i < out.length; i++) {
        InferenceRequest r = requests.get(i);
        try {
          out[i] = prior.predictTotal(PromptTokens.of(encoder, r, raw), r.getMaxNewTokens());
        } catch (RuntimeException e) { // refused by the template: no guess
          out[i] = Double.NaN;
        }
      }
    }
    return out;
  }
}
