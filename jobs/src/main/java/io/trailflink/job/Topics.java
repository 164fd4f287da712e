package io.trailflink.job;

import java.io.Serializable;
import java.util.List;

/**
 * The job's Kafka topics. Records are Avro binary (schemas in {@code schemas/}); keys are UTF-8 ids.
 *
 * @param prefix common prefix, e.g. {@code trail.}
 */
public record Topics(String prefix) implements Serializable {
  /** InferenceRequest, key = request id. Written by producers. */
  public String requests() {
    return prefix + "requests";
  }

  /** FinalResponse, exactly one per accepted request, key = request id. */
  public String responses() {
    return prefix + "responses";
  }

  /** ResponseChunk, the tokens of each request as they are produced (before its final response), key = request id. */
  public String chunks() {
    return prefix + "chunks";
  }

  /** EtaUpdate, predicted finish times of live requests, key = request id. */
  public String etas() {
    return prefix + "etas";
  }

  /** EngineStatus, each engine's queue, batch and KV after each command, key = engine. */
  public String engineStatus() {
    return prefix + "engine-status";
  }

  /** EngineFeedback (step facts + PredictionUpdates), key = engine; read back by the job as a broadcast stream. */
  public String predictions() {
    return prefix + "predictions";
  }

  /** DeadLetter: refused requests with their raw bytes and reason, key = request id when known. */
  public String deadLetters() {
    return prefix + "dead-letters";
  }

  public List<String> all() {
    return List.of(requests(), responses(), chunks(), etas(), engineStatus(), predictions(), deadLetters());
  }
}
