package io.trailflink.cli;

import com.google.gson.JsonObject;
import io.trailflink.job.AvroBytes;
import io.trailflink.job.Topics;
import io.trailflink.schema.DeadLetter;
import io.trailflink.schema.FinalResponse;
import io.trailflink.schema.ResponseChunk;
import io.trailflink.schema.EtaUpdate;
import java.util.ArrayList;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code trail consume}: prints the responses topic (one line per final response; with {@code --chunks} the
 * streamed text as it comes; with {@code --etas} each request's predicted finish time as it is refreshed) and
 * dead letters. Without {@code --follow} it stops after {@code --idle-s} without
 * records.
 */
@Command(name = "consume", description = "Print final responses (and dead letters) from the job's topics.")
final class ConsumeCommand implements Callable<Integer> {
  @Option(names = "--bootstrap-servers", defaultValue = "localhost:9092") String bootstrapServers;
  @Option(names = "--topic-prefix", defaultValue = "trail.") String topicPrefix;
  @Option(names = "--follow", description = "Keep reading until interrupted.") boolean follow;
  @Option(names = "--from-beginning", description = "Read the topics from their start, not only new records.") boolean fromBeginning;
  @Option(names = "--chunks", description = "Also print streamed text chunks.") boolean chunks;
  @Option(names = "--etas", description = "Also print the ETA stream: each live request's predicted finish time.") boolean etas;
  @Option(names = "--json", description = "One JSON object per final response or dead letter.") boolean json;
  @Option(names = "--idle-s", defaultValue = "5", description = "Without --follow: stop after this long without records.") int idleS;

  @Override
  public Integer call() {
    Topics topics = new Topics(topicPrefix);
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, "trail-consume-" + System.nanoTime());
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"); // skip aborted transactions (--exactly-once)
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, fromBeginning ? "earliest" : "latest");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    long finals = 0;
    long otherVersions = 0;
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<String> subscribed = new ArrayList<>(List.of(topics.responses(), topics.deadLetters()));
      if (chunks) {
        subscribed.add(topics.chunks());
      }
      if (etas) {
        subscribed.add(topics.etas());
      }
      consumer.subscribe(subscribed);
      long lastRecord = System.currentTimeMillis();
      while (follow || System.currentTimeMillis() - lastRecord < idleS * 1000L) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          lastRecord = System.currentTimeMillis();
          if (r.topic().equals(topics.deadLetters())) {
            DeadLetter d = AvroBytes.decode(r.value(), DeadLetter.class);
            System.out.println(json ? deadJson(d) : "dead letter " + d.getRequestId() + ": " + d.getReason());
            continue;
          }
          if (r.topic().equals(topics.responses()) && !AvroBytes.writtenAs(r, FinalResponse.class)) {
            otherVersions++;
            continue; // a record of another release (v1 wrote a union of chunk and final here)
          }
          if (r.topic().equals(topics.chunks())) {
            ResponseChunk c = AvroBytes.decode(r.value(), ResponseChunk.class);
            if (!json) {
              System.out.println(c.getRequestId() + " +" + c.getTokenIds().size() + ": " + c.getText());
            }
          } else if (r.topic().equals(topics.etas())) {
            EtaUpdate e = AvroBytes.decode(r.value(), EtaUpdate.class);
            System.out.println(json ? etaJson(e) : etaLine(e));
          } else {
            FinalResponse f = AvroBytes.decode(r.value(), FinalResponse.class);
            finals++;
            System.out.println(json ? finalJson(f) : String.format(Locale.ROOT,
                "%s %s: %d tokens, TTFT %d ms, latency %d ms, %d preemptions — %s", f.getRequestId(),
                f.getFinishReason(), f.getOutputTokens(), f.getTtftMs(), f.getLatencyMs(), f.getPreemptions(),
                oneLine(f.getText())));
          }
        }
      }
    }
    System.err.println(finals + " final responses" + (otherVersions > 0 ? " (" + otherVersions
        + " records of another schema release skipped)" : ""));
    return 0;
  }

  private static String etaLine(EtaUpdate e) {
    String finish = e.getPredictedFinishAt() == null ? "no step time yet"
        : "finishes in " + Math.max(0, e.getPredictedFinishAt().toEpochMilli() - System.currentTimeMillis()) + " ms";
    return String.format(Locale.ROOT, "eta %s (%s, %s): %d generated, ~%.0f to go, %s", e.getRequestId(),
        e.getState(), e.getQueuePosition() == 0 ? "running" : "#" + e.getQueuePosition() + " in queue",
        e.getGenerated(), e.getAssumedRemaining(), finish);
  }

  private static String etaJson(EtaUpdate e) {
    JsonObject o = new JsonObject();
    o.addProperty("eta", e.getRequestId());
    o.addProperty("state", e.getState());
    o.addProperty("queue_position", e.getQueuePosition());
    o.addProperty("generated", e.getGenerated());
    o.addProperty("predicted_remaining", e.getPredictedRemaining());
    o.addProperty("predicted_remaining_p90", e.getPredictedRemainingP90());
    o.addProperty("predicted_finish_at_ms", e.getPredictedFinishAt() == null ? null
        : e.getPredictedFinishAt().toEpochMilli());
    return o.toString();
  }

  private static String oneLine(String text) {
    String t = text.replace('\n', ' ');
    return t.length() > 120 ? t.substring(0, 117) + "..." : t;
  }

  private static String finalJson(FinalResponse f) {
    JsonObject o = new JsonObject();
    o.addProperty("id", f.getRequestId());
    o.addProperty("finish_reason", f.getFinishReason());
    o.addProperty("output_tokens", f.getOutputTokens());
    o.addProperty("ttft_ms", f.getTtftMs());
    o.addProperty("latency_ms", f.getLatencyMs());
    o.addProperty("submitted_at_ms", f.getSubmittedAt().toEpochMilli());
    o.addProperty("finished_at_ms", f.getFinishedAt().toEpochMilli());
    o.addProperty("preemptions", f.getPreemptions());
    o.addProperty("engine", f.getEngine());
    o.addProperty("policy", f.getPolicy());
    o.addProperty("error", f.getError());
    o.addProperty("text", f.getText());
    return o.toString();
  }

  private static String deadJson(DeadLetter d) {
    JsonObject o = new JsonObject();
    o.addProperty("dead_letter", d.getRequestId());
    o.addProperty("reason", d.getReason());
    o.addProperty("source", d.getSourceTopic() + "-" + d.getSourcePartition() + "@" + d.getSourceOffset());
    o.addProperty("raw_size", d.getRawSize());
    o.addProperty("raw_truncated", d.getRawTruncated());
    return o.toString();
  }
}
