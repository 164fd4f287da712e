package io.trailflink.sim;

/**
 * One request of a simulated workload.
 *
 * @param id request id
 * @param arrivalMs arrival time (ms from the start of the run)
 * @param promptTokens prompt length (tokens)
 * @param outputTokens true output length (tokens), at least 1
 * @param tenant owner label ("" when the workload has none)
 * @param promptPrior the prompt prior's guess of the output (tokens) that ranks the request until it is predicted,
 *     as in the live job; NaN: none
 */
public record SimRequest(String id, long arrivalMs, int promptTokens, int outputTokens, String tenant,
    double promptPrior) {
  public SimRequest {
    if (promptTokens < 1 || outputTokens < 1) {
      throw new IllegalArgumentException("request " + id + ": prompt and output must be >= 1 token");
    }
    tenant = tenant == null ? "" : tenant;
  }

  public SimRequest(String id, long arrivalMs, int promptTokens, int outputTokens, String tenant) {
    this(id, arrivalMs, promptTokens, outputTokens, tenant, Double.NaN);
  }

  public SimRequest(String id, long arrivalMs, int promptTokens, int outputTokens) {
    this(id, arrivalMs, promptTokens, outputTokens, "");
  }

  SimRequest at(long ms) {
    return new SimRequest(id, ms, promptTokens, outputTokens, tenant, promptPrior);
  }

  /** The same request owned by {@code owner}. */
  public SimRequest ownedBy(String owner) {
    return new SimRequest(id, arrivalMs, promptTokens, outputTokens, owner, promptPrior);
  }

  /** The same request with the prompt prior's guess {@code tokens} (NaN: none). */
  public SimRequest withPromptPrior(double tokens) {
    return new SimRequest(id, arrivalMs, promptTokens, outputTokens, tenant, tokens);
  }
}
