package io.trailflink.scheduler.placement;

/**
 * One engine's load as placement sees it: exact in the simulator, the engine's last status plus what was placed
 * since in the job.
 *
 * @param requests live requests: running plus queued (waiting, preempted, evicted)
 * @param running requests in the batch
 * @param maxRunning most requests the engine batches at once (its slots)
 * @param predictedWorkTokens sum of the live requests' predicted remaining output (tokens)
 * @param kvFreeBlocks KV blocks not held by any request
 * @param kvCapacityBlocks KV capacity (blocks)
 */
public record EngineLoad(int requests, int running, int maxRunning, double predictedWorkTokens, int kvFreeBlocks,
    int kvCapacityBlocks) implements java.io.Serializable {

  /** Requests beyond the engine's slots: how many would wait ahead of a newcomer that does not preempt. */
  public int backlog() {
    return Math.max(0, requests - maxRunning);
  }
}
