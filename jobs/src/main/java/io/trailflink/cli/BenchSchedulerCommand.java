package io.trailflink.cli;

import com.google.gson.JsonObject;
import io.trailflink.scheduler.Request;
import io.trailflink.scheduler.Scheduler;
import io.trailflink.scheduler.SchedulerConfig;
import io.trailflink.scheduler.policy.Policies;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code trail bench-scheduler}: cost of one scheduling round with a full batch and N requests waiting, under
 * churn (each round one request finishes, one arrives, every running request gains a token and a fresh
 * prediction). Reports rounds per second and the per-round cost at each N, so its growth with N can be read off.
 */
@Command(name = "bench-scheduler", description = "Scheduling decisions per second versus the number waiting.")
final class BenchSchedulerCommand implements Callable<Integer> {
  @Option(names = "--waiting", split = ",", defaultValue = "1000,100000") int[] waiting;
  @Option(names = "--rounds", defaultValue = "200000") int rounds;
  @Option(names = "--policy", defaultValue = "trail") String policy;
  @Option(names = "--max-running", defaultValue = "48") int maxRunning;
  @Option(names = "--json", description = "Print one JSON object as the last line.") boolean json;

  @Override
  public Integer call() {
    JsonObject out = new JsonObject();
    double first = Double.NaN;
    for (int n : waiting) {
      double[] perRound = new double[3];
      double[] cycle = new double[3];
      double recordsPerRound = 0;
      for (int rep = 0; rep < 3; rep++) {
        double[] r = measure(n);
        perRound[rep] = r[0];
        cycle[rep] = r[1];
        recordsPerRound = r[2];
      }
      Arrays.sort(perRound);
      Arrays.sort(cycle);
      JsonObject o = new JsonObject();
      o.addProperty("schedule_ns_per_round", perRound[1]);
      o.addProperty("decisions_per_s", 1e9 / perRound[1]);
      o.addProperty("round_with_updates_ns", cycle[1]);
      o.addProperty("decision_records_per_round", recordsPerRound);
      out.add(String.valueOf(n), o);
      if (Double.isNaN(first)) {
        first = perRound[1];
      }
      if (!json) {
        System.out.printf(Locale.ROOT, "%,8d waiting: %7.2f µs per scheduling round (%,.0f decisions/s, %.2f "
            + "admit/preempt records per round); %.2f µs per round with %d token updates and predictions%n", n,
            perRound[1] / 1000, 1e9 / perRound[1], recordsPerRound, cycle[1] / 1000, maxRunning);
      }
    }
    out.addProperty("cost_ratio_last_over_first", perRoundOf(out, waiting[waiting.length - 1]) / first);
    if (json) {
      System.out.println(out);
    } else {
      System.out.printf(Locale.ROOT, "cost ratio %,d vs %,d waiting: %.2f× (log ratio %.2f×)%n",
          waiting[waiting.length - 1], waiting[0], perRoundOf(out, waiting[waiting.length - 1]) / first,
          Math.log(waiting[waiting.length - 1]) / Math.log(waiting[0]));
    }
    return 0;
  }

  private static double perRoundOf(JsonObject out, int n) {
    return out.getAsJsonObject(String.valueOf(n)).get("schedule_ns_per_round").getAsDouble();
  }

  /** Returns {mean ns per schedule() call, mean ns per full round, decision records per round}. */
  private double[] measure(int n) {
    SplittableRandom rnd = new SplittableRandom(n);
    Scheduler s = new Scheduler(Policies.parse(policy, 0.8), new SchedulerConfig(maxRunning, 100_000_000, 16, 1));
    long order = 0;
    long now = 0;
    for (int i = 0; i < n + maxRunning; i++) {
      String id = "r" + order;
      s.submit(new Request(id, now, order++, 1 + rnd.nextInt(200), 512, -1), now);
      s.predict(id, 1 + rnd.nextInt(511));
    }
    s.schedule(now);
    long schedNanos = 0;
    long records = 0;
    long t0 = System.nanoTime();
    for (int round = 0; round < rounds; round++) {
      now++;
      Request done = s.runningRequests().get(0);
      s.finish(done.id());
      String id = "r" + order;
      s.submit(new Request(id, now, order++, 1 + rnd.nextInt(200), 512, -1), now);
      s.predict(id, 1 + rnd.nextInt(511));
      for (Request r : s.runningRequests()) {
        s.progress(r.id(), 1);
        s.predict(r.id(), Math.max(0, r.remainingEstimate() - 1)); // counts down, as between refreshes
      }
      long a = System.nanoTime();
      records += s.schedule(now).size();
      schedNanos += System.nanoTime() - a;
    }
    double total = System.nanoTime() - t0;
    return new double[] {(double) schedNanos / rounds, total / rounds, (double) records / rounds};
  }
}
