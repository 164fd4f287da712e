package io.trailflink.scheduler;

/**
 * One scheduling decision with its reason, for the engine to execute and for logs and tests to read.
 *
 * @param kind what was decided
 * @param requestId the request it concerns
 * @param reason why, in words
 */
public record Decision(Kind kind, String requestId, String reason) {
  public enum Kind {
    /** Submission accepted into the queue. */
    ACCEPT,
    /** Submission refused (e.g. can never fit the KV budget). */
    REJECT,
    /** Submission refused for overload: the engine's waiting queue is full (answered, not dead-lettered). */
    SHED,
    /** A waiting request starts: prefill, then decode. */
    ADMIT,
    /** A preempted request rejoins the batch (KV still resident) or an evicted one is recomputed. */
    RESUME,
    /** A running request leaves the batch for a shorter one and keeps its KV. */
    PREEMPT,
    /** A resident request's KV is freed under memory pressure; it will be recomputed. */
    EVICT
  }
}
