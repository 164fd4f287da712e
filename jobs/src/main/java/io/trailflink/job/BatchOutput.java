package io.trailflink.job;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.trailflink.schema.FinalResponse;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The output file of an offline batch: exactly one JSON line per input row — the row's own fields, then
 * {@code text}, {@code output_tokens}, {@code finish_reason}, {@code ttft_ms}, {@code latency_ms} (or {@code error}
 * and {@code line} for a row that could not be served). Each line is written and flushed once its row is done, so a
 * killed batch leaves whole lines behind (and at most one partial last line, which {@link #openForResume} cuts);
 * resuming skips the rows already written. With {@code ordered}, lines are held until every earlier row is written.
 * Thread-safe: the response reader calls it. The lines go to a file or, through {@link TopicLines.Writer}, to a
 * Kafka topic (keyed by row id; each acknowledged before the row counts as written).
 */
public final class BatchOutput implements AutoCloseable {
  /** Where the lines go. */
  public interface LineSink extends java.io.Closeable {
    /** Writes one line (no newline in it) of the row {@code key}; durable enough to count as written on return. */
    void write(String key, String line) throws IOException;

    void flush() throws IOException;
  }

  /** A file, appended to; each line flushed. */
  private static final class FileLines implements LineSink {
    private final BufferedWriter out;

    FileLines(Path file) throws IOException {
      out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
    }

    @Override
    public void write(String key, String line) throws IOException {
      out.write(line);
      out.write('\n');
    }

    @Override
    public void flush() throws IOException {
      out.flush();
    }

    @Override
    public void close() throws IOException {
      out.close();
    }
  }

  private final LineSink out;
  private final List<BatchInput.Row> rows; // input order, for ordered output
  private final boolean ordered;
  private final Map<String, Integer> indexOf = new HashMap<>(); // id -> its served row (one per id)
  private final Map<Integer, String> held = new HashMap<>(); // ordered: lines waiting for earlier rows
  private final boolean[] written; // per row
  private int writtenCount;
  private int nextToWrite; // ordered: the first row not yet written
  private int errors;
  private long outputTokens; // of the rows answered in this run
  private long latencySumMs; // of the rows answered in this run
  private int answered; // rows answered in this run
  private long firstSubmittedMs = Long.MAX_VALUE; // epoch ms, over the rows answered in this run
  private long lastFinishedMs = Long.MIN_VALUE; // epoch ms

  private BatchOutput(LineSink out, List<BatchInput.Row> rows, boolean ordered, List<JsonObject> existing) {
    this.out = out;
    this.rows = rows;
    this.ordered = ordered;
    this.written = new boolean[rows.size()];
    Map<String, Integer> byLine = new HashMap<>();
    for (int i = 0; i < rows.size(); i++) {
      BatchInput.Row r = rows.get(i);
      byLine.put(r.line(), i);
      if (r.error() == null) {
        indexOf.put(r.id(), i); // ids of served rows are unique (BatchInput refuses a second)
      }
    }
    for (JsonObject o : existing) { // a resumed file: error lines name their input line, answers their id
      JsonElement line = o.get("line");
      JsonElement id = o.get("id");
      Integer i = o.has("error") && line != null ? byLine.get(line.getAsString()) : null;
      if (i == null && id != null) {
        i = indexOf.get(id.getAsString());
      }
      if (i != null && !written[i]) {
        written[i] = true;
        writtenCount++;
        if (o.has("error")) {
          errors++; // the summary counts the file's errors, not only this run's
        }
      }
    }
    advance();
  }

  /** A new output file; refused when it exists (resume instead, or remove it). */
  public static BatchOutput create(Path file, List<BatchInput.Row> rows, boolean ordered) throws IOException {
    if (Files.exists(file)) {
      throw new IllegalArgumentException("--output " + file + " exists: add --resume to finish it, or remove it");
    }
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null && !Files.isDirectory(parent)) {
      throw new IllegalArgumentException("--output " + file + ": folder " + parent + " does not exist");
    }
    if (parent != null && !Files.isWritable(parent)) {
      throw new IllegalArgumentException("--output " + file + ": folder " + parent + " is not writable");
    }
    return new BatchOutput(new FileLines(file), rows, ordered, List.of());
  }

  /**
   * Output to {@code kafka:TOPIC} on the user's cluster. A topic that already holds lines is refused unless
   * {@code resume}, which skips the rows whose lines are there.
   */
  public static BatchOutput toTopic(String bootstrapServers, String topic, List<BatchInput.Row> rows, boolean ordered,
      boolean resume) {
    List<JsonObject> existing = new java.util.ArrayList<>();
    for (TopicLines.Line l : TopicLines.read(bootstrapServers, topic)) {
      try {
        existing.add(JsonParser.parseString(l.text()).getAsJsonObject());
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("--output kafka:" + topic + ": " + l.where() + " is not a JSON object");
      }
    }
    if (!existing.isEmpty() && !resume) {
      throw new IllegalArgumentException("--output kafka:" + topic + " already holds " + existing.size()
          + " lines: add --resume to finish it, or use an empty topic");
    }
    return new BatchOutput(new TopicLines.Writer(bootstrapServers, topic), rows, ordered, existing);
  }

  /**
   * An output file to finish: a partial last line (the process was killed while writing it) is cut, and the rows
   * whose lines are there count as done.
   */
  public static BatchOutput openForResume(Path file, List<BatchInput.Row> rows, boolean ordered) throws IOException {
    if (!Files.exists(file)) {
      return create(file, rows, ordered);
    }
    if (!Files.isRegularFile(file) || !Files.isWritable(file)) {
      throw new IllegalArgumentException("--output " + file + ": not a writable file");
    }
    cutPartialLastLine(file);
    List<JsonObject> existing = new java.util.ArrayList<>();
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    for (int n = 0; n < lines.size(); n++) {
      if (lines.get(n).isBlank()) {
        continue;
      }
      try {
        existing.add(JsonParser.parseString(lines.get(n)).getAsJsonObject());
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("--output " + file + ":" + (n + 1) + " is not a JSON object, so not a "
            + "line trail batch wrote: nothing to resume (is --output the right file?)");
      }
    }
    return new BatchOutput(new FileLines(file), rows, ordered, existing);
  }

  private static void cutPartialLastLine(Path file) throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    int end = bytes.length;
    while (end > 0 && bytes[end - 1] != '\n') {
      end--;
    }
    if (end < bytes.length) {
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
        ch.truncate(end);
      }
    }
  }

  /** Whether row {@code i}'s line is already in the file (a resumed batch skips it). */
  public synchronized boolean isWritten(int i) {
    return written[i];
  }

  /** Rows whose line is in the file (held ordered lines included: they are decided). */
  public synchronized int doneCount() {
    return writtenCount;
  }

  public synchronized int errorCount() {
    return errors;
  }

  /**
   * What this run generated: rows answered, output tokens, mean latency (ms, submission to last token) and the
   * makespan (ms, first submission to last finish).
   */
  public synchronized Figures figures() {
    long span = answered == 0 ? 0 : lastFinishedMs - firstSubmittedMs;
    return new Figures(answered, outputTokens, answered == 0 ? 0 : (double) latencySumMs / answered, span);
  }

  /** Figures of one run; tokens per second over the makespan. */
  public record Figures(int answered, long outputTokens, double meanLatencyMs, long makespanMs) {
    public double tokensPerSecond() {
      return makespanMs <= 0 ? 0 : outputTokens * 1000.0 / makespanMs;
    }
  }

  /** A served row's answer; ignored for an unknown id or one already written (a repeated final response). */
  public synchronized void answered(FinalResponse f) throws IOException {
    Integer i = indexOf.get(f.getRequestId());
    if (i == null || written[i]) {
      return;
    }
    JsonObject o = base(rows.get(i));
    o.addProperty("text", f.getText());
    o.addProperty("output_tokens", f.getOutputTokens());
    o.addProperty("finish_reason", f.getFinishReason());
    o.addProperty("ttft_ms", f.getTtftMs());
    o.addProperty("latency_ms", f.getLatencyMs());
    answered++;
    outputTokens += f.getOutputTokens();
    latencySumMs += f.getLatencyMs();
    firstSubmittedMs = Math.min(firstSubmittedMs, f.getSubmittedAt().toEpochMilli());
    lastFinishedMs = Math.max(lastFinishedMs, f.getFinishedAt().toEpochMilli());
    if (f.getError() != null) {
      o.addProperty("error", f.getError());
      errors++;
    }
    write(i, o);
  }

  /** The served row with this id could not be served (e.g. the job dead-lettered it), with the reason. */
  public synchronized void failed(String id, String reason) throws IOException {
    Integer i = indexOf.get(id);
    if (i != null) {
      failedRow(i, reason);
    }
  }

  /** Row {@code i} could not be served, with the reason. */
  public synchronized void failedRow(int i, String reason) throws IOException {
    if (written[i]) {
      return;
    }
    JsonObject o = base(rows.get(i));
    o.addProperty("error", reason);
    o.addProperty("line", rows.get(i).line());
    errors++;
    write(i, o);
  }

  private static JsonObject base(BatchInput.Row row) {
    JsonObject o = row.fields() == null ? new JsonObject() : row.fields().deepCopy();
    if (!o.has("id") || o.get("id").isJsonNull()) {
      o.addProperty("id", row.id()); // its row number; an id the row has is passed through as written (42 stays 42)
    }
    return o;
  }

  private void write(int i, JsonObject o) throws IOException {
    written[i] = true;
    writtenCount++;
    if (!ordered) {
      out.write(rows.get(i).id(), o.toString());
      out.flush();
      return;
    }
    held.put(i, o.toString());
    advance();
  }

  /** Ordered output: writes every held line whose earlier rows are all written. */
  private void advance() {
    try {
      while (nextToWrite < rows.size()) {
        String line = held.remove(nextToWrite);
        if (line != null) {
          out.write(rows.get(nextToWrite).id(), line);
        } else if (!ordered || !written[nextToWrite]) {
          break; // (unordered output never holds lines; a resumed row's line is already in the file)
        }
        nextToWrite++;
      }
      out.flush();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Override
  public synchronized void close() throws IOException {
    out.close();
  }
}
