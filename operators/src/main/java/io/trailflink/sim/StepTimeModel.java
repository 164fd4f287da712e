package io.trailflink.sim;

/**
 * Duration of one engine iteration (ms): {@code fixed + perSequence · running + perPrefillToken · prefilled}, where
 * running is the batch size and prefilled the prompt (or recomputed) tokens processed in that iteration.
 *
 * @param fixedMs per-iteration overhead (ms)
 * @param perSequenceMs cost per running sequence (ms)
 * @param perPrefillTokenMs cost per prefilled token (ms)
 */
public record StepTimeModel(double fixedMs, double perSequenceMs, double perPrefillTokenMs) {
  public StepTimeModel {
    if (fixedMs < 0 || perSequenceMs < 0 || perPrefillTokenMs < 0 || fixedMs + perSequenceMs <= 0) {
      throw new IllegalArgumentException("step-time model needs non-negative costs and a positive decode cost");
    }
  }

  public double iterationMs(int running, long prefillTokens) {
    return fixedMs + perSequenceMs * running + perPrefillTokenMs * prefillTokens;
  }

  /** Parses {@code FIXED,PER_SEQ,PER_PREFILL_TOKEN} (ms). */
  public static StepTimeModel parse(String s) {
    String[] p = s.split(",");
    if (p.length != 3) {
      throw new IllegalArgumentException("--step-model needs FIXED_MS,PER_SEQ_MS,PER_PREFILL_TOKEN_MS, got '" + s + "'");
    }
    return new StepTimeModel(Double.parseDouble(p[0]), Double.parseDouble(p[1]), Double.parseDouble(p[2]));
  }
}
