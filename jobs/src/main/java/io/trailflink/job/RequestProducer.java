package io.trailflink.job;

import io.trailflink.schema.SchemaFingerprints;

import io.trailflink.schema.InferenceRequest;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** Writes requests (or arbitrary bytes, for bad-input tests) to the requests topic, keyed by id. */
public final class RequestProducer implements AutoCloseable {
  private final KafkaProducer<byte[], byte[]> producer;
  private final String topic;
  private static final byte[] REQUEST_SCHEMA =
      SchemaFingerprints.headerValue(SchemaFingerprints.of(InferenceRequest.getClassSchema()));

  public RequestProducer(String bootstrapServers, Topics topics) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "15000"); // a missing topic or broker fails the send within 15 s
    producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    this.topic = topics.requests();
  }

  /**
   * Sends one request, its writer schema named in a header; the future fails when the broker did not take it (e.g.
   * the topic does not exist).
   */
  public Future<RecordMetadata> send(InferenceRequest r) {
    ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(topic, r.getId().getBytes(StandardCharsets.UTF_8),
        AvroBytes.encode(r));
    record.headers().add(SchemaFingerprints.HEADER, REQUEST_SCHEMA);
    return producer.send(record);
  }

  /** Sends bytes as they are, without a schema header (the job then tries the released schemas in turn). */
  public Future<RecordMetadata> sendRaw(String key, byte[] value) {
    return producer.send(new ProducerRecord<>(topic, key == null ? null : key.getBytes(StandardCharsets.UTF_8),
        value));
  }

  public void flush() {
    producer.flush();
  }

  @Override
  public void close() {
    producer.close();
  }
}
