package io.trailflink.sim.theory;

import io.trailflink.scheduler.policy.TrailPolicy;
import io.trailflink.sim.PredictionModel;
import io.trailflink.sim.SimRequest;
import io.trailflink.sim.SimResult;
import io.trailflink.sim.Simulator;
import io.trailflink.sim.StepTimeModel;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * The simulator run as an M/G/1 queue against {@link LimitedPreemptionTheory}: one request at a time, service time
 * = output length (1 ms per token), Poisson arrivals, exponential sizes (rounded up to whole tokens), a fixed noisy
 * prediction per job ({@code fixed:MAE}). Each (load, C) point: R independent replications give a mean and a 95 %
 * confidence interval (Student t); the closed form is computed on a large sample of the same job distribution.
 */
public final class MG1Check {
  /** One (load, C) point. Times in ms (= tokens of service). */
  public record Row(double load, double c, double theory, double simulated, double ciHalfWidth) {
    public boolean agrees() {
      return Math.abs(theory - simulated) <= ciHalfWidth;
    }
  }

  private final double meanSize; // tokens
  private final double mae; // tokens, prediction error
  private final int jobs; // per replication
  private final int replications;
  private final long seed;

  public MG1Check(double meanSize, double mae, int jobs, int replications, long seed) {
    if (!(meanSize >= 1) || mae < 0 || jobs < 100 || replications < 2) {
      throw new IllegalArgumentException("need mean size >= 1, MAE >= 0, >= 100 jobs, >= 2 replications");
    }
    this.meanSize = meanSize;
    this.mae = mae;
    this.jobs = jobs;
    this.replications = replications;
    this.seed = seed;
  }

  private int size(SplittableRandom rnd) {
    return (int) Math.ceil(-Math.log(1 - rnd.nextDouble()) * meanSize);
  }

  public Row run(double load, double c, Consumer<String> progress) {
    PredictionModel predictions = PredictionModel.parse("fixed:" + mae, seed);
    int maxNew = 1_000_000;
    // the theory's job distribution: a large sample of (size, prediction) pairs
    // Stratified rather than random: sizes at the quantiles (i + ½)/n of their distribution and the prediction
    // noise at its own quantiles, paired by a seeded permutation. A random sample of 200,000 left E[x²] about 1 %
    // off, and since every (load, C) row shares the sample, that error showed as a constant offset in all of them.
    int sample = 200_000;
    double[] xs = new double[sample];
    double[] ys = new double[sample];
    int[] pairing = new int[sample];
    for (int i = 0; i < sample; i++) {
      pairing[i] = i;
    }
    SplittableRandom rnd = new SplittableRandom(seed ^ 0x5DEECE66DL);
    for (int i = sample - 1; i > 0; i--) {
      int j = rnd.nextInt(i + 1);
      int t = pairing[i];
      pairing[i] = pairing[j];
      pairing[j] = t;
    }
    double total = 0;
    for (int i = 0; i < sample; i++) {
      xs[i] = Math.ceil(-Math.log(1 - (i + 0.5) / sample) * meanSize);
      total += xs[i];
      double z = NormalQuantile.of((pairing[i] + 0.5) / sample);
      ys[i] = predictions.initial(new SimRequest("t", 0, 1, (int) xs[i]), new PredictionModel.Noise(z, 0, 0.5), maxNew);
    }
    double lambda = load / (total / sample); // per ms
    double theory = new LimitedPreemptionTheory(xs, ys, lambda, c).meanResponseTime(20_000);
    Simulator sim = new Simulator(new Simulator.Config(1, 100_000_000, 16, maxNew, new StepTimeModel(1, 0, 0),
        predictions, 1));
    double[] means = new double[replications];
    for (int r = 0; r < replications; r++) {
      SplittableRandom arr = new SplittableRandom(seed * 7919 + r);
      List<SimRequest> w = new ArrayList<>(jobs);
      double t = 0;
      for (int i = 0; i < jobs; i++) {
        t += -Math.log(1 - arr.nextDouble()) / lambda;
        w.add(new SimRequest("j" + i, Math.round(t), 1, size(arr)));
      }
      SimResult res = sim.run(new TrailPolicy("trail", c, 0, Integer.MAX_VALUE, false), w, n -> { });
      means[r] = res.meanLatency();
      progress.accept(String.format("load %.1f, C %.1f: replication %d/%d", load, c, r + 1, replications));
    }
    double m = 0;
    for (double v : means) {
      m += v / replications;
    }
    double ss = 0;
    for (double v : means) {
      ss += (v - m) * (v - m);
    }
    double sd = Math.sqrt(ss / (replications - 1));
    double half = tQuantile975(replications - 1) * sd / Math.sqrt(replications);
    return new Row(load, c, theory, m, half);
  }

  /** Student t 97.5 % quantile (two-sided 95 %), tabulated for small degrees of freedom. */
  static double tQuantile975(int df) {
    double[] t = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
        2.045, 2.042};
    return df <= t.length ? t[df - 1] : 1.96 + 2.4 / df;
  }
}
