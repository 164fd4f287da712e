package io.trailflink.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.trailflink.schema.EngineFeedback;
import io.trailflink.schema.FinalResponse;
import io.trailflink.schema.PredictionUpdate;
import io.trailflink.schema.RequestProgress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The batch's input rows, its output file (one line per row, ordered, resumable) and its ETA, without Flink. */
class BatchFilesTest {
  @TempDir Path tmp;

  static FinalResponse answer(String id, int tokens) {
    return FinalResponse.newBuilder().setRequestId(id).setText("t-" + id).setPromptTokens(1).setOutputTokens(tokens)
        .setSubmittedAt(java.time.Instant.ofEpochMilli(0)).setFirstTokenAt(java.time.Instant.ofEpochMilli(1))
        .setFinishedAt(java.time.Instant.ofEpochMilli(2)).setTtftMs(1).setLatencyMs(2).setQueueingMs(0)
        .setPreemptions(0).setEvictions(0).setFinishReason("stop").setEngine("e").setPolicy("trail")
        .setInitialPrediction(Double.NaN).build();
  }

  BatchInput input() throws Exception {
    Path in = tmp.resolve("in.jsonl");
    Files.writeString(in, String.join("\n", "{\"id\":\"a\",\"prompt\":\"x\",\"tag\":7}", "", "{\"prompt\":\"y\"}",
        "{oops", "{\"id\":\"a\",\"prompt\":\"again\"}", "{\"id\":\"n\"}", "{\"prompt\":\"z\",\"max_new_tokens\":9}"));
    return BatchInput.read(in, 32);
  }

  @Test
  void rowsKeepTheirIdsOrTheirNumberAndBadRowsTheirReason() throws Exception {
    List<BatchInput.Row> rows = input().rows();
    assertEquals(List.of("a", "2", "3", "a", "n", "6"), rows.stream().map(BatchInput.Row::id).toList(),
        "a blank line is no row; rows without an id are keyed by their number");
    assertEquals("not a JSON object", rows.get(2).error());
    assertEquals("in.jsonl:4", rows.get(2).line());
    assertTrue(rows.get(3).error().startsWith("duplicate id 'a'"), rows.get(3).error());
    assertEquals("needs a string \"prompt\" or a \"messages\" list", rows.get(4).error());
    assertEquals(9, rows.get(5).request().getMaxNewTokens());
    assertEquals(32, rows.get(1).request().getMaxNewTokens());
  }

  @Test
  void aNumericIdComesBackAsWrittenAndStillResumes() throws Exception {
    Path in = Files.writeString(tmp.resolve("num.jsonl"), "{\"id\":42,\"prompt\":\"x\"}\n{\"id\":null,\"prompt\":\"y\"}\n");
    BatchInput input = BatchInput.read(in, 8);
    assertEquals("2", input.rows().get(1).id(), "\"id\": null is no id: the row number");
    assertEquals(null, input.rows().get(1).error());
    Path out = tmp.resolve("num-out.jsonl");
    try (BatchOutput o = BatchOutput.create(out, input.rows(), false)) {
      o.answered(answer("42", 3));
    }
    JsonObject line = JsonParser.parseString(Files.readAllLines(out).get(0)).getAsJsonObject();
    assertTrue(line.get("id").getAsJsonPrimitive().isNumber(), line.toString());
    try (BatchOutput o = BatchOutput.openForResume(out, input.rows(), false)) {
      assertTrue(o.isWritten(0));
      assertFalse(o.isWritten(1));
    }
  }

  @Test
  void aFieldOfTheWrongTypeIsNamedWithWhatItHeld() throws Exception {
    Path in = tmp.resolve("types.jsonl");
    Files.writeString(in, "{\"prompt\":\"x\",\"max_new_tokens\":\"ten\"}\n{\"prompt\":\"x\",\"temperature\":[1]}\n");
    List<BatchInput.Row> rows = BatchInput.read(in, 32).rows();
    assertEquals("\"max_new_tokens\" must be a number, got \"ten\"", rows.get(0).error());
    assertEquals("\"temperature\" must be a number, got [1]", rows.get(1).error());
  }

  @Test
  void aRefusedRowStillTakesItsIdAndAnIdOverTheLimitIsRefused() throws Exception {
    // regression (review): a valid row after a refused one with the same id was served under an id whose line was
    // already written, so its answer was dropped and the batch waited for it forever
    Path in = tmp.resolve("dup.jsonl");
    Files.writeString(in, "{\"id\":\"x\"}\n{\"id\":\"x\",\"prompt\":\"p\"}\n{\"id\":\"" + "i".repeat(20)
        + "\",\"prompt\":\"p\"}\n");
    List<BatchInput.Row> rows = BatchInput.read(in, 8, 16).rows();
    assertTrue(rows.get(1).error().startsWith("duplicate id 'x'"), rows.get(1).error());
    assertEquals("\"id\" must be 1 to 16 bytes of UTF-8", rows.get(2).error());
  }

  @Test
  void aDuplicatesErrorLineWrittenBeforeTheServedRowsAnswerDoesNotCountForIt() throws Exception {
    // regression (review): on resume, lines were credited to rows by id in order, so the served row took the
    // duplicate's error line and was never run
    BatchInput in = input();
    Path out = tmp.resolve("out.jsonl");
    try (BatchOutput o = BatchOutput.create(out, in.rows(), false)) {
      o.failedRow(3, "duplicate"); // the second "a", written at start-up; then the process is killed
    }
    try (BatchOutput o = BatchOutput.openForResume(out, in.rows(), false)) {
      assertTrue(o.isWritten(3));
      assertFalse(o.isWritten(0), "the served row a still has to run");
    }
  }

  @Test
  void orderedOutputHoldsLinesUntilEveryEarlierRowIsWritten() throws Exception {
    BatchInput in = input();
    Path out = tmp.resolve("out.jsonl");
    try (BatchOutput o = BatchOutput.create(out, in.rows(), true)) {
      o.answered(answer("3", 1)); // no such served row ("3" is the bad one): ignored
      o.answered(answer("6", 4));
      assertEquals("", Files.readString(out), "row 6 waits for rows a..n");
      o.answered(answer("a", 2));
      o.answered(answer("2", 3));
      o.failedRow(2, "not a JSON object");
      o.failedRow(3, "duplicate");
      o.failedRow(4, "no prompt");
      List<String> lines = Files.readAllLines(out);
      assertEquals(6, lines.size());
      JsonObject first = JsonParser.parseString(lines.get(0)).getAsJsonObject();
      assertEquals("a", first.get("id").getAsString());
      assertEquals(7, first.get("tag").getAsInt(), "input fields pass through");
      assertEquals("t-a", first.get("text").getAsString());
      assertEquals("6", JsonParser.parseString(lines.get(5)).getAsJsonObject().get("id").getAsString());
    }
    assertThrows(IllegalArgumentException.class, () -> BatchOutput.create(out, in.rows(), true),
        "an existing output needs --resume");
  }

  @Test
  void resumingCutsAPartialLastLineAndSkipsRowsAlreadyWritten() throws Exception {
    BatchInput in = input();
    Path out = tmp.resolve("out.jsonl");
    try (BatchOutput o = BatchOutput.create(out, in.rows(), false)) {
      o.answered(answer("a", 2));
      o.failedRow(3, "duplicate"); // the second "a"
    }
    Files.writeString(out, "{\"id\":\"2\",\"te", java.nio.file.StandardOpenOption.APPEND); // killed mid-line
    try (BatchOutput o = BatchOutput.openForResume(out, in.rows(), false)) {
      assertTrue(o.isWritten(0) && o.isWritten(3), "both rows with id a are in the file");
      assertFalse(o.isWritten(1), "the partial line of row 2 does not count");
      o.answered(answer("a", 5)); // a repeated final response: not written twice
      o.answered(answer("2", 3));
    }
    List<String> lines = Files.readAllLines(out);
    assertEquals(3, lines.size(), "[" + String.join("]\n[", lines) + "]");
    assertTrue(lines.stream().allMatch(l -> l.endsWith("}")), "no partial line is left");
  }

  @Test
  void resumingSkipsBlankLinesCountsTheFilesErrorsAndRefusesAFileItDidNotWrite() throws Exception {
    // regression (user-style run): a blank line in the output ended a resume in a stack trace, and the summary
    // counted only this run's errors
    BatchInput in = input();
    Path out = tmp.resolve("out.jsonl");
    try (BatchOutput o = BatchOutput.create(out, in.rows(), false)) {
      o.failedRow(3, "duplicate");
    }
    Files.writeString(out, "\n", java.nio.file.StandardOpenOption.APPEND);
    try (BatchOutput o = BatchOutput.openForResume(out, in.rows(), false)) {
      assertTrue(o.isWritten(3));
      assertEquals(1, o.errorCount(), "the error row already in the file");
    }
    Path foreign = Files.writeString(tmp.resolve("foreign.jsonl"), "{\"id\":\"a\"}\nnot json\n");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> BatchOutput.openForResume(foreign, in.rows(), false));
    assertTrue(e.getMessage().contains("foreign.jsonl:2"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> BatchOutput.openForResume(tmp, in.rows(), false));
    assertTrue(e.getMessage().contains("not a writable file"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> BatchOutput.create(tmp.resolve("absent/out.jsonl"), in.rows(), false));
    assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
  }

  @Test
  void theEtaIsTrailsPredictedRemainingWorkOverTheMeasuredTokenRate() {
    BatchProgress p = new BatchProgress();
    p.pending("r1", 100);
    p.pending("r2", 100);
    p.pending("r3", 100);
    EngineFeedback fb = EngineFeedback.newBuilder().setEngine("e").setEngineIncarnation("i").setStepSeq(1)
        .setIssuedAtMs(0).setFinishedAtMs(0).setPublishedAtMs(0).setBusyMs(1).setBlocksUsed(0).setBlockCapacity(1)
        .setProgress(List.of(RequestProgress.newBuilder().setRequestId("r1").setOutcome("OK")
            .setNewTokenIds(List.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)).setGenerated(10).setBlocksHeld(1).build()))
        .setPredictions(List.of(PredictionUpdate.newBuilder().setRequestId("r1").setEngine("e").setStepSeq(1)
            .setGenerated(10).setPredictedRemaining(30).setPredictorVersion("t").build()))
        .build();
    p.feedback(fb, 1_000);
    p.feedback(fb, 2_000); // 20 tokens over 1 s
    p.done("r3", 40); // finished rows set the guess for rows without a prediction
    assertEquals(30 + 40, p.predictedRemainingTokens(), 1e-9, "r1: its prediction; r2: the mean finished length");
    assertEquals(20, p.tokensPerSecond(2_000), 1e-9);
    assertEquals(70 / 20.0, p.etaSeconds(2_000), 1e-9);
  }
}
