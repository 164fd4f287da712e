package io.trailflink.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import io.trailflink.embedded.EmbeddedKafka;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code batch --input kafka:TOPIC} and {@code --output kafka:TOPIC} on a real broker, without Flink. */
class BatchTopicsTest {
  @TempDir Path tmp;

  @Test
  @Timeout(180)
  void aTopicIsReadToItsEndOffsetsAndResultsGoToATopicResumably() throws Exception {
    try (EmbeddedKafka kafka = EmbeddedKafka.start(tmp.resolve("kafka"))) {
      kafka.createTopics(Map.of("in", 2, "out", 1));
      Properties p = new Properties();
      p.put("bootstrap.servers", kafka.bootstrapServers());
      try (KafkaProducer<byte[], byte[]> prod = new KafkaProducer<>(p, new ByteArraySerializer(),
          new ByteArraySerializer())) {
        String[] rows = {"{\"id\":\"a\",\"prompt\":\"x\",\"tag\":1}", "{oops", "{\"prompt\":\"y\"}"};
        for (int i = 0; i < rows.length; i++) {
          prod.send(new ProducerRecord<>("in", 0, null, rows[i].getBytes(StandardCharsets.UTF_8))).get();
        }
        prod.send(new ProducerRecord<>("in", 1, null, "{\"id\":\"b\",\"prompt\":\"z\"}".getBytes(StandardCharsets.UTF_8))).get();
      }
      List<BatchInput.Row> rows = BatchInput.readTopic(kafka.bootstrapServers(), "in", 16, 64).rows();
      assertEquals(List.of("a", "2", "3", "b"), rows.stream().map(BatchInput.Row::id).toList(),
          "partition by partition, in offset order; rows without an id keyed by their number");
      assertEquals("in/0@1", rows.get(1).line());
      assertEquals("not a JSON object", rows.get(1).error());

      try (BatchOutput out = BatchOutput.toTopic(kafka.bootstrapServers(), "out", rows, false, false)) {
        out.answered(BatchFilesTest.answer("a", 3));
        out.failedRow(1, rows.get(1).error());
      }
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> BatchOutput.toTopic(kafka.bootstrapServers(), "out", rows, false, false));
      assertTrue(e.getMessage().contains("already holds 2 lines: add --resume"), e.getMessage());
      try (BatchOutput out = BatchOutput.toTopic(kafka.bootstrapServers(), "out", rows, false, true)) {
        assertEquals(2, out.doneCount(), "rows already in the topic count as done");
        out.answered(BatchFilesTest.answer("3", 2));
        out.answered(BatchFilesTest.answer("b", 1));
      }
      List<TopicLines.Line> lines = TopicLines.read(kafka.bootstrapServers(), "out");
      assertEquals(4, lines.size(), "one line per input row, none twice");
      assertEquals(1, JsonParser.parseString(lines.get(0).text()).getAsJsonObject().get("tag").getAsInt(),
          "input fields pass through");
      IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
          () -> TopicLines.read(kafka.bootstrapServers(), "nope"));
      assertEquals("kafka:nope: no such topic at " + kafka.bootstrapServers(), missing.getMessage());
    }
  }
}
