package io.trailflink.cli;

import com.google.gson.JsonObject;
import io.trailflink.engine.FinishReason;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** eval-model's optional per-answer record: one JSON object per line, or nothing when no file was asked for. */
final class AnswerDump implements AutoCloseable {
  private final BufferedWriter out;

  AnswerDump(Path file) throws IOException {
    out = file == null ? null : Files.newBufferedWriter(file, StandardCharsets.UTF_8);
  }

  void write(String kind, String prompt, String answer, int outputTokens, FinishReason finish) {
    if (out == null) {
      return;
    }
    JsonObject o = new JsonObject();
    o.addProperty("kind", kind);
    o.addProperty("prompt", prompt);
    o.addProperty("answer", answer);
    o.addProperty("output_tokens", outputTokens);
    o.addProperty("finish_reason", finish.wireName());
    try {
      out.write(o.toString());
      out.newLine();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() throws IOException {
    if (out != null) {
      out.close();
    }
  }
}
