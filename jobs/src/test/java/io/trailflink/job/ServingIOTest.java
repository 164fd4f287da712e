package io.trailflink.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trailflink.embedded.EmbeddedKafka;
import io.trailflink.schema.DeadLetter;
import io.trailflink.schema.FinalResponse;
import io.trailflink.schema.EtaUpdate;
import io.trailflink.serving.RawRecord;
import io.trailflink.serving.records.KafkaBytes;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.core.execution.JobClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The serving topology with other edges than Kafka topics: requests from a bounded in-memory source, responses
 * and dead letters into in-memory sinks. The same {@link TrailServingJob#build} as serving; only the feedback loop
 * still needs the broker.
 */
class ServingIOTest {
  @TempDir Path tmp;

  /** Records the job wrote, by sink name (the MiniCluster runs in this JVM). */
  static final Map<String, Queue<KafkaBytes>> WRITTEN = new ConcurrentHashMap<>();

  /** A sink that keeps what it is given in {@link #WRITTEN}. */
  record MemorySink(String name) implements Sink<KafkaBytes> {
    @Override
    public SinkWriter<KafkaBytes> createWriter(WriterInitContext context) {
      Queue<KafkaBytes> q = WRITTEN.computeIfAbsent(name, k -> new ConcurrentLinkedQueue<>());
      return new SinkWriter<>() {
        @Override
        public void write(KafkaBytes element, Context ctx) {
          q.add(element);
        }

        @Override
        public void flush(boolean endOfInput) {}

        @Override
        public void close() {}
      };
    }
  }

  /** Requests from a list, responses and dead letters into memory. */
  record MemoryIO(ArrayList<RawRecord> records) implements ServingIO {
    @Override
    public Source<RawRecord, ?, ?> requests() {
      ArrayList<RawRecord> r = records;
      return new DataGeneratorSource<>(i -> r.get(i.intValue()), r.size(), TypeInformation.of(RawRecord.class));
    }

    @Override
    public Sink<KafkaBytes> responses() {
      return new MemorySink("responses");
    }

    @Override
    public Sink<KafkaBytes> chunks() {
      return new MemorySink("chunks");
    }

    @Override
    public Sink<KafkaBytes> etas() {
      return new MemorySink("etas");
    }

    @Override
    public Sink<KafkaBytes> engineStatus() {
      return new MemorySink("engine-status");
    }

    @Override
    public Sink<KafkaBytes> deadLetters() {
      return new MemorySink("dead-letters");
    }
  }

  @Test
  @Timeout(300)
  void theServingTopologyRunsOnEdgesHandedToIt() throws Exception {
    ServingOptions o = new ServingOptions();
    o.maxRunning = 4;
    o.kvBlocks = 128;
    o.maxNewTokensLimit = 32;
    o.device = "cpu";
    o.topicPrefix = "io-test.";
    ArrayList<RawRecord> records = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      records.add(new RawRecord("memory", 0, i,
          AvroBytes.encode(ServingJobIntegrationTest.request("m-" + i, "Count from 1 to " + (3 + i) + ".", 12))));
    }
    records.add(new RawRecord("memory", 0, 6, new byte[] {1, 2, 3}));
    try (EmbeddedKafka kafka = EmbeddedKafka.start(tmp.resolve("kafka"))) {
      o.bootstrapServers = kafka.bootstrapServers();
      Map<String, Integer> topics = new java.util.LinkedHashMap<>();
      o.topics().all().forEach(t -> topics.put(t, 1));
      kafka.createTopics(topics); // the feedback loop's topic (the others stay empty)
      JobClient job = LocalCluster.submit(o, ServingJobIntegrationTest.MODEL, 0, true, new MemoryIO(records));
      try {
        List<FinalResponse> finals = new ArrayList<>();
        long deadline = System.currentTimeMillis() + 200_000;
        while (System.currentTimeMillis() < deadline) {
          finals.clear();
          for (KafkaBytes b : WRITTEN.getOrDefault("responses", new ConcurrentLinkedQueue<>())) {
            finals.add(AvroBytes.decode(b.value(), FinalResponse.class));
          }
          if (finals.size() >= 6 && !WRITTEN.getOrDefault("dead-letters", new ConcurrentLinkedQueue<>()).isEmpty()) {
            break;
          }
          Thread.sleep(200);
        }
        assertEquals(6, finals.size(), "one final response per request, into the handed sink");
        assertEquals(6, finals.stream().map(FinalResponse::getRequestId).distinct().count());
        assertTrue(finals.stream().allMatch(f -> f.getError() == null && f.getOutputTokens() > 0), finals.toString());
        List<KafkaBytes> dead = new ArrayList<>(WRITTEN.get("dead-letters"));
        assertEquals(1, dead.size());
        DeadLetter d = AvroBytes.decode(dead.get(0).value(), DeadLetter.class);
        assertTrue(d.getReason().length() > 0 && d.getSourceTopic().equals("memory"), d.toString());
        assertTrue(!WRITTEN.get("chunks").isEmpty() && !WRITTEN.get("engine-status").isEmpty(), "streams written");
        List<EtaUpdate> etas = WRITTEN.get("etas").stream().map(b -> AvroBytes.decode(b.value(), EtaUpdate.class))
            .toList();
        assertEquals(6, etas.stream().filter(e -> e.getCause().equals("accepted")).count(), "one ETA at acceptance each");
      } finally {
        job.cancel().get();
      }
    }
  }
}
