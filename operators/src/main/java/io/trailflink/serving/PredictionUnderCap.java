package io.trailflink.serving;

import io.trailflink.predictor.LengthBins;
import io.trailflink.schema.PredictionUpdate;
import java.util.List;

/**
 * The remaining length a prediction gives a request under its own cap, which the scheduler ranks it by. The
 * predictor's bins cover its whole range ({@code bins_cap_tokens}, 512 for the bundled one) and know nothing of a
 * request's {@code max_new_tokens}; where that cap binds, the expected remaining is E[min(L, cap − generated)] over
 * the bins ({@link LengthBins#expectationUpTo}), not E[L] clamped to the cap — which ties every request likely to run
 * to its cap and drops what the bins say about the ones that may stop early. Only with {@code --capped-ranking}
 * (the feedback then carries the bins' range): on the bundled predictor it measured no better than the clamp
 * (docs/benchmarks.md, "Ranking under the request's own cap"). Plain Java.
 */
public final class PredictionUnderCap {
  private PredictionUnderCap() {}

  /**
   * @param maxNewTokens the request's cap (tokens)
   * @return remaining output tokens: the bins' expectation up to the cap where it binds, else the prediction as
   *     published (the scheduler clamps it to the cap)
   */
  public static double remaining(PredictionUpdate u, int maxNewTokens) {
    int binsCap = u.getBinsCapTokens();
    List<Float> bins = u.getBinProbabilities();
    double left = (double) maxNewTokens - u.getGenerated();
    if (binsCap <= 0 || bins.size() < 2 || left >= binsCap) {
      return u.getPredictedRemaining();
    }
    float[] p = new float[bins.size()];
    for (int i = 0; i < p.length; i++) {
      p[i] = bins.get(i);
    }
    return new LengthBins(p.length, Math.max(binsCap, p.length)).expectationUpTo(p, left);
  }
}
