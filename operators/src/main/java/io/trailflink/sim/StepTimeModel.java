package io.trailflink.sim;

/**
 * Duration of one engine iteration (ms): {@code fixed + perSequence · running + perPrefillToken · prefilled +
 * perContextToken · context}, where running is the batch size, prefilled the prompt (or recomputed) tokens
 * processed in that iteration and context the tokens the batch attends to (prompt plus generated, summed); and
 * {@code perCommand} once per command, the engine's idle time between two commands of the live loop.
 *
 * @param fixedMs per-iteration overhead (ms)
 * @param perSequenceMs cost per running sequence (ms)
 * @param perPrefillTokenMs cost per prefilled token (ms)
 * @param perContextTokenMs cost per token of context attended to (ms)
 * @param perCommandMs cost once per command (ms): what a smaller quantum pays more often
 */
public record StepTimeModel(double fixedMs, double perSequenceMs, double perPrefillTokenMs,
    double perContextTokenMs, double perCommandMs) {
  public StepTimeModel {
    if (fixedMs < 0 || perSequenceMs < 0 || perPrefillTokenMs < 0 || perContextTokenMs < 0 || perCommandMs < 0
        || fixedMs + perSequenceMs + perContextTokenMs <= 0) {
      throw new IllegalArgumentException("step-time model needs non-negative costs and a positive decode cost");
    }
  }

  /** A model with no cost per command. */
  public StepTimeModel(double fixedMs, double perSequenceMs, double perPrefillTokenMs, double perContextTokenMs) {
    this(fixedMs, perSequenceMs, perPrefillTokenMs, perContextTokenMs, 0);
  }

  /** A model whose cost does not grow with context. */
  public StepTimeModel(double fixedMs, double perSequenceMs, double perPrefillTokenMs) {
    this(fixedMs, perSequenceMs, perPrefillTokenMs, 0);
  }

  public double iterationMs(int running, long prefillTokens) {
    return iterationMs(running, prefillTokens, 0);
  }

  public double iterationMs(int running, long prefillTokens, long contextTokens) {
    return fixedMs + perSequenceMs * running + perPrefillTokenMs * prefillTokens + perContextTokenMs * contextTokens;
  }

  /** Parses {@code FIXED,PER_SEQ,PER_PREFILL_TOKEN[,PER_CONTEXT_TOKEN]} (ms). */
  public static StepTimeModel parse(String s) {
    String[] p = s.split(",");
    if (p.length != 3 && p.length != 4) {
      throw new IllegalArgumentException("--step-model needs FIXED_MS,PER_SEQ_MS,PER_PREFILL_TOKEN_MS[,PER_CONTEXT_TOKEN_MS],"
          + " got '" + s + "'");
    }
    return new StepTimeModel(Double.parseDouble(p[0]), Double.parseDouble(p[1]), Double.parseDouble(p[2]),
        p.length == 4 ? Double.parseDouble(p[3]) : 0);
  }
}
