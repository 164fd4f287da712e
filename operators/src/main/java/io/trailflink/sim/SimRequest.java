package io.trailflink.sim;

/**
 * One request of a simulated workload.
 *
 * @param id request id
 * @param arrivalMs arrival time (ms from the start of the run)
 * @param promptTokens prompt length (tokens)
 * @param outputTokens true output length (tokens), at least 1
 */
public record SimRequest(String id, long arrivalMs, int promptTokens, int outputTokens) {
  public SimRequest {
    if (promptTokens < 1 || outputTokens < 1) {
      throw new IllegalArgumentException("request " + id + ": prompt and output must be >= 1 token");
    }
  }

  SimRequest at(long ms) {
    return new SimRequest(id, ms, promptTokens, outputTokens);
  }
}
