package io.trailflink.job;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.trailflink.schema.InferenceRequest;
import io.trailflink.serving.records.RecordLimits;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The rows of an offline batch: JSONL files (or a folder of {@code *.jsonl}, in name order), one request per line —
 * {@code {"id"?, "prompt" | "messages", "max_new_tokens"?, sampling fields?, "stop"?, …any other fields}} (see
 * {@link RequestJson}). A row without an id is keyed by its row number (1-based over all the files). A row that is
 * not a JSON object, lacks a prompt or repeats an id is kept with its error: it gets an output row saying why.
 *
 * @param rows every non-blank line, in input order
 */
public record BatchInput(List<Row> rows) {

  /**
   * One input line.
   *
   * @param id the request id (the row's own, else its row number)
   * @param line where it came from, e.g. {@code prompts.jsonl:12}
   * @param fields the parsed object, passed through to the output row (null if it did not parse)
   * @param request the request to send, or null when {@code error} says why not
   * @param error why the row cannot be served, or null
   */
  public record Row(String id, String line, JsonObject fields, InferenceRequest request, String error) {}

  /** The files of {@code path}: the file itself, or a folder's {@code *.jsonl} files in name order. */
  public static List<Path> files(Path path) throws IOException {
    if (Files.isRegularFile(path)) {
      return List.of(path);
    }
    if (!Files.isDirectory(path)) {
      throw new IllegalArgumentException("--input " + path + ": no such file or folder");
    }
    try (Stream<Path> s = Files.list(path)) {
      List<Path> files = s.filter(p -> p.getFileName().toString().endsWith(".jsonl") && Files.isRegularFile(p))
          .sorted().toList();
      if (files.isEmpty()) {
        throw new IllegalArgumentException("--input " + path + ": no .jsonl files in the folder");
      }
      return files;
    }
  }

  /** Reads every row of {@code path}; {@code defaultMaxNewTokens} applies where a row sets none. */
  public static BatchInput read(Path path, int defaultMaxNewTokens) throws IOException {
    return read(path, defaultMaxNewTokens, RecordLimits.DEFAULT.maxIdBytes());
  }

  /** As {@link #read(Path, int)}; ids longer than {@code maxIdBytes} (UTF-8) are refused as the job would. */
  public static BatchInput read(Path path, int defaultMaxNewTokens, int maxIdBytes) throws IOException {
    List<Row> rows = new ArrayList<>();
    Set<String> ids = new HashSet<>();
    int number = 0;
    for (Path file : files(path)) {
      int lineNo = 0;
      for (String text : Files.readAllLines(file)) {
        lineNo++;
        if (text.isBlank()) {
          continue;
        }
        number++;
        rows.add(row(text, Integer.toString(number), file.getFileName() + ":" + lineNo, defaultMaxNewTokens,
            maxIdBytes, ids));
      }
    }
    return new BatchInput(List.copyOf(rows));
  }

  /**
   * Reads every record of {@code topic} on the user's cluster, up to its end offsets now, one row per record
   * (its value a JSON line as in a file); rows are numbered partition by partition in offset order.
   */
  public static BatchInput readTopic(String bootstrapServers, String topic, int defaultMaxNewTokens, int maxIdBytes) {
    List<Row> rows = new ArrayList<>();
    Set<String> ids = new HashSet<>();
    int number = 0;
    for (TopicLines.Line l : TopicLines.read(bootstrapServers, topic)) {
      if (l.text().isBlank()) {
        continue;
      }
      number++;
      rows.add(row(l.text(), Integer.toString(number), l.where(), defaultMaxNewTokens, maxIdBytes, ids));
    }
    return new BatchInput(List.copyOf(rows));
  }

  /** Every row's id is taken, served or not: a later row with the same id is a duplicate either way. */
  private static Row row(String text, String number, String line, int defaultMaxNewTokens, int maxIdBytes,
      Set<String> ids) {
    JsonObject fields;
    try {
      fields = JsonParser.parseString(text).getAsJsonObject();
    } catch (RuntimeException e) {
      return ids.add(number) ? new Row(number, line, null, null, "not a JSON object")
          : new Row(number, line, null, null, "not a JSON object (and its row number is an id of an earlier row)");
    }
    String id = number;
    try {
      if (fields.has("id") && !fields.get("id").isJsonNull()) { // "id": null is no id: the row number
        id = fields.get("id").getAsString();
      }
    } catch (RuntimeException e) {
      ids.add(number);
      return new Row(number, line, fields, null, "\"id\" must be a string");
    }
    if (!ids.add(id)) {
      return new Row(id, line, fields, null, "duplicate id '" + id + "' (an earlier row has it)");
    }
    if (id.isBlank() || id.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > maxIdBytes) {
      return new Row(id, line, fields, null, "\"id\" must be 1 to " + maxIdBytes + " bytes of UTF-8");
    }
    try {
      return new Row(id, line, fields, RequestJson.parse(fields, id, defaultMaxNewTokens, "batch"), null);
    } catch (RuntimeException e) {
      return new Row(id, line, fields, null, e.getMessage() == null ? e.toString() : e.getMessage());
    }
  }

  /** Rows that can be served. */
  public long servable() {
    return rows.stream().filter(r -> r.error() == null).count();
  }
}
