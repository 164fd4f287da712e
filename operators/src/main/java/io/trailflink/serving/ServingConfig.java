package io.trailflink.serving;

import io.trailflink.scheduler.Policy;
import io.trailflink.scheduler.Scheduler;
import io.trailflink.scheduler.SchedulerConfig;
import io.trailflink.scheduler.TenantShares;
import io.trailflink.scheduler.placement.Placement;
import io.trailflink.scheduler.placement.Placements;
import io.trailflink.scheduler.policy.Policies;
import java.io.Serializable;

/**
 * Settings of the serving job's scheduling side, identical for every engine.
 *
 * @param policy policy spec as users write it ({@code fcfs, sjf, sprpt, trail[:C], oracle[:C]})
 * @param engines number of decode engines (one Flink key and one async-UDF subtask each)
 * @param maxRunning most requests decoding at once per engine
 * @param kvBlocks KV capacity per engine (blocks); must match the engine's
 * @param blockSize tokens per KV block
 * @param decodeSteps decode steps per command (the quantum, tokens per running request per round trip)
 * @param maxNewTokensLimit largest max_new_tokens a request may ask for (tokens)
 * @param contextTokens the model's context (tokens): prompt plus output must fit
 * @param stallTimeoutMs a command without feedback for this long is given up and the engine reset (ms)
 * @param probeBatch most waiting requests whose prompts the engine embeds per command, so the predictor can rank
 *     them before admission; 0 when there is no predictor
 * @param pipelineDepth commands in flight per engine: 1 waits for each command's feedback; 2 plans the next command
 *     while the engine runs the current one (KV is then reserved two quanta ahead)
 * @param maxWaiting most requests waiting per engine; a request beyond it is shed with a final response
 *     {@code rejected} (overloaded); 0 = unbounded
 * @param predictions where the scheduler's predictions come from: {@code model} (the TRAIL predictor, through the
 *     feedback) or a {@link io.trailflink.sim.PredictionModel} spec ({@code oracle}, {@code noisy:A,B},
 *     {@code recorded:FILE}) applied to each request's forced output length — for benchmarks on real execution
 * @param park whether a waiting request embedded for its initial prediction keeps its KV (prefilled once, paused
 *     until admitted, while a quarter of the KV stays free) instead of being probed (a prefill whose KV is dropped
 *     and repeated at admission)
 * @param etaEveryMs how often a live request's ETA is published again on the ETA stream (ms); 0 = no ETA stream
 * @param predictiveAdmission refuse a request with a deadline whose ETA (the work ahead of it, the shorter work
 *     expected to arrive while it waits, its own) is past it: one final response {@code rejected}, error
 *     {@code deadline-unreachable: …}; judged at acceptance or, for a request predicted later, at its first
 *     prediction
 * @param placement how the placement operator picks a request's engine ({@link Placements#KNOWN})
 * @param tenantShares weighted fair shares of decode tokens between tenants, each engine keeping fresh counters;
 *     null: TRAIL's order across tenants
 * @param starvationBound a queued request waits at most this multiple of its predicted service time before it
 *     goes first; 0 = off
 * @param promptPriorDir directory of a {@link io.trailflink.predictor.PromptPrior} (tokens) that predicts a request's
 *     length from its prompt at acceptance, for ranking and timing it until TRAIL's own prediction comes; null = none
 */
public record ServingConfig(String policy, int engines, int maxRunning, int kvBlocks, int blockSize, int decodeSteps,
    int maxNewTokensLimit, int contextTokens, long stallTimeoutMs, int probeBatch, int pipelineDepth,
    int maxWaiting, String predictions, boolean park, long etaEveryMs, boolean predictiveAdmission,
    String placement, TenantShares tenantShares, double starvationBound, String promptPriorDir)
    implements Serializable {

  /** Without a prompt prior. */
  public ServingConfig(String policy, int engines, int maxRunning, int kvBlocks, int blockSize, int decodeSteps,
      int maxNewTokensLimit, int contextTokens, long stallTimeoutMs, int probeBatch, int pipelineDepth,
      int maxWaiting, String predictions, boolean park, long etaEveryMs, boolean predictiveAdmission,
      String placement, TenantShares tenantShares, double starvationBound) {
    this(policy, engines, maxRunning, kvBlocks, blockSize, decodeSteps, maxNewTokensLimit, contextTokens,
        stallTimeoutMs, probeBatch, pipelineDepth, maxWaiting, predictions, park, etaEveryMs, predictiveAdmission,
        placement, tenantShares, starvationBound, null);
  }

  /** The default placement, no tenant shares, no starvation bound. */
  public ServingConfig(String policy, int engines, int maxRunning, int kvBlocks, int blockSize, int decodeSteps,
      int maxNewTokensLimit, int contextTokens, long stallTimeoutMs, int probeBatch, int pipelineDepth,
      int maxWaiting, String predictions, boolean park, long etaEveryMs, boolean predictiveAdmission) {
    this(policy, engines, maxRunning, kvBlocks, blockSize, decodeSteps, maxNewTokensLimit, contextTokens,
        stallTimeoutMs, probeBatch, pipelineDepth, maxWaiting, predictions, park, etaEveryMs, predictiveAdmission,
        DEFAULT_PLACEMENT, null, 0);
  }

  /**
   * {@link #placement} by default: least-requests, the placement the 64-engine simulation chose (docs/benchmarks.md,
   * "Many engines"): best or within 4 % of the best on every figure where slots bind and where KV binds.
   */
  public static final String DEFAULT_PLACEMENT = "least-requests";

  /** Without predictive admission. */
  public ServingConfig(String policy, int engines, int maxRunning, int kvBlocks, int blockSize, int decodeSteps,
      int maxNewTokensLimit, int contextTokens, long stallTimeoutMs, int probeBatch, int pipelineDepth,
      int maxWaiting, String predictions, boolean park, long etaEveryMs) {
    this(policy, engines, maxRunning, kvBlocks, blockSize, decodeSteps, maxNewTokensLimit, contextTokens,
        stallTimeoutMs, probeBatch, pipelineDepth, maxWaiting, predictions, park, etaEveryMs, false);
  }

  /** {@link #etaEveryMs} by default (ms). */
  public static final long DEFAULT_ETA_EVERY_MS = 1_000;

  /** ETAs every {@link #DEFAULT_ETA_EVERY_MS}. */
  public ServingConfig(String policy, int engines, int maxRunning, int kvBlocks, int blockSize, int decodeSteps,
      int maxNewTokensLimit, int contextTokens, long stallTimeoutMs, int probeBatch, int pipelineDepth,
      int maxWaiting, String predictions, boolean park) {
    this(policy, engines, maxRunning, kvBlocks, blockSize, decodeSteps, maxNewTokensLimit, contextTokens,
        stallTimeoutMs, probeBatch, pipelineDepth, maxWaiting, predictions, park, DEFAULT_ETA_EVERY_MS);
  }

  /** Parking waiting requests' prefills. */
  public ServingConfig(String policy, int engines, int maxRunning, int kvBlocks, int blockSize, int decodeSteps,
      int maxNewTokensLimit, int contextTokens, long stallTimeoutMs, int probeBatch, int pipelineDepth,
      int maxWaiting, String predictions) {
    this(policy, engines, maxRunning, kvBlocks, blockSize, decodeSteps, maxNewTokensLimit, contextTokens,
        stallTimeoutMs, probeBatch, pipelineDepth, maxWaiting, predictions, true);
  }

  /** The predictions of the TRAIL predictor. */
  public ServingConfig(String policy, int engines, int maxRunning, int kvBlocks, int blockSize, int decodeSteps,
      int maxNewTokensLimit, int contextTokens, long stallTimeoutMs, int probeBatch, int pipelineDepth,
      int maxWaiting) {
    this(policy, engines, maxRunning, kvBlocks, blockSize, decodeSteps, maxNewTokensLimit, contextTokens,
        stallTimeoutMs, probeBatch, pipelineDepth, maxWaiting, MODEL_PREDICTIONS);
  }

  /** {@link #predictions} of the TRAIL predictor. */
  public static final String MODEL_PREDICTIONS = "model";

  /** Without a bound on the waiting queue. */
  public ServingConfig(String policy, int engines, int maxRunning, int kvBlocks, int blockSize, int decodeSteps,
      int maxNewTokensLimit, int contextTokens, long stallTimeoutMs, int probeBatch, int pipelineDepth) {
    this(policy, engines, maxRunning, kvBlocks, blockSize, decodeSteps, maxNewTokensLimit, contextTokens,
        stallTimeoutMs, probeBatch, pipelineDepth, 0);
  }

  /** Without prompt probes (no predictor). */
  public ServingConfig(String policy, int engines, int maxRunning, int kvBlocks, int blockSize, int decodeSteps,
      int maxNewTokensLimit, int contextTokens, long stallTimeoutMs) {
    this(policy, engines, maxRunning, kvBlocks, blockSize, decodeSteps, maxNewTokensLimit, contextTokens,
        stallTimeoutMs, 0, 1);
  }

  public ServingConfig {
    try {
      Policies.parse(policy, 0.8);
    } catch (IllegalArgumentException e) { // an unknown policy: one line naming the flag
      throw new IllegalArgumentException("--policy: " + e.getMessage());
    }
    if (engines <= 0) {
      throw new IllegalArgumentException("--engines must be > 0, got " + engines);
    }
    if (decodeSteps <= 0) {
      throw new IllegalArgumentException("decode steps must be > 0, got " + decodeSteps);
    }
    if (maxNewTokensLimit <= 0 || contextTokens <= 0) {
      throw new IllegalArgumentException("max_new_tokens limit and context must be > 0");
    }
    if (etaEveryMs < 0) {
      throw new IllegalArgumentException("--eta-every-ms must be >= 0 (0 = no ETA stream), got " + etaEveryMs);
    }
    if (pipelineDepth < 1 || pipelineDepth > 2) {
      throw new IllegalArgumentException("pipeline depth must be 1 or 2, got " + pipelineDepth);
    }
    if (maxWaiting < 0) {
      throw new IllegalArgumentException("--max-waiting must be >= 0 (0 = unbounded), got " + maxWaiting);
    }
    if (probeBatch < 0) {
      throw new IllegalArgumentException("probe batch must be >= 0, got " + probeBatch);
    }
    if (predictions == null) {
      predictions = MODEL_PREDICTIONS; // null: the default
    }
    if (!MODEL_PREDICTIONS.equals(predictions)) {
      if (predictions.startsWith("fixed:")) {
        throw new IllegalArgumentException("--predictions must be model, oracle, noisy:A,B or recorded:FILE, got '"
            + predictions + "'");
      }
      io.trailflink.sim.PredictionModel.parse(predictions, 0); // one line on a bad spec or an unreadable file
    }
    if (placement == null) {
      placement = DEFAULT_PLACEMENT; // null: the default
    }
    Placements.parse(placement); // one line on an unknown placement
    if (!(starvationBound >= 0) || Double.isInfinite(starvationBound)) {
      throw new IllegalArgumentException("--starvation-bound must be >= 0 (0 = off), got " + starvationBound);
    }
    new SchedulerConfig(maxRunning, kvBlocks, blockSize, decodeSteps * pipelineDepth + 1); // validates the rest
  }

  /** The placement policy. */
  public Placement newPlacement() {
    return Placements.parse(placement);
  }

  /** A fresh scheduler for one engine, with this configuration's policy, limits, tenant shares and bound. */
  public Scheduler newScheduler() {
    Scheduler s = new Scheduler(newPolicy(), schedulerConfig(), tenantShares == null ? null : tenantShares.fresh());
    s.setStarvationBound(starvationBound);
    return s;
  }

  /** Whether predictions are made from forced lengths instead of by the TRAIL predictor. */
  public boolean syntheticPredictions() {
    return !MODEL_PREDICTIONS.equals(predictions);
  }

  public Policy newPolicy() {
    return Policies.parse(policy, 0.8);
  }

  /**
   * The scheduler reserves KV for one token more than the quantum: a request admitted in a command gets its
   * first token from the prefill and then {@code decodeSteps} more.
   */
  public SchedulerConfig schedulerConfig() {
    return new SchedulerConfig(maxRunning, kvBlocks, blockSize, decodeSteps * pipelineDepth + 1);
  }

  /** The engine a request id hashes to: where validation sends it before placement (and hash placement keeps it). */
  public int engineFor(String requestId) {
    return Placement.hash(requestId, engines);
  }
}
