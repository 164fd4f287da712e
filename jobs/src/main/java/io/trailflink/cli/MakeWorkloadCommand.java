package io.trailflink.cli;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code trail make-workload}: turns AlpacaEval model outputs ({@code instruction, output}) into a simulator
 * workload: the instruction as prompt and the answer's length as {@code out_tokens}, estimated as whitespace words
 * × tokens-per-word (≈ 1.33 for English with Llama-3's tokenizer), capped like the paper's generation (512).
 */
@Command(name = "make-workload", description = "Build a JSONL workload from AlpacaEval outputs (answer lengths as out_tokens).")
final class MakeWorkloadCommand implements Callable<Integer> {
  @Option(names = "--alpaca-eval", required = true, description = "An AlpacaEval outputs JSON file.") Path input;
  @Option(names = "--out", required = true) Path out;
  @Option(names = "--tokens-per-word", defaultValue = "1.33") double tokensPerWord;
  @Option(names = "--cap", defaultValue = "512") int cap;

  @Override
  public Integer call() throws Exception {
    if (!Files.isRegularFile(input)) {
      throw new IllegalArgumentException("--alpaca-eval " + input + ": no such file");
    }
    int n = 0;
    if (out.toAbsolutePath().getParent() != null) {
      Files.createDirectories(out.toAbsolutePath().getParent());
    }
    try (BufferedWriter w = Files.newBufferedWriter(out)) {
      for (JsonElement e : JsonParser.parseString(Files.readString(input)).getAsJsonArray()) {
        JsonObject o = e.getAsJsonObject();
        String answer = o.get("output").getAsString().strip();
        int words = answer.isEmpty() ? 0 : answer.split("\\s+").length;
        JsonObject line = new JsonObject();
        line.addProperty("prompt", o.get("instruction").getAsString());
        line.addProperty("out_tokens", Math.max(1, Math.min(cap, (int) Math.round(words * tokensPerWord))));
        w.write(line.toString());
        w.newLine();
        n++;
      }
    }
    System.err.printf("%d requests -> %s%n", n, out);
    return 0;
  }
}
