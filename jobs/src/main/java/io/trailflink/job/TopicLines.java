package io.trailflink.job;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * A Kafka topic as lines of text (UTF-8 record values), for batches that read from or write to a topic instead
 * of a file. Reading is bounded: the end offsets at the start, partition by partition in offset order.
 */
public final class TopicLines {
  private TopicLines() {}

  /** How long to wait for the cluster before a one-line error (s). */
  static final int TIMEOUT_S = 15;

  /**
   * One record's text.
   *
   * @param where {@code TOPIC/PARTITION@OFFSET}
   * @param text the value as UTF-8 (empty for a null value)
   */
  public record Line(String where, String text) {}

  /**
   * Every record of {@code topic} up to its end offsets when called.
   *
   * @throws IllegalArgumentException when the cluster cannot be reached or the topic does not exist
   */
  public static List<Line> read(String bootstrapServers, String topic) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false"); // a mistyped topic is an error, not a new topic
    p.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, Integer.toString(TIMEOUT_S * 1000));
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
        new ByteArrayDeserializer())) {
      List<PartitionInfo> infos;
      try {
        infos = c.partitionsFor(topic, Duration.ofSeconds(TIMEOUT_S));
      } catch (TimeoutException e) {
        throw new IllegalArgumentException("cannot reach Kafka at --bootstrap-servers " + bootstrapServers
            + " within " + TIMEOUT_S + " s");
      }
      if (infos == null || infos.isEmpty()) {
        throw new IllegalArgumentException("kafka:" + topic + ": no such topic at " + bootstrapServers);
      }
      List<TopicPartition> parts = infos.stream().map(i -> new TopicPartition(topic, i.partition()))
          .sorted(Comparator.comparingInt(TopicPartition::partition)).toList();
      c.assign(parts);
      c.seekToBeginning(parts);
      Map<TopicPartition, Long> end = c.endOffsets(parts);
      List<List<Line>> byPartition = new ArrayList<>();
      parts.forEach(tp -> byPartition.add(new ArrayList<>()));
      while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
          if (r.offset() < end.get(new TopicPartition(topic, r.partition()))) {
            byPartition.get(parts.indexOf(new TopicPartition(topic, r.partition()))).add(new Line(
                topic + "/" + r.partition() + "@" + r.offset(),
                r.value() == null ? "" : new String(r.value(), StandardCharsets.UTF_8)));
          }
        }
      }
      return byPartition.stream().flatMap(List::stream).toList();
    }
  }

  /** A writer of lines to a topic, keyed; every line is acknowledged by the broker before {@link #write} returns. */
  public static final class Writer implements BatchOutput.LineSink {
    private final KafkaProducer<byte[], byte[]> producer;
    private final String topic;

    public Writer(String bootstrapServers, String topic) {
      Properties p = new Properties();
      p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
      p.put(ProducerConfig.ACKS_CONFIG, "all");
      p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true"); // a retried send is not written twice
      p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
      p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, Integer.toString(TIMEOUT_S * 1000));
      this.producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
      this.topic = topic;
    }

    @Override
    public void write(String key, String line) throws java.io.IOException {
      try {
        producer.send(new ProducerRecord<>(topic, key == null ? null : key.getBytes(StandardCharsets.UTF_8),
            line.getBytes(StandardCharsets.UTF_8))).get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new java.io.IOException("interrupted writing to kafka:" + topic, e);
      } catch (java.util.concurrent.ExecutionException e) {
        throw new java.io.IOException("cannot write to kafka:" + topic + ": " + e.getCause().getMessage(), e);
      }
    }

    @Override
    public void flush() {
      producer.flush();
    }

    @Override
    public void close() {
      producer.close();
    }
  }
}
