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
 * × tokens-per-word (≈ 1.33 for English with Llama-3's tokenizer), capped like the paper's generation (512). Or,
 * with {@code --generated N}, writes N of the demo's generated tasks as batch input rows ({@code id, prompt,
 * max_new_tokens}: the cap), e.g. to collect the bundled model's own lengths with {@code trail batch}.
 */
@Command(name = "make-workload", description = "Build a JSONL workload from AlpacaEval outputs (answer lengths as out_tokens), or of N generated tasks (--generated).")
final class MakeWorkloadCommand implements Callable<Integer> {
  @Option(names = "--alpaca-eval", description = "An AlpacaEval outputs JSON file.") Path input;
  @Option(names = "--generated", description = "Write this many generated tasks (the demo's kind) instead.") Integer generated;
  @Option(names = "--seed", defaultValue = "101", description = "Seed of the generated tasks (the demo uses 7; default: ${DEFAULT-VALUE}).") long seed;
  @Option(names = "--out", required = true) Path out;
  @Option(names = "--tokens-per-word", defaultValue = "1.33") double tokensPerWord;
  @Option(names = "--cap", defaultValue = "512") int cap;

  @Override
  public Integer call() throws Exception {
    if ((input == null) == (generated == null)) {
      throw new TrailCli.UsageException("give one of --alpaca-eval FILE or --generated N");
    }
    if (generated != null) {
      return writeGenerated();
    }
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

  private int writeGenerated() throws java.io.IOException {
    if (generated < 1 || cap < 1) {
      throw new TrailCli.UsageException("--generated and --cap must be >= 1, got " + generated + " and " + cap);
    }
    if (out.toAbsolutePath().getParent() != null) {
      Files.createDirectories(out.toAbsolutePath().getParent());
    }
    int i = 0;
    try (BufferedWriter w = Files.newBufferedWriter(out)) {
      for (io.trailflink.engine.train.Example e : new io.trailflink.engine.train.SyntheticTasks(seed).generate(generated)) {
        JsonObject line = new JsonObject();
        line.addProperty("id", "g" + i++);
        line.addProperty("prompt", e.prompt());
        line.addProperty("max_new_tokens", cap);
        w.write(line.toString());
        w.newLine();
      }
    }
    System.err.printf("%d generated tasks -> %s%n", i, out);
    return 0;
  }
}
