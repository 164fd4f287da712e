package io.trailflink.job;

import io.trailflink.engine.EngineConfig;
import io.trailflink.engine.flink.DecodeStepFunction;
import io.trailflink.engine.model.LlamaConfig;
import io.trailflink.engine.text.ChatTemplate;
import io.trailflink.engine.text.PromptEncoder;
import io.trailflink.engine.text.TokenizerConfig;
import io.trailflink.flink.DeadLetters;
import io.trailflink.flink.EncodeDeadLetters;
import io.trailflink.flink.EncodeForKafka;
import io.trailflink.flink.EncodeResponses;
import io.trailflink.flink.FeedbackFunction;
import io.trailflink.flink.SchedulerFunction;
import io.trailflink.flink.ValidateRequestFunction;
import io.trailflink.predictor.TrailPredictor;
import io.trailflink.schema.EngineFeedback;
import io.trailflink.schema.StepCommand;
import io.trailflink.schema.StepResult;
import io.trailflink.serving.RawRecord;
import io.trailflink.serving.ServingConfig;
import io.trailflink.serving.ValidatedRequest;
import io.trailflink.serving.records.KafkaBytes;
import io.trailflink.serving.records.RecordLimits;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
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
import org.apache.kafka.clients.consumer.OffsetResetStrategy;

/**
 * TRAIL as a Flink streaming job. The data flow, top to bottom in {@link #build}:
 * <pre>
 * requests topic ─► validate ─(bad)─► dead-letters topic
 *                      │
 *                keyBy(engine) ──► scheduler (keyed; TRAIL + KV budget) ◄── broadcast ◄── predictions topic
 *                                     │ StepCommand     │ chunks, then one final response        ▲
 *                     partition by engine index         ▼                                        │
 *                                     ▼           responses topic                               │
 *                          async decode UDF (one engine per subtask) ─► StepResult ─► keyBy(engine) ─► predictor
 * </pre>
 * Flink 2 has no iterations, so the feedback (step facts and predictions) goes round through Kafka; latency
 * matters there, so the buffer timeout defaults to 0 and producers do not linger.
 */
public final class TrailServingJob {
  private TrailServingJob() {}

  /** Adds the serving job to {@code env}; call {@code env.execute} or {@code executeAsync} afterwards. */
  public static void build(StreamExecutionEnvironment env, ServingOptions o, Path modelDir, long startedAtMs) {
    LlamaConfig model = LlamaConfig.load(modelDir); // the context only: the engines load the weights
    Path predictor = o.predictor(modelDir);
    if (predictor != null) {
      TrailPredictor.load(predictor, model.hiddenSize()); // refuse a bad predictor at submission, not per request
    }
    checkPromptEncoding(modelDir, o.rawPrompts); // a missing tokenizer or broken template: refused at submission
    ServingConfig config = o.servingConfig(model.maxPositions(), predictor == null ? 0 : o.maxRunning);
    RecordLimits limits = o.recordLimits();
    Topics topics = o.topics();
    configure(env, o);

    DataStream<RawRecord> raw = env.fromSource(requestsSource(o, topics), WatermarkStrategy.noWatermarks(),
        "requests").uid("requests-source").setParallelism(1);

    SingleOutputStreamOperator<ValidatedRequest> valid = raw
        .process(new ValidateRequestFunction(config, limits, modelDir.toString(), o.rawPrompts)).uid("validate").name("validate").setParallelism(1);

    DataStream<EngineFeedback> feedback = env.fromSource(feedbackSource(o, topics, startedAtMs),
        WatermarkStrategy.noWatermarks(), "predictions (feedback)").uid("feedback-source").setParallelism(1);

    SingleOutputStreamOperator<StepCommand> commands = valid
        .keyBy(ValidatedRequest::engineIndex)
        .connect(feedback.broadcast(SchedulerFunction.LAST_STEP))
        .process(new SchedulerFunction(config)).uid("scheduler").name("scheduler").setParallelism(o.engines);

    DataStream<StepCommand> placed = commands.partitionCustom((Integer engine, int n) -> engine % n,
        StepCommand::getEngineIndex);
    EngineConfig engineConfig = new EngineConfig(o.kvBlocks, o.blockSize, o.engineTapLayer(predictor), o.device,
        o.dtype);
    DecodeStepFunction decode = new DecodeStepFunction(modelDir.toString(), engineConfig, o.failAtCommand)
        .cpuThreads(o.engineThreads).cpuPriority(o.engineNice);
    SingleOutputStreamOperator<StepResult> results = AsyncDataStream.orderedWait(placed, decode, 10, TimeUnit.MINUTES, 2)
        .uid("decode").name("decode (async engine)").setParallelism(o.engines);

    SingleOutputStreamOperator<EngineFeedback> predictions = results
        .keyBy(StepResult::getEngine)
        .process(new FeedbackFunction(predictor == null ? null : predictor.toString(), model.hiddenSize(),
            o.refreshEvery))
        .uid("predictor").name("predictor").setParallelism(o.engines);

    // the loop's return path stays at-least-once (it cannot wait for checkpoints); the scheduler drops repeats
    predictions.sinkTo(feedbackSink(o, topics.predictions()))
        .uid("predictions-sink").name("predictions topic").setParallelism(1);

    // outputs are encoded and sized before their sinks: a record Kafka would refuse becomes a dead letter, not a
    // sink failure that restarts the job onto the same record
    SingleOutputStreamOperator<KafkaBytes> responses = commands.getSideOutput(SchedulerFunction.RESPONSES)
        .process(new EncodeResponses(topics.responses(), limits.maxRecordBytes()))
        .uid("responses-encode").name("encode responses").setParallelism(1);
    responses.sinkTo(encodedSink(o, topics.responses(), true))
        .uid("responses-sink").name("responses topic").setParallelism(1);

    valid.getSideOutput(DeadLetters.TAG)
        .union(commands.getSideOutput(DeadLetters.TAG), responses.getSideOutput(DeadLetters.TAG))
        .process(new EncodeDeadLetters(topics.deadLetters(), limits))
        .uid("dead-letters-encode").name("encode dead letters").setParallelism(1)
        .sinkTo(encodedSink(o, topics.deadLetters(), true))
        .uid("dead-letters-sink").name("dead-letters topic").setParallelism(1);
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
    if (o.checkpointIntervalMs > 0) {
      env.enableCheckpointing(o.checkpointIntervalMs);
      if (o.checkpointDir != null) {
        Configuration storage = new Configuration();
        storage.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
        storage.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, o.checkpointDir);
        env.configure(storage);
      }
    }
  }

  private static KafkaSource<RawRecord> requestsSource(ServingOptions o, Topics topics) {
    return KafkaSource.<RawRecord>builder()
        .setBootstrapServers(o.bootstrapServers)
        .setTopics(topics.requests())
        .setGroupId(o.groupId)
        .setStartingOffsets(OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST))
        .setDeserializer(new RawRecordDeserializer())
        .setProperty("fetch.max.wait.ms", "50")
        .build();
  }

  /**
   * The loop's return path. A fresh job reads feedback produced since it started (older records belong to an
   * earlier run); a restored job resumes from its checkpointed offsets.
   */
  private static KafkaSource<EngineFeedback> feedbackSource(ServingOptions o, Topics topics, long startedAtMs) {
    return KafkaSource.<EngineFeedback>builder()
        .setBootstrapServers(o.bootstrapServers)
        .setTopics(topics.predictions())
        .setGroupId(o.groupId + "-feedback")
        .setStartingOffsets(OffsetsInitializer.timestamp(startedAtMs))
        .setDeserializer(new FeedbackDeserializer())
        .setProperty("fetch.max.wait.ms", "50")
        .build();
  }

  /**
   * The predictions topic's sink, keyed by engine. Never transactional: the loop cannot wait for checkpoints.
   */
  private static KafkaSink<EngineFeedback> feedbackSink(ServingOptions o, String topic) {
    return KafkaSink.<EngineFeedback>builder()
        .setBootstrapServers(o.bootstrapServers)
        .setKafkaProducerConfig(producerConfig(o, false))
        .setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE)
        .setRecordSerializer(KafkaRecordSerializationSchema.<EngineFeedback>builder()
            .setTopic(topic)
            .setKeySerializationSchema((KeyOf<EngineFeedback>) EngineFeedback::getEngine)
            .setValueSerializationSchema(AvroSerializationSchema.forSpecific(EngineFeedback.class))
            .build())
        .build();
  }

  /**
   * A sink of records {@link EncodeForKafka} already encoded. {@code transactional}: with {@code --exactly-once},
   * records become visible to read-committed consumers when the checkpoint that covers them completes (no
   * duplicates after a restore, at the price of up to one checkpoint interval of delay); otherwise at-least-once
   * with no delay.
   */
  private static KafkaSink<KafkaBytes> encodedSink(ServingOptions o, String topic, boolean transactional) {
    boolean exactlyOnce = transactional && o.exactlyOnce;
    return KafkaSink.<KafkaBytes>builder()
        .setBootstrapServers(o.bootstrapServers)
        .setKafkaProducerConfig(producerConfig(o, exactlyOnce))
        .setDeliveryGuarantee(exactlyOnce ? DeliveryGuarantee.EXACTLY_ONCE : DeliveryGuarantee.AT_LEAST_ONCE)
        .setTransactionalIdPrefix(o.groupId + "-" + topic)
        .setRecordSerializer(new EncodedRecordSerializer(topic))
        .build();
  }

  private static Properties producerConfig(ServingOptions o, boolean exactlyOnce) {
    Properties p = new Properties();
    p.setProperty("linger.ms", "0");
    p.setProperty("acks", "all");
    // the producer must accept every record the encoders let through (Kafka's default is 1 MiB)
    p.setProperty("max.request.size", Integer.toString(Math.max(1 << 20, o.maxRecordBytes + (64 << 10))));
    if (exactlyOnce) {
      p.setProperty("transaction.timeout.ms", "600000");
    }
    return p;
  }

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
