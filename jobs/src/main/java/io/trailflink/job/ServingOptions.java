package io.trailflink.job;

import io.trailflink.engine.EnginePriority;
import io.trailflink.scheduler.TenantShares;
import io.trailflink.scheduler.TenantWeights;
import io.trailflink.scheduler.placement.Placements;
import io.trailflink.serving.ServingConfig;
import io.trailflink.serving.records.RecordLimits;
import io.trailflink.predictor.PromptPrior;
import io.trailflink.predictor.TrailPredictor;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** Flags of the serving job, shared by {@code trail serve}, {@code trail demo} and the cluster entry point. */
public final class ServingOptions implements Serializable {
  private static final long serialVersionUID = 1L;

  @Option(names = "--bootstrap-servers", description = "Kafka bootstrap servers (host:port,...).")
  public String bootstrapServers = "localhost:9092";

  @Option(names = "--model", description = "Model directory (Hugging Face Llama layout); default: the bundled model.")
  public String modelDir;

  @Option(names = "--policy", description = "fcfs, sjf, sprpt, trail[:C], oracle[:C] (default: ${DEFAULT-VALUE}).")
  public String policy = "trail";

  @Option(names = "--engines", description = "Decode engines (one per async-UDF subtask; default: ${DEFAULT-VALUE}).")
  public int engines = 1;

  @Option(names = "--placement", description = "How a request's engine is chosen: hash (of its id), least-requests, "
      + "least-predicted-work or least-load (default: ${DEFAULT-VALUE}).")
  public String placement = ServingConfig.DEFAULT_PLACEMENT;

  @Option(names = "--fairness", description = "none (TRAIL's order across tenants) or tenant (weighted fair shares of "
      + "decode tokens across tenants, TRAIL's order within each; default: ${DEFAULT-VALUE}).")
  public String fairness = "none";

  @Option(names = "--tenant-weights", description = "Tenant weights for --fairness tenant, NAME:WEIGHT,...; a tenant "
      + "without one gets --default-tenant-weight.")
  public String tenantWeights;

  @Option(names = "--tenant-weights-file", description = "A file of NAME = WEIGHT lines, instead of --tenant-weights.")
  public String tenantWeightsFile;

  @Option(names = "--default-tenant-weight", description = "Weight of a tenant without one (default: ${DEFAULT-VALUE}).")
  public double defaultTenantWeight = 1;

  @Option(names = "--starvation-bound", description = "A queued request waits at most this multiple of its predicted "
      + "service time before it goes first (0 = off, default: ${DEFAULT-VALUE}).")
  public double starvationBound = 0;

  @Option(names = "--max-running", description = "Most requests decoding at once per engine (default: ${DEFAULT-VALUE}).")
  public int maxRunning = 16;

  @Option(names = "--kv-blocks", description = "KV capacity per engine in blocks (default: ${DEFAULT-VALUE}).")
  public int kvBlocks = 1024;

  @Option(names = "--block-size", description = "Tokens per KV block (default: ${DEFAULT-VALUE}).")
  public int blockSize = 16;

  /** Decode steps per command, the quantum (the first value given to {@code --decode-steps}). */
  public int decodeSteps = 8;

  /** Every value given to {@code --decode-steps}; several only where a command sweeps them ({@link #sweeps}). */
  public int[] decodeStepsSweep = {8};

  @Option(names = "--decode-steps", split = ",", paramLabel = "N", description = "Decode steps per command, the quantum (default: 8); trail bench takes several, a sweep.")
  void decodeSteps(int[] values) {
    decodeStepsSweep = values;
    decodeSteps = values.length == 0 ? decodeSteps : values[0];
  }

  @Option(names = "--pipeline-depth", description = "Commands in flight per engine: 1, or 2 to plan the next while one runs (default: ${DEFAULT-VALUE}).")
  public int pipelineDepth = 2;

  @Option(names = "--max-waiting", description = "Most requests waiting per engine; beyond it --overload decides (0 = unbounded, default: ${DEFAULT-VALUE}).")
  public int maxWaiting = 0;

  @Option(names = "--overload", description = "What happens beyond --max-waiting: shed (the request gets one final "
      + "response at once, finish_reason rejected) or backpressure (requests are held before placement and the job "
      + "stops reading the requests topic until the engines have room; nothing is refused) (default: ${DEFAULT-VALUE}).")
  public String overload = "shed";

  @Option(names = "--max-new-tokens-limit", description = "Largest max_new_tokens accepted (default: ${DEFAULT-VALUE}).")
  public int maxNewTokensLimit = 512;

  @Option(names = "--max-prompt-bytes", description = "Longest prompt accepted, in UTF-8 bytes; longer ones are dead-lettered before they are decoded (default: ${DEFAULT-VALUE}).")
  public int maxPromptBytes = RecordLimits.DEFAULT.maxPromptBytes();

  @Option(names = "--max-id-bytes", description = "Longest request id accepted, in UTF-8 bytes (default: ${DEFAULT-VALUE}).")
  public int maxIdBytes = RecordLimits.DEFAULT.maxIdBytes();

  @Option(names = "--max-record-bytes", description = "Largest Kafka record the job writes (key + value); a dead letter over it keeps only its first bytes, with size and hash. Keep it under the topics' max.message.bytes (default: ${DEFAULT-VALUE}).")
  public int maxRecordBytes = RecordLimits.DEFAULT.maxRecordBytes();

  @Option(names = "--tap-layer", description = "Layer whose hidden states the engine exports; -1 = the predictor's layer (default).")
  public int tapLayer = -1;

  @Option(names = "--predictor", description = "TRAIL predictor directory, or 'none' for the max_new_tokens fallback; default: MODEL/predictor.")
  public String predictorDir;

  @Option(names = "--capped-ranking", description = "Rank a predicted request by the expected remaining length up to its max_new_tokens over the predictor's bins, E[min(L, cap - generated)], instead of the expected length clamped to that cap (the default; the capped form measured no better: docs/benchmarks.md).")
  public boolean cappedRanking;

  @Option(names = "--no-prompt-prior", description = "Without the prompt prior: a waiting request TRAIL has not embedded yet (no KV room to park it) is ranked at its max_new_tokens and timed by the mean output of finished requests, instead of by the prior's guess from its prompt tokens (prompt-prior.json next to the predictor).")
  public boolean noPromptPrior;

  @Option(names = "--predictions", description = "Where the scheduler's predictions come from: model (the TRAIL predictor, default), or from each request's forced_output_tokens: oracle (the truth), noisy:MAE_INITIAL,MAE_REFINED (the simulator's error model), recorded:FILE (eval-predictor --record errors). For benchmarks.")
  public String predictions = ServingConfig.MODEL_PREDICTIONS;

  @Option(names = "--no-park", description = "Probe waiting prompts (a prefill whose KV is dropped, repeated at admission) instead of parking them (prefilled once, KV kept until admitted while a quarter of the KV stays free).")
  public boolean noPark;

  @Option(names = "--admission", description = "none, or predictive: a request with a deadline whose predicted finish (TRAIL's work ahead of it, the shorter work expected to arrive meanwhile, its own, at the engine's measured iteration time) is already past it is refused with one final response, rejected (deadline-unreachable): at acceptance, or at its first prediction when the model predicts it later (default: ${DEFAULT-VALUE}).")
  public String admission = "none";

  @Option(names = "--eta-every-ms", description = "Publish each live request's predicted finish time on the ETA topic again after this long; it is also published at acceptance and at its first prediction; 0 = no ETA stream (default: ${DEFAULT-VALUE}).")
  public long etaEveryMs = ServingConfig.DEFAULT_ETA_EVERY_MS;

  /** Run the predictor every K tokens; 0 = the predictor's setting (the first value given to --refresh-every). */
  public int refreshEvery = 0;

  /** Every value given to {@code --refresh-every}; several only where a command sweeps them ({@link #sweeps}). */
  public int[] refreshEverySweep = {0};

  @Option(names = "--refresh-every", split = ",", paramLabel = "K", description = "Run the predictor every K tokens; 0 = the predictor's setting (default: 0); trail bench takes several, a sweep.")
  void refreshEvery(int[] values) {
    refreshEverySweep = values;
    refreshEvery = values.length == 0 ? refreshEvery : values[0];
  }

  /** Whether the command sweeps --decode-steps and --refresh-every (trail bench); elsewhere each takes one value. */
  public boolean sweeps;

  @Option(names = "--device", description = "cpu, gpu, gpu:N or auto (default: ${DEFAULT-VALUE}).")
  public String device = "auto";

  @Option(names = "--dtype", description = "Width of the engine's weights, activations and KV: auto (the checkpoint's own; bf16 becomes f16), f16 or f32 (default: ${DEFAULT-VALUE}).")
  public String dtype = "auto";

  @Option(names = "--raw-prompts", description = "Tokenize plain prompts as the tokenizer encodes them (with the BOS it adds) instead of through the model's chat template (messages always use the template).")
  public boolean rawPrompts;

  @Option(names = "--checkpoint-interval-ms", description = "Checkpoint interval in ms; 0 = off (default: ${DEFAULT-VALUE}).")
  public long checkpointIntervalMs = 10_000;

  @Option(names = "--max-restart-delay-ms", description = "A failed job restarts after a delay that starts at 1 s and "
      + "grows 1.5× per failure up to this (ms); a minute without failure resets it. Flink's own default grows to a "
      + "minute and resets only after an hour of calm (default: ${DEFAULT-VALUE}).")
  public long maxRestartDelayMs = 10_000;

  @Option(names = "--checkpoint-dir", description = "Checkpoint storage (a file:// or other Flink file-system URI shared by every TaskManager); default: the cluster's execution.checkpointing.dir, or on the embedded default a folder under the system temp dir. Never the JobManager's memory, whose 5 MB limit a large backlog exceeds.")
  public String checkpointDir;

  @Option(names = "--from-savepoint", paramLabel = "PATH", description = "Start from a savepoint or retained "
      + "checkpoint (the folder Flink's stop-with-savepoint reported): every request in flight then resumes, with the "
      + "tokens it had, on this run's engines. On a cluster: flink run -s PATH.")
  public String fromSavepoint;

  /**
   * The schema the scheduler's keyed state is declared with (JSON; null: this build's {@code EngineLoopState}).
   * Upgrade tests set another, as a build whose state record gained a field would have.
   */
  public String engineStateSchema;

  @Option(names = "--exactly-once", description = "Transactional responses and dead-letter topics: no duplicate final response after a restore; records appear at checkpoints (read them read_committed).")
  public boolean exactlyOnce;

  @Option(names = "--buffer-timeout-ms", description = "Network buffer timeout in ms; 0 flushes every record (default: ${DEFAULT-VALUE}).")
  public long bufferTimeoutMs = 0;

  @Option(names = "--stall-timeout-ms", description = "Give up a command without feedback after this long (default: ${DEFAULT-VALUE}).")
  public long stallTimeoutMs = 120_000;

  @Option(names = "--prometheus-port", description = "Expose Flink's metrics for Prometheus on this port (local cluster; 0 = off, default).")
  public int prometheusPort = 0;

  @Option(names = "--engine-threads", description = "PyTorch threads of each CPU engine (0 = auto, default: PyTorch's own count but one core left to Flink and Kafka).")
  public int engineThreads = 0;

  @Option(names = "--engine-nice", converter = EnginePriorityConverter.class, description = "CPU priority of each CPU engine's decode thread, so that the scheduler and Kafka threads preempt it: idle (Linux SCHED_IDLE: preempted at once), a nice value 1-19, or 0 = unchanged (default: ${DEFAULT-VALUE} when serving, 0 for a batch, which wants throughput; ignored on a GPU).")
  public EnginePriority engineNice = EnginePriority.IDLE;

  @Option(names = "--fail-at-command", description = "Fault drill: fail the engine task once at its N-th command to rehearse recovery (0 = off, default).")
  public int failAtCommand = 0;

  @Option(names = "--topic-prefix", description = "Prefix of the job's topics (default: ${DEFAULT-VALUE}).")
  public String topicPrefix = "trail.";

  @Option(names = "--group-id", description = "Kafka consumer group of the requests source (default: ${DEFAULT-VALUE}).")
  public String groupId = "trail-serving";

  /** The predictor directory to use, or null for none (default: {@code predictor/} next to the model, if there). */
  public Path predictor(Path modelDir) {
    if ("none".equals(predictorDir)) {
      return null;
    }
    Path p = predictorDir != null ? Path.of(predictorDir) : modelDir.resolve("predictor");
    if (predictorDir == null && !Files.isRegularFile(p.resolve(TrailPredictor.SPEC_FILE))) {
      return null;
    }
    return p;
  }

  /**
   * The prompt prior's directory, or null for none: the predictor's directory when it holds one, unless
   * {@code --no-prompt-prior}; a prior that cannot be read or reads words instead of tokens is refused here, in
   * one line, before anything starts.
   */
  public Path promptPrior(Path predictor) {
    if (noPromptPrior || predictor == null || !PromptPrior.exists(predictor)) {
      return null;
    }
    if (PromptPrior.load(predictor).features() != PromptPrior.Features.TOKENS) {
      throw new IllegalArgumentException(predictor.resolve(PromptPrior.SPEC_FILE) + " reads words, not prompt tokens: "
          + "train it with train-prompt-prior");
    }
    return predictor.toAbsolutePath(); // the TaskManagers resolve it, not this command's working directory
  }

  /** The engine's tap layer: the predictor's unless given; they must agree. */
  public int engineTapLayer(Path predictor) {
    if (predictor == null) {
      return tapLayer;
    }
    int layer = TrailPredictor.readSpec(predictor).layer();
    if (tapLayer >= 0 && tapLayer != layer) {
      throw new IllegalArgumentException("--tap-layer " + tapLayer + " but the predictor at " + predictor
          + " reads layer " + layer);
    }
    return layer;
  }

  /** Settings for a cluster this process starts itself (MiniCluster): the Prometheus reporter when asked for. */
  public void configureLocalCluster(org.apache.flink.configuration.Configuration conf) {
    if (fromSavepoint != null) {
      conf.set(org.apache.flink.configuration.StateRecoveryOptions.SAVEPOINT_PATH, fromSavepoint);
    }
    if (prometheusPort > 0) {
      conf.setString("metrics.reporter.prom.factory.class",
          "org.apache.flink.metrics.prometheus.PrometheusReporterFactory");
      conf.setString("metrics.reporter.prom.port", Integer.toString(prometheusPort));
    }
  }

  public Topics topics() {
    return new Topics(topicPrefix);
  }

  /** Whether {@code --admission} is predictive; a one-line error for an unknown value. */
  boolean predictiveAdmission() {
    return switch (admission) {
      case "none" -> false;
      case "predictive" -> true;
      default -> throw new IllegalArgumentException("--admission must be none or predictive, got " + admission);
    };
  }

  /** Whether {@code --overload} is backpressure; a one-line error for an unknown value or one without a limit. */
  public boolean backpressure() {
    return switch (overload) {
      case "shed" -> false;
      case "backpressure" -> {
        if (maxWaiting <= 0) {
          throw new IllegalArgumentException("--overload backpressure needs --max-waiting > 0, got " + maxWaiting);
        }
        yield true;
      }
      default -> throw new IllegalArgumentException("--overload must be shed or backpressure, got '" + overload + "'");
    };
  }

  /** Flags that need no model (--engines, --placement, --fairness, the tenant weights, …): one-line errors. */
  private void checkModelFreeFlags() {
    backpressure();
    if (!sweeps && (decodeStepsSweep.length > 1 || refreshEverySweep.length > 1)) {
      throw new IllegalArgumentException((decodeStepsSweep.length > 1 ? "--decode-steps" : "--refresh-every")
          + " takes one value here (several make a sweep only in trail bench)");
    }
    for (int d : decodeStepsSweep) {
      if (d < 1) {
        throw new IllegalArgumentException("--decode-steps must be >= 1, got " + d);
      }
    }
    for (int k : refreshEverySweep) {
      if (k < 0) {
        throw new IllegalArgumentException("--refresh-every must be >= 0 (0 = the predictor's setting), got " + k);
      }
    }
    if (fromSavepoint != null) {
      String local = fromSavepoint.startsWith("file:") ? java.net.URI.create(fromSavepoint).getPath() : fromSavepoint;
      if (!fromSavepoint.contains("://") || fromSavepoint.startsWith("file:")) {
        if (!java.nio.file.Files.isDirectory(java.nio.file.Path.of(local))) {
          throw new IllegalArgumentException("--from-savepoint " + fromSavepoint + ": no such folder");
        }
      }
    }
    if (maxRestartDelayMs < 1_000) {
      throw new IllegalArgumentException("--max-restart-delay-ms must be >= 1000, got " + maxRestartDelayMs);
    }
    if (engines < 1) {
      throw new IllegalArgumentException("--engines must be > 0, got " + engines);
    }
    try {
      Placements.parse(placement);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--placement: " + e.getMessage());
    }
    tenantShares();
    if (!(starvationBound >= 0) || Double.isInfinite(starvationBound)) {
      throw new IllegalArgumentException("--starvation-bound must be >= 0 (0 = off), got " + starvationBound);
    }
  }

  /** The tenant shares of {@code --fairness tenant} (null for none); one-line errors naming the flag. */
  TenantShares tenantShares() {
    switch (fairness) {
      case "none" -> {
        if (tenantWeights != null || tenantWeightsFile != null) {
          throw new IllegalArgumentException("--tenant-weights and --tenant-weights-file need --fairness tenant");
        }
        return null;
      }
      case "tenant" -> {
        if (tenantWeights != null && tenantWeightsFile != null) {
          throw new IllegalArgumentException("give --tenant-weights or --tenant-weights-file, not both");
        }
        if (!(defaultTenantWeight > 0) || Double.isInfinite(defaultTenantWeight)) {
          throw new IllegalArgumentException("--default-tenant-weight must be > 0, got " + defaultTenantWeight);
        }
        Map<String, Double> weights;
        try {
          weights = tenantWeightsFile != null ? TenantWeights.read(Path.of(tenantWeightsFile))
              : tenantWeights != null ? TenantWeights.parse(tenantWeights) : Map.of();
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException((tenantWeightsFile != null ? "--tenant-weights-file " : "--tenant-weights ")
              + e.getMessage());
        }
        return new TenantShares(weights, defaultTenantWeight);
      }
      default -> throw new IllegalArgumentException("--fairness must be none or tenant, got '" + fairness + "'");
    }
  }

  /**
   * The scheduling side's settings.
   *
   * @param contextTokens the model's context, read from its config.json
   * @param probeBatch waiting prompts embedded per command for the predictor (0 without one)
   */
  public ServingConfig servingConfig(int contextTokens, int probeBatch) {
    return servingConfig(contextTokens, probeBatch, null);
  }

  /** The same with a prompt prior ({@link #promptPrior}; null = none). */
  public ServingConfig servingConfig(int contextTokens, int probeBatch, Path promptPrior) {
    checkModelFreeFlags();
    // with backpressure the gate before placement keeps the queues within --max-waiting: the engines refuse nothing
    return new ServingConfig(policy, engines, maxRunning, kvBlocks, blockSize, decodeSteps, maxNewTokensLimit,
        contextTokens, stallTimeoutMs, probeBatch, pipelineDepth, backpressure() ? 0 : maxWaiting, predictions,
        !noPark, etaEveryMs,
        predictiveAdmission(), placement, tenantShares(), starvationBound,
        promptPrior == null ? null : promptPrior.toString());
  }

  /**
   * Checks every flag against the model before anything starts (Kafka, Flink): a bad value ends the command with
   * one line naming the flag, not a stack trace from inside the job.
   */
  public void check(Path modelDir) {
    checkModelFreeFlags(); // flags that need no model first
    io.trailflink.engine.model.LlamaConfig model = io.trailflink.engine.model.LlamaConfig.load(modelDir);
    servingConfig(model.maxPositions(), 0); // policy, engines, max-running, kv-blocks, decode-steps, ...
    recordLimits();
    io.trailflink.engine.model.ComputeType.check(dtype);
    if (exactlyOnce && checkpointIntervalMs <= 0) {
      throw new IllegalArgumentException("--exactly-once needs checkpoints: --checkpoint-interval-ms > 0");
    }
  }

  /** Sizes the job enforces on the records it reads and writes. */
  public RecordLimits recordLimits() {
    return new RecordLimits(maxRecordBytes, maxIdBytes, maxPromptBytes);
  }

  /** Parses {@code --engine-nice}: a nice value or {@code idle}. */
  static final class EnginePriorityConverter implements ITypeConverter<EnginePriority> {
    @Override
    public EnginePriority convert(String value) {
      try {
        return EnginePriority.parse(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }
}
