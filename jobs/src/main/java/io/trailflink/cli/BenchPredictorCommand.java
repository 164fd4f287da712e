package io.trailflink.cli;

import com.google.gson.JsonObject;
import io.trailflink.predictor.RemainingLength;
import io.trailflink.predictor.TrailPredictor;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code trail bench-predictor}: the cost of one prediction (MLP + smoothing, µs per sample) and of one engine
 * step's predictions (a batch of running requests), on this CPU, single thread. Median of repeated rounds.
 */
@Command(name = "bench-predictor", description = "Prediction cost per sample and per engine step (µs).")
final class BenchPredictorCommand implements Callable<Integer> {
  @Option(names = "--predictor", description = "Predictor directory (default: models/trail-tiny/predictor).") Path dir;
  @Option(names = "--batch", defaultValue = "16", description = "Requests refreshed per engine step.") int batch;
  @Option(names = "--rounds", defaultValue = "15") int rounds;
  @Option(names = "--per-round", defaultValue = "20000", description = "Predictions timed per round.") int perRound;
  @Option(names = "--json") boolean json;

  @Override
  public Integer call() {
    Path d = dir != null ? dir : TrailCli.defaultModel().resolve("predictor");
    int hidden = TrailPredictor.readSpec(d).hidden();
    TrailPredictor p = TrailPredictor.load(d, hidden);
    Random r = new Random(1);
    float[][] x = new float[256][hidden];
    for (float[] row : x) {
      for (int i = 0; i < hidden; i++) {
        row[i] = (float) r.nextGaussian();
      }
    }
    RemainingLength init = p.initial(x[0]);
    double[] perSample = new double[rounds];
    double[] perStep = new double[rounds];
    double sink = 0;
    for (int warm = 0; warm < 10; warm++) { // until C2 has compiled and vectorised the MLP
      sink += round(p, x, init, perRound);
    }
    for (int k = 0; k < rounds; k++) {
      long t0 = System.nanoTime();
      sink += round(p, x, init, perRound);
      perSample[k] = (System.nanoTime() - t0) / 1e3 / perRound;
      int steps = Math.max(1, perRound / batch);
      long t1 = System.nanoTime();
      for (int s = 0; s < steps; s++) {
        sink += round(p, x, init, batch);
      }
      perStep[k] = (System.nanoTime() - t1) / 1e3 / steps;
    }
    Arrays.sort(perSample);
    Arrays.sort(perStep);
    double ms = perSample[rounds / 2];
    double mst = perStep[rounds / 2];
    System.out.printf(Locale.ROOT, "%s: %.2f µs per sample (MLP %d→%d→%d + smoothing), %.1f µs per engine step of %d"
        + " requests; median of %d rounds, single thread%s%n", p.spec().version(), ms, hidden, p.spec().units(),
        p.spec().bins(), mst, batch, rounds, sink == 42 ? " " : "");
    if (json) {
      JsonObject o = new JsonObject();
      o.addProperty("predictor", p.spec().version());
      o.addProperty("us_per_sample", ms);
      o.addProperty("us_per_engine_step", mst);
      o.addProperty("batch", batch);
      System.out.println(o);
    }
    return 0;
  }

  private static double round(TrailPredictor p, float[][] x, RemainingLength init, int n) {
    double acc = 0;
    for (int i = 0; i < n; i++) {
      acc += p.refresh(init, x[i & 255], 1 + (i & 7)).expected();
    }
    return acc;
  }
}
