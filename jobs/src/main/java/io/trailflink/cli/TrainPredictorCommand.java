package io.trailflink.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.trailflink.predictor.LengthBins;
import io.trailflink.predictor.LengthMlp;
import io.trailflink.predictor.TrailPredictor;
import io.trailflink.predictor.TrainingPrompts;
import io.trailflink.predictor.data.TapDataset;
import io.trailflink.predictor.train.MlpTrainer;
import io.trailflink.predictor.train.PredictorEvaluation;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code trail train-predictor}: the layer sweep, then the shipped predictor. For each layer a classifier is
 * trained on a strided subset of the training requests' samples for a few epochs and scored on the held-out
 * requests (MAE of remaining length, bin accuracy); the best layer is trained in full and written with a card.
 */
@Command(name = "train-predictor", description = "Layer sweep, then train TRAIL's length MLP on the best layer and save it next to the model.")
final class TrainPredictorCommand implements Callable<Integer> {
  @Option(names = "--states", required = true, description = "Dataset written by collect-states.") Path states;
  @Option(names = "--out", description = "Predictor directory (default: models/trail-tiny/predictor).") Path out;
  @Option(names = "--layers", split = ",", description = "Layers to sweep (default: all collected).") List<Integer> layers;
  @Option(names = "--layer", description = "Skip the sweep and train this layer.") Integer fixedLayer;
  @Option(names = "--sweep-epochs", defaultValue = "3") int sweepEpochs;
  @Option(names = "--sweep-stride", defaultValue = "2", description = "Sweep on every N-th training sample.") int sweepStride;
  @Option(names = "--epochs", defaultValue = "10") int epochs;
  @Option(names = "--lr", defaultValue = "0.01") double lr;
  @Option(names = "--units", defaultValue = "512") int units;
  @Option(names = "--bins", defaultValue = "10") int binCount;
  @Option(names = "--refresh-every", defaultValue = "1", description = "K: run the MLP every K tokens in the job (1 = the paper).") int refreshEvery;
  @Option(names = "--prompt-weight", defaultValue = "1", description = "Repeat each prompt-mean sample this often in training (they are ~1 in 200 samples; default: ${DEFAULT-VALUE}).") int promptWeight;
  @Option(names = "--threads", description = "Layers trained at once in the sweep (default: cores).") Integer threads;
  @Option(names = "--json", description = "Print one JSON object as the last line.") boolean json;

  @Override
  public Integer call() throws Exception {
    TapDataset ds = TapDataset.open(states);
    Path dir = out != null ? out : TrailCli.defaultModel().resolve("predictor");
    LengthBins bins = new LengthBins(binCount, ds.cap());
    int[] labels = new int[ds.size()];
    List<Integer> trainList = new ArrayList<>();
    List<Integer> valList = new ArrayList<>();
    for (int s = 0; s < ds.size(); s++) {
      labels[s] = bins.binOf(ds.remainingAt(s));
      (ds.requests().get(ds.requestOf(s)).validation() ? valList : trainList).add(s);
    }
    int[] train = trainList.stream().flatMapToInt(sample -> ds.generatedAt(sample) == 0
        ? IntStream.generate(() -> sample).limit(Math.max(1, promptWeight)) : IntStream.of(sample)).toArray();
    int[] val = valList.stream().mapToInt(Integer::intValue).toArray();
    long valRequests = ds.requests().stream().filter(TapDataset.RequestRecord::validation).count();
    int trainSamples = trainList.size();
    System.err.printf("dataset %s: %d samples (%d train, %d held-out from %d requests), hidden %d, cap %d%n", states,
        ds.size(), trainSamples, val.length, valRequests, ds.hidden(), ds.cap());
    if (train.length == 0 || val.length == 0) {
      throw new TrailCli.UsageException("--states " + states + " needs both train and val requests");
    }
    long t0 = System.nanoTime();
    JsonObject report = new JsonObject();
    Map<Integer, double[]> sweep = new TreeMap<>();
    int layer;
    if (fixedLayer != null) {
      layer = fixedLayer;
    } else {
      List<Integer> todo = layers != null ? layers : IntStream.rangeClosed(0, ds.numLayers()).boxed().toList();
      int[] strided = IntStream.range(0, train.length).filter(i -> i % sweepStride == 0).map(i -> train[i]).toArray();
      ExecutorService pool = Executors.newFixedThreadPool(threads != null ? threads
          : Math.max(1, Runtime.getRuntime().availableProcessors()));
      List<Future<double[]>> futures = new ArrayList<>();
      for (int l : todo) {
        futures.add(pool.submit(() -> {
          long ts = System.nanoTime();
          float[] x = ds.layer(l);
          LengthMlp mlp = new MlpTrainer(new MlpTrainer.Config(units, sweepEpochs, lr, 32, 0.01, 7))
              .train(x, ds.hidden(), labels, strided, binCount, e -> {});
          double[] score = PredictorEvaluation.rawScore(mlp, x, ds.hidden(), ds, val, bins);
          System.err.printf("  layer %d: held-out MAE %.1f tokens, bin accuracy %.3f (%.0f s)%n", l, score[0], score[1],
              (System.nanoTime() - ts) / 1e9);
          return score;
        }));
      }
      pool.shutdown();
      for (int i = 0; i < todo.size(); i++) {
        sweep.put(todo.get(i), futures.get(i).get());
      }
      layer = sweep.entrySet().stream().min((a, b) -> Double.compare(a.getValue()[0], b.getValue()[0])).orElseThrow()
          .getKey();
      writeSweepPlot(dir.resolve("layer-sweep.png"), sweep);
      System.err.printf("layer sweep: best layer %d (MAE %.1f)%n", layer, sweep.get(layer)[0]);
    }
    float[] x = ds.layer(layer);
    long tt = System.nanoTime();
    ProgressLine line = new ProgressLine();
    LengthMlp mlp = new MlpTrainer(new MlpTrainer.Config(units, epochs, lr, 32, 0.01, 7))
        .train(x, ds.hidden(), labels, train, binCount, e -> line.show(String.format(java.util.Locale.ROOT,
            "train-predictor: layer %d epoch %d/%d  %.0f s", layer, e, epochs, (System.nanoTime() - tt) / 1e9)));
    line.end();
    double[] score = PredictorEvaluation.rawScore(mlp, x, ds.hidden(), ds, val, bins);
    String modelName = Path.of(ds.model()).getFileName().toString();
    TrailPredictor predictor = new TrailPredictor(new TrailPredictor.Spec(layer, ds.hidden(), units, binCount,
        ds.cap(), refreshEvery, modelName, "trail-mlp-l" + layer), mlp);
    JsonObject facts = new JsonObject();
    facts.addProperty("heldout_mae_tokens", score[0]);
    facts.addProperty("heldout_bin_accuracy", score[1]);
    facts.addProperty("train_samples", trainSamples);
    facts.addProperty("heldout_samples", val.length);
    facts.addProperty("epochs", epochs);
    facts.addProperty("learning_rate", lr);
    facts.addProperty("prompt_weight", promptWeight);
    predictor.save(dir, facts);
    // eval-predictor refuses to score this predictor on any of these prompts
    TrainingPrompts.write(dir, TrainingPrompts.PREDICTOR_FILE, ds.requests().stream().filter(r -> !r.validation())
        .map(TapDataset.RequestRecord::prompt).toList());
    double wall = (System.nanoTime() - t0) / 1e9;
    writeCard(dir, ds, layer, score, sweep, trainSamples, val.length, valRequests, wall);
    report.addProperty("layer", layer);
    report.addProperty("heldout_mae_tokens", score[0]);
    report.addProperty("heldout_bin_accuracy", score[1]);
    JsonArray sw = new JsonArray();
    sweep.forEach((l, s) -> {
      JsonObject o = new JsonObject();
      o.addProperty("layer", l);
      o.addProperty("mae_tokens", s[0]);
      o.addProperty("bin_accuracy", s[1]);
      sw.add(o);
    });
    report.add("layer_sweep", sw);
    report.addProperty("out", dir.toString());
    report.addProperty("wall_s", wall);
    System.out.printf(Locale.ROOT, "predictor: layer %d, held-out MAE %.1f tokens, bin accuracy %.3f → %s (%.0f s)%n",
        layer, score[0], score[1], dir, wall);
    if (json) {
      System.out.println(report);
    }
    return 0;
  }

  private static void writeSweepPlot(Path file, Map<Integer, double[]> sweep) throws IOException {
    double[] l = sweep.keySet().stream().mapToDouble(Integer::doubleValue).toArray();
    double[] mae = sweep.values().stream().mapToDouble(s -> s[0]).toArray();
    Files.createDirectories(file.getParent());
    new PngChart("Layer sweep: held-out MAE of remaining length", "layer (residual stream after N layers)",
        "MAE (tokens)").add("MLP", l, mae).write(file);
  }

  private void writeCard(Path dir, TapDataset ds, int layer, double[] score, Map<Integer, double[]> sweep,
      int trainSamples, int valSamples, long valRequests, double wall) throws IOException {
    StringBuilder b = new StringBuilder();
    b.append("# TRAIL length predictor for ").append(Path.of(ds.model()).getFileName()).append("\n\n");
    b.append("Linear(").append(ds.hidden()).append(" → ").append(units).append(") → ReLU → Linear(").append(units)
        .append(" → ").append(binCount).append(") on the residual stream after **layer ").append(layer)
        .append("**, with per-feature standardisation of its input; ").append(binCount)
        .append(" equal-width bins of remaining output length over [0, ").append(ds.cap()).append(") tokens. ")
        .append("Files: `predictor.json` (spec and facts), `predictor.safetensors` (PyTorch names: fc1/fc2 weight and bias, ")
        .append("input_mean, input_std). Built by the project's own commands from the bundled model's outputs; ")
        .append("the prompts come from the Alpaca and AlpacaEval samples in the `--data` folder given to collect-states")
        .append(ds.meta().has("data") ? " (`" + ds.meta().get("data").getAsString() + "`)" : "")
        .append(" (see the licences there) and the ")
        .append("project's generated tasks.\n\n");
    b.append("## Data\n\n`").append(states).append("`: ").append(ds.requests().size()).append(" requests, ")
        .append(trainSamples).append(" training samples")
        .append(promptWeight > 1 ? " (prompt-mean samples repeated " + promptWeight + "×)" : "").append(", ")
        .append(valSamples).append(" held-out samples from ")
        .append(valRequests).append(" held-out requests (split by request).\n\n");
    if (!sweep.isEmpty()) {
      b.append("## Layer sweep (").append(sweepEpochs).append(" epochs on one training sample in ")
          .append(sweepStride).append(")\n\n| layer | held-out MAE (tokens) | bin accuracy |\n|---|---|---|\n");
      sweep.forEach((l, s) -> b.append(String.format(Locale.ROOT, "| %d | %.1f | %.3f |%n", l, s[0], s[1])));
      b.append("\n![layer sweep](layer-sweep.png)\n\n");
    }
    b.append(String.format(Locale.ROOT, "## Result%n%nLayer %d, %d epochs, AdamW lr %s cosine, batch 32: held-out MAE "
        + "**%.1f tokens**, bin accuracy **%.3f** (per sample, raw classifier, no smoothing). Wall time %.0f s.%n%n",
        layer, epochs, lr, score[0], score[1], wall));
    b.append("Command: `./trail train-predictor --states ").append(states).append(" --epochs ").append(epochs)
        .append(promptWeight > 1 ? " --prompt-weight " + promptWeight : "")
        .append(fixedLayer != null ? " --layer " + fixedLayer : "")
        .append(" --sweep-epochs ").append(sweepEpochs).append(" --sweep-stride ").append(sweepStride).append("`\n\n")
        .append("Evaluate (baselines, smoothing, confusion map): `./trail eval-predictor --states ").append(states)
        .append(" --plot ").append(dir).append("`\n");
    Path card = dir.resolve("README.md");
    String kept = Files.isRegularFile(card) ? handWrittenSections(Files.readString(card)) : "";
    Files.writeString(card, kept.isEmpty() ? b.toString() : b + "\n" + kept);
  }

  /**
   * The "## " sections of an existing card that {@link #writeCard} does not write (Data, Layer sweep, Result) —
   * e.g. a held-out evaluation added from eval-predictor — in their order, so that retraining keeps them.
   */
  static String handWrittenSections(String card) {
    StringBuilder kept = new StringBuilder();
    boolean keep = false;
    for (String line : card.split("\n", -1)) {
      if (line.startsWith("## ")) {
        String title = line.substring(3).trim();
        keep = !(title.equals("Data") || title.equals("Result") || title.startsWith("Layer sweep"));
      }
      if (keep) {
        kept.append(line).append('\n');
      }
    }
    String sections = kept.toString().stripTrailing();
    return sections.isEmpty() ? "" : sections + "\n";
  }
}
