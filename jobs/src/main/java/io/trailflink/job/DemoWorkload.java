package io.trailflink.job;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.trailflink.engine.train.Example;
import io.trailflink.engine.train.SyntheticTasks;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * What the demo sends: prompts with their max_new_tokens (and a forced length for trace replay), and Poisson
 * arrival offsets. By default, generated instruction tasks whose answer lengths vary with the prompt (lists,
 * counting, short and long stories); or a JSONL file of {@code {"prompt": ..., "max_new_tokens": N,
 * "out_tokens": N}} lines (the last two optional; out_tokens forces the output length).
 */
public record DemoWorkload(List<Item> items) {
  /** One request to send {@code atMs} after the start. */
  public record Item(String prompt, int maxNewTokens, Integer forcedTokens, long atMs) {}

  public static DemoWorkload generated(int n, int maxNewTokens, double rate, long seed) {
    List<Example> ex = new SyntheticTasks(seed).generate(n);
    List<String> prompts = ex.stream().map(Example::prompt).toList();
    return withArrivals(prompts, null, maxNewTokens, rate, seed);
  }

  /** Reads a JSONL file; bad lines are reported with file:line through {@code onBadLine} and skipped. */
  public static DemoWorkload read(Path file, int n, int maxNewTokens, double rate, long seed,
      Consumer<String> onBadLine) throws IOException {
    List<String> prompts = new ArrayList<>();
    List<int[]> sizes = new ArrayList<>();
    int lineNo = 0;
    for (String line : Files.readAllLines(file)) {
      lineNo++;
      if (line.isBlank()) {
        continue;
      }
      try {
        JsonObject o = JsonParser.parseString(line).getAsJsonObject();
        String prompt = o.has("prompt") ? o.get("prompt").getAsString() : o.get("instruction").getAsString();
        int max = o.has("max_new_tokens") ? o.get("max_new_tokens").getAsInt() : maxNewTokens;
        int forced = o.has("out_tokens") ? Math.min(o.get("out_tokens").getAsInt(), max) : 0;
        prompts.add(prompt);
        sizes.add(new int[] {max, forced});
      } catch (com.google.gson.JsonParseException | IllegalStateException e) {
        onBadLine.accept(file + ":" + lineNo + ": not a JSON object");
      } catch (RuntimeException e) {
        String why = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
        onBadLine.accept(file + ":" + lineNo + ": " + (e instanceof NullPointerException ? "needs a \"prompt\"" : why));
      }
      if (prompts.size() == n) {
        break;
      }
    }
    if (prompts.isEmpty()) {
      throw new IllegalArgumentException("--workload " + file + ": no usable lines");
    }
    return withArrivals(prompts, sizes, maxNewTokens, rate, seed);
  }

  private static DemoWorkload withArrivals(List<String> prompts, List<int[]> sizes, int maxNewTokens, double rate,
      long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    List<Item> items = new ArrayList<>();
    double t = 0;
    for (int i = 0; i < prompts.size(); i++) {
      int[] s = sizes == null ? new int[] {maxNewTokens, 0} : sizes.get(i);
      items.add(new Item(prompts.get(i), s[0], s[1] > 0 ? s[1] : null, Math.round(t)));
      t += rate > 0 ? -Math.log(1 - rnd.nextDouble()) / rate * 1000 : 0;
    }
    return new DemoWorkload(items);
  }
}
