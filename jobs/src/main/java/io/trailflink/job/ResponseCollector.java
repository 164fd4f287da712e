package io.trailflink.job;

import io.trailflink.schema.DeadLetter;
import io.trailflink.schema.EngineFeedback;
import io.trailflink.schema.EpochMicros;
import io.trailflink.schema.FinalResponse;
import io.trailflink.schema.ResponseChunk;
import io.trailflink.schema.EngineStatus;
import io.trailflink.schema.EtaUpdate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads the job's output topics on a background thread: final responses (and how many arrived per id, to catch
 * duplicates), chunks, ETAs, engine status, dead letters, and the engine feedback on the predictions topic (for
 * busy fraction and loop-hop figures). Everything it reads is from the start of each topic.
 */
public final class ResponseCollector implements AutoCloseable {
  private final Map<String, List<FinalResponse>> finals = new ConcurrentHashMap<>();
  private final Map<String, Integer> chunkTokens = new ConcurrentHashMap<>();
  private final List<DeadLetter> deadLetters = Collections.synchronizedList(new ArrayList<>());
  private final List<EtaUpdate> etas = Collections.synchronizedList(new ArrayList<>());
  private final List<EngineStatus> engineStatus = Collections.synchronizedList(new ArrayList<>());
  private final List<EngineFeedback> feedback = Collections.synchronizedList(new ArrayList<>());
  private final List<long[]> feedbackTimes = Collections.synchronizedList(new ArrayList<>());
  private final Thread thread;
  private final Listener listener;
  private volatile boolean running = true;

  /** Told of each record as it is read, on the collector's thread. */
  public interface Listener {
    default void onFinal(FinalResponse f) {}

    default void onDeadLetter(DeadLetter d) {}

    default void onFeedback(EngineFeedback fb) {}
  }

  public ResponseCollector(String bootstrapServers, Topics topics) {
    this(bootstrapServers, topics, new Listener() {});
  }

  public ResponseCollector(String bootstrapServers, Topics topics, Listener listener) {
    this.listener = listener;
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, "trail-collector-" + System.nanoTime());
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"); // skip aborted transactions (--exactly-once)
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "50");
    KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    consumer.subscribe(List.of(topics.responses(), topics.chunks(), topics.etas(), topics.engineStatus(),
        topics.deadLetters(), topics.predictions()));
    thread = new Thread(() -> {
      try (consumer) {
        while (running) {
          for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
            accept(topics, r);
          }
        }
      }
    }, "response-collector");
    thread.setDaemon(true);
    thread.start();
  }

  private void accept(Topics topics, ConsumerRecord<byte[], byte[]> r) {
    if (r.topic().equals(topics.responses()) && !AvroBytes.writtenAs(r, FinalResponse.class)) {
      return; // another release's record (e.g. v1's union of chunk and final): not this reader's
    }
    if (r.topic().equals(topics.responses())) {
      FinalResponse f = AvroBytes.decode(r.value(), FinalResponse.class);
      finals.computeIfAbsent(f.getRequestId(), k -> Collections.synchronizedList(new ArrayList<>())).add(f);
      listener.onFinal(f);
    } else if (r.topic().equals(topics.chunks())) {
      ResponseChunk c = AvroBytes.decode(r.value(), ResponseChunk.class);
      chunkTokens.merge(c.getRequestId(), c.getTokenIds().size(), Integer::sum);
    } else if (r.topic().equals(topics.etas())) {
      etas.add(AvroBytes.decode(r.value(), EtaUpdate.class));
    } else if (r.topic().equals(topics.engineStatus())) {
      engineStatus.add(AvroBytes.decode(r.value(), EngineStatus.class));
    } else if (r.topic().equals(topics.deadLetters())) {
      DeadLetter d = AvroBytes.decode(r.value(), DeadLetter.class);
      deadLetters.add(d);
      listener.onDeadLetter(d);
    } else {
      EngineFeedback fb = AvroBytes.decode(r.value(), EngineFeedback.class);
      feedback.add(fb);
      listener.onFeedback(fb);
      feedbackTimes.add(new long[] {EpochMicros.of(fb.getPublishedAtUs(), fb.getPublishedAtMs()), EpochMicros.now()});
    }
  }

  /** Requests with at least one final response. */
  public int completed() {
    return finals.size();
  }

  /** Every final response per request id (more than one would be a duplicate). */
  public Map<String, List<FinalResponse>> finals() {
    return new HashMap<>(finals);
  }

  /** Tokens streamed as chunks, per request id. */
  public Map<String, Integer> chunkTokens() {
    return new HashMap<>(chunkTokens);
  }

  /** Every ETA update read, in the order read. */
  public List<EtaUpdate> etas() {
    synchronized (etas) {
      return List.copyOf(etas);
    }
  }

  /** Every engine status read, in the order read. */
  public List<EngineStatus> engineStatus() {
    synchronized (engineStatus) {
      return List.copyOf(engineStatus);
    }
  }

  public List<DeadLetter> deadLetters() {
    synchronized (deadLetters) {
      return List.copyOf(deadLetters);
    }
  }

  /**
   * Per predictions-topic record, epoch µs: published by the predictor function, received by this consumer — the
   * loop's sink-and-Kafka leg as a plain consumer sees it (the job's own source adds its handover on top).
   */
  public List<long[]> feedbackTimes() {
    synchronized (feedbackTimes) {
      return List.copyOf(feedbackTimes);
    }
  }

  public List<EngineFeedback> feedback() {
    synchronized (feedback) {
      return List.copyOf(feedback);
    }
  }

  @Override
  public void close() throws InterruptedException {
    running = false;
    thread.join(5_000);
  }
}
