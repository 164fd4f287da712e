package io.trailflink.job;

import io.trailflink.engine.EngineConfig;
import io.trailflink.engine.flink.DecodeStepFunction;
import io.trailflink.engine.model.LlamaConfig;
import io.trailflink.engine.text.ChatTemplate;
import io.trailflink.engine.text.PromptEncoder;
import io.trailflink.engine.text.TokenizerConfig;
import io.trailflink.flink.DeadLetters;
import io.trailflink.flink.EncodeDeadLetters;
import io.trailflink.flink.EncodeRecords;
import io.trailflink.flink.FeedbackFunction;
import io.trailflink.flink.PlaceRequestFunction;
import io.trailflink.flink.EngineSlotSerializer;
import io.trailflink.flink.SchedulerFunction;
import io.trailflink.flink.ValidateRequestFunction;
import io.trailflink.predictor.PromptPrior;
import io.trailflink.predictor.TrailPredictor;
import io.trailflink.scheduler.policy.Policies;
import io.trailflink.scheduler.policy.TrailPolicy;
import io.trailflink.schema.DeadLetter;
import io.trailflink.schema.EngineFeedback;
import io.trailflink.schema.EngineStatus;
import io.trailflink.schema.EtaUpdate;
import io.trailflink.schema.FinalResponse;
import io.trailflink.schema.ResponseChunk;
import io.trailflink.schema.SchemaFingerprints;
import io.trailflink.schema.StepCommand;
import io.trailflink.schema.StepResult;
import io.trailflink.serving.EngineId;
import io.trailflink.serving.RawRecord;
import io.trailflink.serving.ServingConfig;
import io.trailflink.serving.ValidatedRequest;
import io.trailflink.serving.records.KafkaBytes;
import io.trailflink.serving.records.RecordLimits;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecord;
import org.apache.avro.specific.SpecificRecordBase;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.formats.avro.AvroSerializationSchema;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * TRAIL as a Flink streaming job. The data flow, top to bottom in {@link #build}:
 * <pre>
 * requests (io) ─► validate ─(bad)─► dead letters (io)
 *                      │
 *           [overload gate: holds requests while the engines are full; --overload backpressure only]
 *                      │
 *                   place (one key: every engine's load) ◄── engine-status topic ◄──────────────────┐
 *                      │                                                                            │
 *                keyBy(engine) ──► scheduler (keyed; TRAIL + KV budget) ◄── keyBy(engine) ◄── predictions topic
 *                                     │ StepCommand     │ responses, chunks, ETAs, status ─┘     ▲
 *                     partition by engine index         ▼                                        │
 *                                     ▼          encode ─► their sinks (io)                      │
 *                          async decode UDF (one engine per subtask) ─► StepResult ─► keyBy(engine) ─► predictor
 * </pre>
 * The edges marked (io) are the caller's {@link ServingIO}: the Kafka topics when serving, other sources and
 * sinks in tests. Flink 2 has no iterations, so the feedback (step facts and predictions) always goes round
 * through the Kafka predictions topic, and the engines' loads through the engine-status topic; latency matters
 * there, so the buffer timeout defaults to 0 and producers do not linger. Operator uids and names come from {@link Stage}.
 */
public final class TrailServingJob {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(TrailServingJob.class);
  /** Longest a checkpoint barrier may block one of an operator's inputs before the checkpoint goes unaligned (ms). */
  static final long ALIGNMENT_TIMEOUT_MS = 100;
  private TrailServingJob() {}

  /** Adds the serving job to {@code env} with its edges on Kafka; call {@code env.execute} or {@code executeAsync}. */
  public static void build(StreamExecutionEnvironment env, ServingOptions o, Path modelDir, long startedAtMs) {
    build(env, o, modelDir, startedAtMs, new KafkaServingIO(o));
  }

  /** Adds the serving job to {@code env}, reading requests from and writing answers to {@code io}. */
  public static void build(StreamExecutionEnvironment env, ServingOptions o, Path modelDir, long startedAtMs,
      ServingIO io) {
    LlamaConfig model = LlamaConfig.load(modelDir); // the context only: the engines load the weights
    Path predictor = o.predictor(modelDir);
    if (predictor != null) {
      TrailPredictor.load(predictor, model.hiddenSize()); // refuse a bad predictor at submission, not per request
    }
    checkPromptEncoding(modelDir, o.rawPrompts); // a missing tokenizer or broken template: refused at submission
    // parking (prefilling waiting requests ahead of their turn, once) serves every policy alike; probing (a prefill
    // whose KV is dropped, paid again at admission) only where predictions decide something
    boolean probe = predictor != null && ServingConfig.MODEL_PREDICTIONS.equals(o.predictions)
        && Policies.parse(o.policy, TrailPolicy.PAPER_C).usesPredictions();
    Path promptPrior = o.promptPrior(predictor);
    ServingConfig config = o.servingConfig(model.maxPositions(), !o.noPark || probe ? o.maxRunning : 0,
        promptPrior);
    LOG.info("prompt prior: {}", promptPrior != null ? promptPrior.resolve(PromptPrior.SPEC_FILE)
        + " (waiting requests not predicted yet are ranked and timed by its guess)" : "none");
    RecordLimits limits = o.recordLimits();
    Topics topics = o.topics();
    configure(env, o);

    DataStream<RawRecord> raw = env.fromSource(io.requests(), WatermarkStrategy.noWatermarks(),
        Stage.REQUESTS.displayName).uid(Stage.REQUESTS.uid).setParallelism(1);

    SingleOutputStreamOperator<ValidatedRequest> valid = named(raw
        .process(new ValidateRequestFunction(config, limits, modelDir.toString(), o.rawPrompts)), Stage.VALIDATE)
        .setParallelism(1);

    // --overload backpressure: requests wait here while the engines are full, and the source stops reading
    DataStream<ValidatedRequest> admitted = !o.backpressure() ? valid : named(AsyncDataStream.orderedWait(valid,
        new OverloadGateFunction(o.bootstrapServers, topics.engineStatus(), o.engines, o.maxRunning, o.maxWaiting,
            startedAtMs), 0, TimeUnit.MILLISECONDS, OverloadGateFunction.CAPACITY), Stage.OVERLOAD_GATE)
        .setParallelism(1);

    DataStream<EngineFeedback> feedback = env.fromSource(readBack(o, topics.predictions(), "-feedback",
        EngineFeedback.class, startedAtMs), WatermarkStrategy.noWatermarks(), Stage.FEEDBACK.displayName)
        .uid(Stage.FEEDBACK.uid).setParallelism(1);

    DataStream<EngineStatus> engineLoads = env.fromSource(readBack(o, topics.engineStatus(), "-placement",
        EngineStatus.class, startedAtMs), WatermarkStrategy.noWatermarks(), Stage.STATUS_SOURCE.displayName)
        .uid(Stage.STATUS_SOURCE.uid).setParallelism(1);

    // one constant key on both sides: placement is one decision over every engine's load, so one instance sees all
    SingleOutputStreamOperator<ValidatedRequest> placed = named(admitted
        .keyBy(r -> PlaceRequestFunction.KEY, Types.INT)
        .connect(engineLoads.keyBy(s -> PlaceRequestFunction.KEY, Types.INT))
        .process(new PlaceRequestFunction(config)), Stage.PLACE).setParallelism(1);

    // keyed by engine on both sides: a request by the engine placement chose, feedback by the engine that produced
    // it, so each record reaches its own engine's scheduler state only, whatever the number of engines
    SingleOutputStreamOperator<StepCommand> commands = named(placed
        .keyBy(ValidatedRequest::engineIndex, Types.INT)
        .connect(feedback.keyBy(fb -> EngineId.keyOf(fb.getEngine()), Types.INT))
        .process(new SchedulerFunction(config, o.engineStateSchema == null ? new EngineSlotSerializer()
            : new EngineSlotSerializer().declaring(new Schema.Parser().parse(o.engineStateSchema)))), Stage.SCHEDULER)
        .setParallelism(o.engines);

    // engine i's commands to decode subtask i (there are as many subtasks as engines)
    DataStream<StepCommand> toEngines = commands.partitionCustom((Integer engine, int n) -> engine % n,
        StepCommand::getEngineIndex);
    EngineConfig engineConfig = new EngineConfig(o.kvBlocks, o.blockSize, o.engineTapLayer(predictor), o.device,
        o.dtype);
    DecodeStepFunction decode = new DecodeStepFunction(modelDir.toString(), engineConfig, o.failAtCommand)
        .cpuThreads(o.engineThreads).cpuPriority(o.engineNice);
    SingleOutputStreamOperator<StepResult> results = named(
        AsyncDataStream.orderedWait(toEngines, decode, 10, TimeUnit.MINUTES, 2), Stage.DECODE).setParallelism(o.engines);

    // keyed by engine: a request's predictor state lives with the engine that serves it
    SingleOutputStreamOperator<EngineFeedback> predictions = named(results
        .keyBy(StepResult::getEngine)
        .process(new FeedbackFunction(predictor == null ? null : predictor.toString(), model.hiddenSize(),
            o.refreshEvery, o.cappedRanking)), Stage.PREDICTOR).setParallelism(o.engines);

    // the loop's return path stays at-least-once (it cannot wait for checkpoints); the scheduler drops repeats
    predictions.sinkTo(feedbackSink(o, topics.predictions()))
        .uid(Stage.PREDICTIONS_SINK.uid).name(Stage.PREDICTIONS_SINK.displayName).setParallelism(1);

    // outputs are encoded and sized before their sinks: a record a sink would refuse becomes a dead letter, not a
    // sink failure that restarts the job onto the same record
    int maxBytes = limits.maxRecordBytes();
    DataStream<DeadLetter> unwritable = valid.getSideOutput(DeadLetters.TAG)
        .union(commands.getSideOutput(DeadLetters.TAG))
        .union(output(commands.getSideOutput(SchedulerFunction.RESPONSES), new EncodeRecords<>(FinalResponse.class,
            topics.responses(), maxBytes, FinalResponse::getRequestId), io.responses(), Stage.ENCODE_RESPONSES,
            Stage.RESPONSES_SINK))
        .union(output(commands.getSideOutput(SchedulerFunction.CHUNKS), new EncodeRecords<>(ResponseChunk.class,
            topics.chunks(), maxBytes, ResponseChunk::getRequestId), io.chunks(), Stage.ENCODE_CHUNKS,
            Stage.CHUNKS_SINK))
        .union(output(commands.getSideOutput(SchedulerFunction.ETAS), new EncodeRecords<>(EtaUpdate.class,
            topics.etas(), maxBytes, EtaUpdate::getRequestId), io.etas(), Stage.ENCODE_ETAS, Stage.ETAS_SINK))
        .union(output(commands.getSideOutput(SchedulerFunction.STATUS), new EncodeRecords<>(EngineStatus.class,
            topics.engineStatus(), maxBytes, EngineStatus::getEngine), io.engineStatus(), Stage.ENCODE_STATUS,
            Stage.STATUS_SINK));

    named(unwritable
        .process(new EncodeDeadLetters(topics.deadLetters(), limits)), Stage.ENCODE_DEAD_LETTERS).setParallelism(1)
        .sinkTo(io.deadLetters())
        .uid(Stage.DEAD_LETTERS_SINK.uid).name(Stage.DEAD_LETTERS_SINK.displayName).setParallelism(1);
  }

  /**
   * Encodes {@code records} for their topic and sinks them; returns the records that could not be written, as dead
   * letters.
   */
  private static <T extends SpecificRecord> DataStream<DeadLetter> output(DataStream<T> records,
      EncodeRecords<T> encode, Sink<KafkaBytes> sink, Stage encodeStage, Stage sinkStage) {
    SingleOutputStreamOperator<KafkaBytes> encoded = named(records.process(encode), encodeStage).setParallelism(1);
    encoded.sinkTo(sink).uid(sinkStage.uid).name(sinkStage.displayName).setParallelism(1);
    return encoded.getSideOutput(DeadLetters.TAG);
  }

  /** {@code op} with the uid and name of {@code stage}. */
  private static <T> SingleOutputStreamOperator<T> named(SingleOutputStreamOperator<T> op, Stage stage) {
    return op.uid(stage.uid).name(stage.displayName);
  }

  /** The checkpoint's tokenizer loads and its chat template renders a one-turn conversation, or a one-line error. */
  private static void checkPromptEncoding(Path modelDir, boolean raw) {
    try (PromptEncoder encoder = PromptEncoder.forCheckpoint(modelDir)) {
      encoder.prompt("Hello.", raw);
    } catch (ChatTemplate.RenderException e) {
      throw new IllegalArgumentException(modelDir.resolve(TokenizerConfig.FILE) + ": the chat template cannot render "
          + "a one-turn conversation (" + e.getMessage() + "); --raw-prompts feeds prompts without it");
    }
  }

  private static void configure(StreamExecutionEnvironment env, ServingOptions o) {
    if (o.exactlyOnce && o.checkpointIntervalMs <= 0) {
      throw new IllegalArgumentException("--exactly-once needs checkpoints: --checkpoint-interval-ms > 0");
    }
    env.setBufferTimeout(o.bufferTimeoutMs);
    // restarts back off exponentially but stay quick: Flink's default delay grows to a minute and resets only after an
    // hour without failure, so a run with many faults recovered ever more slowly (6 s → 50 s over 10 kills)
    Configuration restarts = new Configuration();
    restarts.set(RestartStrategyOptions.RESTART_STRATEGY, "exponential-delay");
    restarts.set(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_INITIAL_BACKOFF, Duration.ofSeconds(1));
    restarts.set(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_MAX_BACKOFF,
        Duration.ofMillis(o.maxRestartDelayMs));
    restarts.set(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_RESET_BACKOFF_THRESHOLD,
        Duration.ofMinutes(1));
    env.configure(restarts);
    // the heap backend: each engine's loop is a live object graph, serialized (as evolvable Avro) only at checkpoints;
    // a backend that serializes on every access would rebuild it per record
    Configuration backend = new Configuration();
    backend.set(StateBackendOptions.STATE_BACKEND, "hashmap");
    env.configure(backend);
    if (o.checkpointIntervalMs > 0) {
      env.enableCheckpointing(o.checkpointIntervalMs);
      if (o.backpressure()) {
        // the scheduler and placement read two inputs, one of them the loop back through Kafka: an aligned checkpoint
        // blocks that input until the other input's barrier comes, and under backpressure that barrier waits behind
        // the held requests for the engines, which wait for the blocked loop — checkpoints took the whole interval
        // and the loop crawled (a command every 5 s). Past a short alignment the checkpoint goes unaligned instead.
        // Forced: Flink refuses unaligned checkpoints with the custom partitioner of commands to engines because
        // their in-flight data cannot be rescaled — change --engines from a savepoint (always aligned), not a checkpoint.
        Configuration alignment = new Configuration();
        alignment.set(CheckpointingOptions.ENABLE_UNALIGNED, true);
        alignment.set(CheckpointingOptions.FORCE_UNALIGNED, true);
        alignment.set(CheckpointingOptions.ALIGNED_CHECKPOINT_TIMEOUT, Duration.ofMillis(ALIGNMENT_TIMEOUT_MS));
        env.configure(alignment);
      }
      if (o.checkpointDir != null) {
        Configuration storage = new Configuration();
        storage.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
        storage.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, o.checkpointDir);
        env.configure(storage);
      }
    }
  }

  /**
   * A topic the job writes and reads back: the predictions (the feedback loop's return path) or the engine statuses
   * (placement's view of the engines). A fresh job reads what was produced since it started (older records belong
   * to an earlier run); a restored job resumes from its checkpointed offsets.
   */
  private static <T extends SpecificRecordBase> KafkaSource<T> readBack(ServingOptions o, String topic,
      String groupSuffix, Class<T> type, long startedAtMs) {
    return KafkaSource.<T>builder()
        .setBootstrapServers(o.bootstrapServers)
        .setTopics(topic)
        .setGroupId(o.groupId + groupSuffix)
        .setStartingOffsets(OffsetsInitializer.timestamp(startedAtMs))
        .setDeserializer(new ReadBackDeserializer<>(type))
        .setProperty("fetch.max.wait.ms", "50")
        .build();
  }

  /**
   * The predictions topic's sink, keyed by engine. Never transactional: the loop cannot wait for checkpoints.
   */
  private static KafkaSink<EngineFeedback> feedbackSink(ServingOptions o, String topic) {
    return KafkaSink.<EngineFeedback>builder()
        .setBootstrapServers(o.bootstrapServers)
        .setKafkaProducerConfig(KafkaServingIO.producerConfig(o, false))
        .setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE)
        .setRecordSerializer(KafkaRecordSerializationSchema.<EngineFeedback>builder()
            .setTopic(topic)
            .setKeySerializationSchema((KeyOf<EngineFeedback>) EngineFeedback::getEngine)
            .setValueSerializationSchema(AvroSerializationSchema.forSpecific(EngineFeedback.class))
            .setHeaderProvider(feedback -> new RecordHeaders().add(SchemaFingerprints.HEADER, FEEDBACK_SCHEMA))
            .build())
        .build();
  }

  /** The predictions topic's writer schema, as its header value (headers are fresh per record: producers seal them). */
  private static final byte[] FEEDBACK_SCHEMA =
      SchemaFingerprints.headerValue(SchemaFingerprints.of(EngineFeedback.getClassSchema()));

  /** Kafka key of a record: a UTF-8 id. */
  @FunctionalInterface
  interface KeyOf<T> extends SerializationSchema<T> {
    String id(T record);

    @Override
    default byte[] serialize(T record) {
      return id(record).getBytes(StandardCharsets.UTF_8);
    }
  }
}
