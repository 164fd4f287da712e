package io.trailflink.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.trailflink.sim.theory.MG1Check;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code trail theory-check}: closed-form M/G/1 response time of limited-preemption SPRPT vs the simulator. */
@Command(name = "theory-check", description = "Compare the M/G/1 closed form of TRAIL's policy with the simulator.")
final class TheoryCheckCommand implements Callable<Integer> {
  private static final ProgressLine PROGRESS = new ProgressLine();

  @Option(names = "--loads", split = ",", defaultValue = "0.5,0.7,0.9") double[] loads;
  @Option(names = "--cs", split = ",", defaultValue = "0,0.5,0.8,1") double[] cs;
  @Option(names = "--mean-size", defaultValue = "50", description = "Mean job size, tokens (exponential).") double meanSize;
  @Option(names = "--mae", defaultValue = "20", description = "Prediction MAE, tokens (fixed noisy prediction).") double mae;
  @Option(names = "--jobs", defaultValue = "20000", description = "Jobs per replication.") int jobs;
  @Option(names = "--reps", defaultValue = "10", description = "Independent replications per point.") int reps;
  @Option(names = "--seed", defaultValue = "1") long seed;
  @Option(names = "--json", description = "Print one JSON object as the last line.") boolean json;

  @Override
  public Integer call() {
    MG1Check check = new MG1Check(meanSize, mae, jobs, reps, seed);
    JsonArray rows = new JsonArray();
    if (!json) {
      System.out.printf("M/G/1, exponential sizes (mean %.0f tokens = ms), fixed predictions with MAE %.0f tokens, "
          + "%d replications × %d jobs%n", meanSize, mae, reps, jobs);
      System.out.printf("%6s %5s %14s %22s %8s%n", "load", "C", "theory (ms)", "simulated ± 95% CI", "agrees");
    }
    int agree = 0;
    for (double load : loads) {
      for (double c : cs) {
        MG1Check.Row r = check.run(load, c, m -> {
          if (!json) {
            PROGRESS.show(String.valueOf(m));
          }
        });
        agree += r.agrees() ? 1 : 0;
        JsonObject o = new JsonObject();
        o.addProperty("load", load);
        o.addProperty("c", c);
        o.addProperty("theory_ms", r.theory());
        o.addProperty("simulated_ms", r.simulated());
        o.addProperty("ci95_half_width_ms", r.ciHalfWidth());
        o.addProperty("agrees", r.agrees());
        rows.add(o);
        if (!json) {
          PROGRESS.end();
          System.out.printf(Locale.ROOT, "%6.1f %5.1f %14.2f %13.2f ± %6.2f %8s%n", load, c, r.theory(), r.simulated(),
              r.ciHalfWidth(), r.agrees() ? "yes" : "NO");
        }
      }
    }
    JsonObject out = new JsonObject();
    out.add("rows", rows);
    out.addProperty("agreeing", agree);
    out.addProperty("points", rows.size());
    if (json) {
      System.out.println(out);
    } else {
      System.out.printf("%d of %d points within the simulator's 95%% confidence interval%n", agree, rows.size());
    }
    return 0;
  }
}
