package io.trailflink.scheduler;

/**
 * Limits of one engine as the scheduler plans for it.
 *
 * @param maxRunning most requests decoding at once (continuous batching)
 * @param kvBlocks KV capacity in blocks
 * @param blockSize tokens per KV block
 * @param quantumTokens tokens each running request may generate before the scheduler runs again; KV for them is
 *     reserved ahead so the engine never runs out mid-quantum
 */
public record SchedulerConfig(int maxRunning, int kvBlocks, int blockSize, int quantumTokens)
    implements java.io.Serializable {
  public SchedulerConfig {
    if (maxRunning <= 0) {
      throw new IllegalArgumentException("max running must be > 0, got " + maxRunning);
    }
    if (kvBlocks <= 0 || blockSize <= 0) {
      throw new IllegalArgumentException("KV blocks and block size must be > 0");
    }
    if (quantumTokens <= 0) {
      throw new IllegalArgumentException("quantum must be > 0 tokens, got " + quantumTokens);
    }
  }
}
