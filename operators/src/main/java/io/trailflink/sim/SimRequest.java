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
 * @param hopMs time from arrival until the scheduler sees the request (ms): in a replay of a live run, its hops
 *     through Kafka and validation; 0 in a pure simulation. Latency and TTFT still count from the arrival
 */
public record SimRequest(String id, long arrivalMs, int promptTokens, int outputTokens, String tenant,
    double promptPrior, long hopMs) {
  public SimRequest {
    if (promptTokens < 1 || outputTokens < 1) {
      throw new IllegalArgumentException("request " + id + ": prompt and output must be >= 1 token");
    }
    if (hopMs < 0) {
      throw new IllegalArgumentException("request " + id + ": hop must be >= 0 ms, got " + hopMs);
    }
    tenant = tenant == null ? "" : tenant;
  }

  public SimRequest(String id, long arrivalMs, int promptTokens, int outputTokens, String tenant,
      double promptPrior) {
    this(id, arrivalMs, promptTokens, outputTokens, tenant, promptPrior, 0);
  }

  public SimRequest(String id, long arrivalMs, int promptTokens, int outputTokens, String tenant) {
    this(id, arrivalMs, promptTokens, outputTokens, tenant, Double.NaN);
  }

  public SimRequest(String id, long arrivalMs, int promptTokens, int outputTokens) {
    this(id, arrivalMs, promptTokens, outputTokens, "");
  }

  SimRequest at(long ms) {
    return new SimRequest(id, ms, promptTokens, outputTokens, tenant, promptPrior, hopMs);
  }

  /** When the scheduler sees the request (ms): its arrival plus the hop. */
  public long visibleMs() {
    return arrivalMs + hopMs;
  }

  /** The same request owned by {@code owner}. */
  public SimRequest ownedBy(String owner) {
    return new SimRequest(id, arrivalMs, promptTokens, outputTokens, owner, promptPrior, hopMs);
  }

  /** The same request with the prompt prior's guess {@code tokens} (NaN: none). */
  public SimRequest withPromptPrior(double tokens) {
    return new SimRequest(id, arrivalMs, promptTokens, outputTokens, tenant, tokens, hopMs);
  }

  /** The same request reaching the scheduler {@code ms} after its arrival. */
  public SimRequest withHop(long ms) {
    return new SimRequest(id, arrivalMs, promptTokens, outputTokens, tenant, promptPrior, ms);
  }
}
