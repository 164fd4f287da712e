package io.trailflink.job;

import io.trailflink.serving.RawRecord;
import io.trailflink.serving.records.KafkaBytes;
import java.util.Properties;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;

/**
 * The serving job's edges on Kafka: requests from the requests topic (from the group's committed offsets, else
 * the earliest), responses, chunks, ETAs, engine status and dead letters to their topics. With
 * {@code --exactly-once} the sinks are
 * transactional: records become visible to read-committed consumers when the checkpoint that covers them
 * completes (no duplicates after a restore, at the price of up to one checkpoint interval of delay).
 */
public final class KafkaServingIO implements ServingIO {
  private static final long serialVersionUID = 1L;

  private final ServingOptions options;
  private final Topics topics;

  public KafkaServingIO(ServingOptions options) {
    this.options = options;
    this.topics = options.topics();
  }

  @Override
  public Source<RawRecord, ?, ?> requests() {
    return KafkaSource.<RawRecord>builder()
        .setBootstrapServers(options.bootstrapServers)
        .setTopics(topics.requests())
        .setGroupId(options.groupId)
        .setStartingOffsets(OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST))
        .setDeserializer(new RawRecordDeserializer())
        .setProperty("fetch.max.wait.ms", "50")
        .build();
  }

  @Override
  public Sink<KafkaBytes> responses() {
    return encodedSink(topics.responses());
  }

  @Override
  public Sink<KafkaBytes> chunks() {
    return encodedSink(topics.chunks());
  }

  /** Never transactional: an ETA a checkpoint interval late is no ETA (a repeat after a restore is harmless). */
  @Override
  public Sink<KafkaBytes> etas() {
    return encodedSink(topics.etas(), false);
  }

  /** Never transactional, as {@link #etas}. */
  @Override
  public Sink<KafkaBytes> engineStatus() {
    return encodedSink(topics.engineStatus(), false);
  }

  @Override
  public Sink<KafkaBytes> deadLetters() {
    return encodedSink(topics.deadLetters());
  }

  private KafkaSink<KafkaBytes> encodedSink(String topic) {
    return encodedSink(topic, options.exactlyOnce);
  }

  private KafkaSink<KafkaBytes> encodedSink(String topic, boolean exactlyOnce) {
    return KafkaSink.<KafkaBytes>builder()
        .setBootstrapServers(options.bootstrapServers)
        .setKafkaProducerConfig(producerConfig(options, exactlyOnce))
        .setDeliveryGuarantee(exactlyOnce ? DeliveryGuarantee.EXACTLY_ONCE : DeliveryGuarantee.AT_LEAST_ONCE)
        .setTransactionalIdPrefix(options.groupId + "-" + topic)
        .setRecordSerializer(new EncodedRecordSerializer(topic))
        .build();
  }

  /** The job's producers: no linger (the loop is latency-bound), acks from all replicas, room for the largest record. */
  static Properties producerConfig(ServingOptions o, boolean exactlyOnce) {
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
}
