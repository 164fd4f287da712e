package io.trailflink.serving;

import io.trailflink.schema.Sampling;
import java.util.List;

/**
 * A request that passed validation, with its templated prompt tokenized and its engine chosen.
 *
 * @param id request id
 * @param tenant owner label
 * @param promptTokenIds templated prompt as token ids
 * @param maxNewTokens cap on generated tokens (tokens)
 * @param forcedOutputTokens exact output length for trace replay (tokens), 0 = off
 * @param sampling how tokens are chosen (the request's, or the model's generation_config.json defaults)
 * @param stop stop strings (empty for none)
 * @param submittedAtMs when the producer submitted it (epoch ms)
 * @param engineIndex the engine that serves it: its id's hash at validation, the placement operator's choice after
 * @param source the Kafka record it came from (for a dead letter if the scheduler refuses it); may be null
 * @param cancel true when this is a cancel of the request with this id (the other fields are empty)
 * @param deadlineAtMs when the request is cancelled if not finished (epoch ms); 0 = no deadline
 * @param placementSeq the placement operator's sequence number of this request on its engine (1, 2, … per engine;
 *     0 before placement): the engine reports the highest it has seen, so placement knows what its status counts
 */
public record ValidatedRequest(String id, String tenant, int[] promptTokenIds, int maxNewTokens,
    int forcedOutputTokens, Sampling sampling, List<String> stop, long submittedAtMs, int engineIndex,
    RawRecord source, boolean cancel, long deadlineAtMs, long placementSeq) implements java.io.Serializable {

  /** Before placement. */
  public ValidatedRequest(String id, String tenant, int[] promptTokenIds, int maxNewTokens, int forcedOutputTokens,
      Sampling sampling, List<String> stop, long submittedAtMs, int engineIndex, RawRecord source, boolean cancel,
      long deadlineAtMs) {
    this(id, tenant, promptTokenIds, maxNewTokens, forcedOutputTokens, sampling, stop, submittedAtMs, engineIndex,
        source, cancel, deadlineAtMs, 0);
  }

  /** A request to serve. */
  public ValidatedRequest(String id, String tenant, int[] promptTokenIds, int maxNewTokens, int forcedOutputTokens,
      Sampling sampling, List<String> stop, long submittedAtMs, int engineIndex, RawRecord source) {
    this(id, tenant, promptTokenIds, maxNewTokens, forcedOutputTokens, sampling, stop, submittedAtMs, engineIndex,
        source, false, 0);
  }

  /** The cancel of request {@code id}, routed to the engine that serves it. */
  public static ValidatedRequest cancelOf(String id, long submittedAtMs, int engineIndex, RawRecord source) {
    return new ValidatedRequest(id, "", new int[0], 0, 0, Sampling.newBuilder().build(), List.of(), submittedAtMs,
        engineIndex, source, true, 0);
  }

  /** The same request with a deadline (epoch ms; 0 = none). */
  public ValidatedRequest withDeadline(long atMs) {
    return new ValidatedRequest(id, tenant, promptTokenIds, maxNewTokens, forcedOutputTokens, sampling, stop,
        submittedAtMs, engineIndex, source, cancel, atMs, placementSeq);
  }

  /** The same request placed on engine {@code engine} as its {@code seq}-th placement there. */
  public ValidatedRequest placedOn(int engine, long seq) {
    return new ValidatedRequest(id, tenant, promptTokenIds, maxNewTokens, forcedOutputTokens, sampling, stop,
        submittedAtMs, engine, source, cancel, deadlineAtMs, seq);
  }

  public String engine() {
    return EngineId.of(engineIndex).name();
  }
}
