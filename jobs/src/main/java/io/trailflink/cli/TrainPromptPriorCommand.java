package io.trailflink.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import io.trailflink.engine.text.PromptEncoder;
import io.trailflink.job.PromptTokens;
import io.trailflink.job.RequestJson;
import io.trailflink.predictor.LengthBins;
import io.trailflink.predictor.PromptPrior;
import io.trailflink.predictor.TrailPredictor;
import io.trailflink.predictor.TrainingPrompts;
import io.trailflink.schema.InferenceRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code trail train-prompt-prior}: trains the prompt prior ({@link PromptPrior} on token ids) from rows that hold a
 * prompt and the length the model gave it — what {@code trail batch} writes ({@code prompt} or {@code messages},
 * {@code output_tokens}; rows with an {@code error} are skipped). Prompts are templated as the job templates them.
 * A tenth of the rows (by a hash of the prompt, so duplicates stay on one side) is held out and scored against the
 * best constant guess (the training lengths' median); {@code --eval} scores it on other rows as well, e.g. a workload
 * that must stay out of training because benchmarks run on it. Written next to the TRAIL predictor.
 */
@Command(name = "train-prompt-prior", description = "Train the prompt prior (ranks and times waiting requests TRAIL has not embedded yet) from `trail batch` output rows (prompt or messages, output_tokens), and save it next to the predictor.")
final class TrainPromptPriorCommand implements Callable<Integer> {
  @Option(names = "--data", required = true, split = ",", description = "JSONL files of rows with prompt (or messages) and output_tokens, e.g. trail batch output; comma-separated.") List<Path> data;
  @Option(names = "--model", description = "Checkpoint that produced the lengths (default: the bundled model): its tokenizer and chat template.") Path modelDir;
  @Option(names = "--out", description = "Predictor directory to write the prior into (default: MODEL/predictor, replacing the prior shipped there).") Path out;
  @Option(names = "--epochs", defaultValue = "80", description = "Passes over the rows (default: ${DEFAULT-VALUE}; held-out MAE 38.5 / 34.5 / 30.8 tokens at 5 / 20 / 80 on the bundled model's rows).") int epochs;
  @Option(names = "--buckets", defaultValue = "16384", description = "Feature hash buckets, a power of two (default: ${DEFAULT-VALUE}).") int buckets;
  @Option(names = "--raw-prompts", description = "Prompts were fed without the chat template (as serve --raw-prompts).") boolean rawPrompts;
  @Option(names = "--eval", split = ",", description = "Rows of the same form to score the prior on, never trained on (e.g. the prompts benchmarks run); comma-separated.") List<Path> eval = List.of();

  @Override
  public Integer call() throws Exception {
    if (buckets < 1 || Integer.bitCount(buckets) != 1) {
      throw new TrailCli.UsageException("--buckets must be a power of two, got " + buckets);
    }
    if (epochs < 1) {
      throw new TrailCli.UsageException("--epochs must be >= 1, got " + epochs);
    }
    for (Path f : data) {
      if (!Files.isRegularFile(f)) {
        throw new TrailCli.UsageException("--data " + f + ": no such file");
      }
    }
    for (Path f : eval) {
      if (!Files.isRegularFile(f)) {
        throw new TrailCli.UsageException("--eval " + f + ": no such file");
      }
    }
    Path model = modelDir != null ? modelDir : TrailCli.defaultModel();
    Path dir = out != null ? out : model.resolve("predictor");
    if (!Files.isRegularFile(dir.resolve(TrailPredictor.SPEC_FILE))) {
      throw new TrailCli.UsageException("--out " + dir + ": no TRAIL predictor there (the prior uses its bins)");
    }
    TrailPredictor.Spec spec = TrailPredictor.readSpec(dir);
    LengthBins bins = new LengthBins(spec.bins(), spec.cap());
    List<int[]> train = new ArrayList<>();
    List<Integer> trainLengths = new ArrayList<>();
    List<int[]> held = new ArrayList<>();
    List<Integer> heldLengths = new ArrayList<>();
    List<String> trainTexts = new ArrayList<>();
    List<int[]> evalPrompts = new ArrayList<>();
    List<Integer> evalLengths = new ArrayList<>();
    int skipped = 0;
    try (PromptEncoder encoder = PromptEncoder.forCheckpoint(model)) {
      for (Path f : data) {
        skipped += readRows(encoder, f, (row, ids) -> {
          boolean heldOut = Math.floorMod(Arrays.hashCode(ids) * 0x9E3779B1, 10) == 0;
          (heldOut ? held : train).add(ids);
          (heldOut ? heldLengths : trainLengths).add(row.outputTokens);
          if (!heldOut) {
            trainTexts.add(PromptTokens.text(row.request));
          }
        });
      }
      java.util.Set<String> trained = new java.util.HashSet<>();
      trainTexts.forEach(t -> trained.add(TrainingPrompts.fingerprint(t)));
      int[] overlap = {0};
      for (Path f : eval) {
        readRows(encoder, f, (row, ids) -> {
          if (trained.contains(TrainingPrompts.fingerprint(PromptTokens.text(row.request)))) {
            overlap[0]++;
          }
          evalPrompts.add(ids);
          evalLengths.add(row.outputTokens);
        });
      }
      if (overlap[0] > 0) {
        throw new TrailCli.UsageException("--eval " + joined(eval) + ": " + overlap[0] + " of its rows are also training rows "
            + "of --data, so its score would not be of unseen prompts: take them out of one side");
      }
      if (!eval.isEmpty() && evalPrompts.isEmpty()) {
        throw new TrailCli.UsageException("--eval " + joined(eval) + ": no row with a prompt and output_tokens");
      }
    }
    if (train.isEmpty()) {
      throw new TrailCli.UsageException("--data " + data + ": no row with a prompt and output_tokens (give the rows "
          + "`trail batch` wrote, not its input)");
    }
    int[] lengths = trainLengths.stream().mapToInt(Integer::intValue).toArray();
    System.err.printf("training the prompt prior on %d rows (%d held out, %d skipped; %d buckets, %d epochs) ...%n",
        lengths.length, held.size(), skipped, buckets, epochs);
    PromptPrior prior = PromptPrior.trainOnTokens(train, lengths, bins, buckets, epochs, 1);
    int[] sorted = lengths.clone();
    Arrays.sort(sorted);
    double median = sorted[sorted.length / 2];
    double[] heldMae = mae(prior, median, held, heldLengths);
    double[] evalMae = mae(prior, median, evalPrompts, evalLengths);
    JsonObject card = new JsonObject();
    com.google.gson.JsonArray sources = new com.google.gson.JsonArray();
    data.forEach(p -> sources.add(p.getFileName().toString()));
    card.add("trained_on", sources);
    card.addProperty("train_rows", lengths.length);
    card.addProperty("heldout_rows", held.size());
    card.addProperty("epochs", epochs);
    card.addProperty("heldout_mae_total_tokens", heldMae[0]);
    card.addProperty("heldout_mae_median_guess_tokens", heldMae[1]);
    if (!evalPrompts.isEmpty()) {
      com.google.gson.JsonArray evalSources = new com.google.gson.JsonArray();
      eval.forEach(p -> evalSources.add(p.getFileName().toString()));
      card.add("evaluated_on", evalSources);
      card.addProperty("eval_rows", evalPrompts.size());
      card.addProperty("eval_mae_total_tokens", evalMae[0]);
      card.addProperty("eval_mae_median_guess_tokens", evalMae[1]);
    }
    try {
      prior.save(dir, card);
      TrainingPrompts.write(dir, TrainingPrompts.PRIOR_FILE, trainTexts); // trail bench counts its prompts in it
    } catch (java.io.UncheckedIOException e) {
      throw new TrailCli.UsageException("--out " + dir + ": cannot write the prior: " + e.getCause().getMessage());
    }
    if (held.isEmpty()) {
      System.out.printf("no row held out (too few rows): written to %s unscored%n", dir.resolve(PromptPrior.SPEC_FILE));
      return 0;
    }
    System.out.printf("held-out MAE of the output length: prompt prior %.1f tokens, the training median (%.0f) "
        + "%.1f tokens; written to %s%n", heldMae[0], median, heldMae[1], dir.resolve(PromptPrior.SPEC_FILE));
    if (!evalPrompts.isEmpty()) {
      System.out.printf("--eval (%d rows never trained on): prompt prior %.1f tokens, the training median %.1f "
          + "tokens%n", evalPrompts.size(), evalMae[0], evalMae[1]);
    }
    return 0;
  }

  private static String joined(List<Path> files) {
    return String.join(",", files.stream().map(Path::toString).toList());
  }

  /** Mean absolute error of the output length: {prior's guess, the constant median}; NaN without rows. */
  private static double[] mae(PromptPrior prior, double median, List<int[]> prompts, List<Integer> lengths) {
    double p = 0;
    double m = 0;
    for (int i = 0; i < prompts.size(); i++) {
      p += Math.abs(prior.predictTotal(prompts.get(i)) - lengths.get(i));
      m += Math.abs(median - lengths.get(i));
    }
    return prompts.isEmpty() ? new double[] {Double.NaN, Double.NaN}
        : new double[] {p / prompts.size(), m / prompts.size()};
  }

  /** Receives one usable row with its templated prompt ids. */
  private interface RowSink {
    void accept(Row row, int[] promptIds);
  }

  /** Reads {@code f}'s usable rows into {@code sink}; returns the rows skipped (refused by the job or the template). */
  private int readRows(PromptEncoder encoder, Path f, RowSink sink) throws java.io.IOException {
    int skipped = 0;
    int lineNo = 0;
    for (String line : Files.readAllLines(f)) {
      lineNo++;
      if (line.isBlank()) {
        continue;
      }
      Row row = parse(f, lineNo, line);
      if (row == null) {
        skipped++;
        continue;
      }
      int[] ids;
      try {
        ids = PromptTokens.of(encoder, row.request, rawPrompts);
      } catch (RuntimeException e) { // a conversation the chat template refuses: that row only
        skipped++;
        continue;
      }
      sink.accept(row, ids);
    }
    return skipped;
  }

  private record Row(InferenceRequest request, int outputTokens) {}

  /**
   * A usable row, or null for one with an error, without a length, or with both a prompt and messages; a line that
   * is not a JSON object, or a field of the wrong type, is a usage error naming the file and line.
   */
  private static Row parse(Path f, int lineNo, String line) {
    try {
      JsonObject o = JsonParser.parseString(line).getAsJsonObject();
      boolean hasPrompt = o.has("prompt") && !o.get("prompt").isJsonNull();
      boolean hasMessages = o.has("messages") && !o.get("messages").isJsonNull();
      if (o.has("error") && !o.get("error").isJsonNull() || !o.has("output_tokens")
          || o.get("output_tokens").isJsonNull() || hasPrompt == hasMessages) {
        return null; // refused by the job, or neither a prompt nor messages, or both (the job refuses both)
      }
      return new Row(RequestJson.parse(o, "row", 1, ""), o.get("output_tokens").getAsInt());
    } catch (JsonParseException | IllegalStateException | IllegalArgumentException | UnsupportedOperationException
        | NullPointerException | ClassCastException e) {
      throw new TrailCli.UsageException(f + ":" + lineNo + ": not a row of prompt (or messages of role and "
          + "content) and output_tokens");
    }
  }
}
