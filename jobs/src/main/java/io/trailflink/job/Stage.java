package io.trailflink.job;

/**
 * Every operator of the serving job, with its uid (the key of its state in checkpoints and savepoints: never
 * rename one) and the name shown in the web UI and metrics. The one place these are spelled.
 */
public enum Stage {
  REQUESTS("requests-source", "requests"),
  VALIDATE("validate", "validate"),
  OVERLOAD_GATE("overload-gate", "overload gate"),
  FEEDBACK("feedback-source", "predictions (feedback)"),
  STATUS_SOURCE("engine-status-source", "engine status (placement)"),
  PLACE("place", "place"),
  SCHEDULER("scheduler", "scheduler"),
  DECODE("decode", "decode (async engine)"),
  PREDICTOR("predictor", "predictor"),
  PREDICTIONS_SINK("predictions-sink", "predictions topic"),
  ENCODE_RESPONSES("responses-encode", "encode responses"),
  RESPONSES_SINK("responses-sink", "responses"),
  ENCODE_CHUNKS("chunks-encode", "encode chunks"),
  CHUNKS_SINK("chunks-sink", "chunks"),
  ENCODE_ETAS("etas-encode", "encode ETAs"),
  ETAS_SINK("etas-sink", "ETAs"),
  ENCODE_STATUS("engine-status-encode", "encode engine status"),
  STATUS_SINK("engine-status-sink", "engine status"),
  ENCODE_DEAD_LETTERS("dead-letters-encode", "encode dead letters"),
  DEAD_LETTERS_SINK("dead-letters-sink", "dead letters");

  /** State key in checkpoints and savepoints. */
  public final String uid;
  /** Display name in the web UI and in metric names. */
  public final String displayName;

  Stage(String uid, String displayName) {
    this.uid = uid;
    this.displayName = displayName;
  }
}
