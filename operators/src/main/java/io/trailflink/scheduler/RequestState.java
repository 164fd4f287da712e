package io.trailflink.scheduler;

/** Where a request is in its life; a request is in exactly one state. */
public enum RequestState {
  /** Accepted, never run yet. */
  WAITING,
  /** In the decode batch; holds KV. */
  RUNNING,
  /** Taken out of the batch by a shorter request; keeps its KV (TRAIL's premise). */
  PREEMPTED,
  /** KV freed under memory pressure; will be recomputed from prompt + generated tokens. */
  EVICTED,
  /** Generated its last token. */
  FINISHED,
  /** Refused at submission (it can never fit, or is invalid). */
  REJECTED,
  /** Withdrawn by its client. */
  CANCELLED;

  public boolean resident() {
    return this == RUNNING || this == PREEMPTED;
  }

  public boolean terminal() {
    return this == FINISHED || this == REJECTED || this == CANCELLED;
  }
}
