package io.trailflink.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.trailflink.predictor.LengthBins;
import io.trailflink.predictor.TrailPredictor;
import io.trailflink.predictor.TrainingPrompts;
import io.trailflink.predictor.data.TapDataset;
import io.trailflink.predictor.train.PredictorEvaluation;
import io.trailflink.predictor.PromptPrior;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code trail eval-predictor}: the predictor against its baselines on the held-out requests of a collected
 * dataset — MAE of remaining length overall and by fraction of the output generated, bin accuracy, a confusion
 * heat map, and the paper's headline ratio (prompt-text baseline MAE over refined-and-smoothed MAE).
 */
@Command(name = "eval-predictor", description = "Score the TRAIL predictor and its baselines on held-out requests: "
    + "prompt_text (the prompt's words alone), generated_only (only how many tokens are out: the training split's mean "
    + "remaining at that count), initial (the prompt-mean embedding), refined raw and smoothed.")
final class EvalPredictorCommand implements Callable<Integer> {
  @Option(names = "--states", required = true, description = "Dataset written by collect-states.") Path states;
  @Option(names = "--predictor", description = "Predictor directory (default: models/trail-tiny/predictor).") Path predictorDir;
  @Option(names = "--refresh-every", split = ",", defaultValue = "1,8", description = "Refresh cadences K to score (default: ${DEFAULT-VALUE}).") List<Integer> ks;
  @Option(names = "--baseline-epochs", defaultValue = "10", description = "Passes of the prompt-text baseline over the dataset's training requests (default: ${DEFAULT-VALUE}).") int baselineEpochs;
  @Option(names = "--plot", description = "Directory for the confusion heat map (default: the --states directory; the shipped card's comes from --plot models/trail-tiny/predictor).") Path plot;
  @Option(names = "--record", description = "Write the predictor's per-token estimates on the held-out requests here (for simulate --predictions recorded:FILE).") Path record;
  @Option(names = "--json", description = "Print one JSON object as the last line.") boolean json;

  @Override
  public Integer call() throws Exception {
    TapDataset ds = TapDataset.open(states);
    Path dir = predictorDir != null ? predictorDir : TrailCli.defaultModel().resolve("predictor");
    TrailPredictor predictor = TrailPredictor.load(dir, ds.hidden());
    if (predictor.spec().cap() != ds.cap()) {
      throw new TrailCli.UsageException("predictor bins cover [0, " + predictor.spec().cap() + ") but --states "
          + states + " was collected with max_new_tokens " + ds.cap());
    }
    refuseSeenPrompts(dir, ds);
    LengthBins bins = predictor.bins();
    List<String> prompts = new ArrayList<>();
    List<Integer> totals = new ArrayList<>();
    for (TapDataset.RequestRecord r : ds.requests()) {
      if (!r.validation()) {
        prompts.add(r.prompt());
        totals.add(r.outputTokens());
      }
    }
    System.err.printf("training the prompt-text baseline on %d requests ...%n", prompts.size());
    PromptPrior baseline = PromptPrior.train(prompts,
        totals.stream().mapToInt(Integer::intValue).toArray(), bins, baselineEpochs, 1);
    System.err.printf("scoring layer %d of %s on held-out requests ...%n", predictor.spec().layer(), states);
    float[] x = ds.layer(predictor.spec().layer());
    Map<String, PredictorEvaluation.Score> scores = PredictorEvaluation.evaluate(ds, x, predictor, baseline, ks);
    if (record != null) {
      writeRecord(ds, x, predictor);
    }
    JsonObject report = new JsonObject();
    report.addProperty("predictor", predictor.spec().version());
    report.addProperty("layer", predictor.spec().layer());
    report.addProperty("heldout_requests", ds.requests().stream().filter(TapDataset.RequestRecord::validation).count());
    System.out.printf("%-22s %10s %9s   MAE by fraction of output generated: %s%n", "method", "MAE (tok)", "bin acc",
        "0-20% 20-40% 40-60% 60-80% 80-100%");
    JsonObject methods = new JsonObject();
    for (Map.Entry<String, PredictorEvaluation.Score> e : scores.entrySet()) {
      PredictorEvaluation.Score s = e.getValue();
      StringBuilder fr = new StringBuilder();
      JsonArray byFraction = new JsonArray();
      for (int f = 0; f < PredictorEvaluation.FRACTION_BUCKETS; f++) {
        fr.append(String.format(Locale.ROOT, "%6.1f", s.maeByFraction(f)));
        byFraction.add(s.maeByFraction(f));
      }
      System.out.printf(Locale.ROOT, "%-22s %10.1f %9.3f   %s%n", e.getKey(), s.mae(), s.binAccuracy(), fr);
      JsonObject m = new JsonObject();
      m.addProperty("mae_tokens", s.mae());
      m.addProperty("bin_accuracy", s.binAccuracy());
      m.addProperty("samples", s.samples());
      m.add("mae_by_fraction_generated", byFraction);
      methods.add(e.getKey(), m);
    }
    report.add("methods", methods);
    String refined = "refined_smoothed_k" + ks.get(0);
    double ratio = scores.get("prompt_text").mae() / scores.get(refined).mae();
    report.addProperty("mae_ratio_baseline_over_refined", ratio);
    report.addProperty("refined_method", refined);
    System.out.printf(Locale.ROOT, "mae_ratio_baseline_over_refined (prompt_text / %s): %.2f× (paper: 2.66×)%n",
        refined, ratio);
    double ageRatio = scores.get("generated_only").mae() / scores.get(refined).mae();
    report.addProperty("mae_ratio_age_over_refined", ageRatio);
    System.out.printf(Locale.ROOT, "mae_ratio_age_over_refined (generated_only / %s): %.2f× (1 = the predictor knows "
        + "no more than a request's age)%n", refined, ageRatio);
    String[] labels = new String[bins.count()];
    for (int k = 0; k < bins.count(); k++) {
      labels[k] = String.format(Locale.ROOT, "%.0f-%.0f", k * bins.width(), (k + 1) * bins.width());
    }
    Path png = (plot != null ? plot : states).resolve("confusion-" + refined + ".png");
    PngHeatmap.write(png, "Remaining-length bins, " + predictor.spec().version() + " " + refined + " (held-out)",
        labels, scores.get(refined).confusion());
    report.addProperty("confusion_png", png.toString());
    System.out.println("confusion heat map: " + png);
    if (json) {
      System.out.println(report);
    }
    return 0;
  }

  /**
   * A predictor scored on prompts it was trained on is flattered (measured: 2.76× against 1.43× with both models
   * trained on the scored split), so a held-out prompt of {@code ds} that the predictor lists as trained on is a
   * usage error; a predictor without the list gets a warning.
   */
  private void refuseSeenPrompts(Path dir, TapDataset ds) {
    List<String> held = ds.requests().stream().filter(TapDataset.RequestRecord::validation)
        .map(TapDataset.RequestRecord::prompt).toList();
    long seen = TrainingPrompts.seen(dir, TrainingPrompts.PREDICTOR_FILE, held);
    if (seen < 0) {
      System.err.println("eval-predictor: " + dir + " does not list the prompts it was trained on ("
          + TrainingPrompts.PREDICTOR_FILE + "), so nothing checks that the held-out prompts of " + states
          + " are unseen");
    } else if (seen > 0) {
      throw new TrailCli.UsageException(seen + " of " + held.size() + " held-out prompts of --states " + states
          + " were in the training data of " + dir + ", whose score would flatter it: train on this dataset's split "
          + "(trail train-predictor --states " + states + " --out DIR) and score that (--predictor DIR)");
    }
  }

  private void writeRecord(TapDataset ds, float[] x, TrailPredictor predictor) throws IOException {
    if (record.toAbsolutePath().getParent() != null) {
      Files.createDirectories(record.toAbsolutePath().getParent());
    }
    int n = 0;
    try (var w = Files.newBufferedWriter(record)) {
      for (TapDataset.RequestRecord r : ds.requests()) {
        if (!r.validation()) {
          continue;
        }
        JsonObject o = new JsonObject();
        o.addProperty("id", r.id());
        o.addProperty("kind", r.kind());
        o.addProperty("output_tokens", r.outputTokens());
        JsonArray e = new JsonArray();
        for (double v : PredictorEvaluation.trajectory(ds, x, predictor, r)) {
          e.add(Math.round(v * 10) / 10.0);
        }
        o.add("estimates", e);
        w.write(o.toString());
        w.newLine();
        n++;
      }
    }
    System.err.printf("recorded %d held-out trajectories (refresh every %d) to %s%n", n,
        predictor.spec().refreshEvery(), record);
  }
}
