package io.trailflink.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.trailflink.sim.SimResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What {@code trail bench} prints and draws: per setting a table of every policy's live figures beside its
 * simulated twin (and the same as JSON), and PNG plots — each setting's live latency CDF, and FCFS ÷ policy
 * against load, live and simulated.
 *
 * @param workload the workload's file name
 * @param requests requests per run
 * @param cs the preemption limits swept
 * @param decodeSteps the job's quantum
 * @param predictions the prediction source
 * @param forcedLengths whether the trace's lengths were forced
 * @param cappedRanking whether the job ran with --capped-ranking
 * @param byLoad whether settings are loads (else rates)
 */
record BenchReport(String workload, int requests, double[] cs, int decodeSteps, String predictions,
    boolean forcedLengths, boolean cappedRanking, boolean byLoad) {

  /**
   * One setting's live runs and their simulated twins, by policy label.
   *
   * @param runs every live run of each policy
   * @param live each policy's run of median mean latency (the one its table row shows)
   */
  record Setting(double rate, double load, Map<String, List<LiveRun>> runs, Map<String, LiveRun> live,
      Map<String, SimResult> sim) {}

  /** Prints one setting's table and returns its figures; {@code fit} names the step-time fit simulated. */
  JsonObject table(Setting s, String fit) {
    System.out.printf(Locale.ROOT, "%n%s — rate %.2f req/s%s, %d requests, C %s, decode steps %d, predictions %s%s%s; simulated with the %s fit%n",
        workload, s.rate(), Double.isNaN(s.load()) ? "" : String.format(Locale.ROOT, " (load %.2f)",
            s.load()), requests, Arrays.toString(cs), decodeSteps, predictions,
        forcedLengths ? ", forced lengths" : "", cappedRanking ? ", capped ranking" : "", fit);
    System.out.printf("%-11s %8s %8s %8s %8s %7s | %8s %8s %8s %7s | %7s %7s %6s %7s %5s %6s | %6s %6s%n",
        "policy", "lat mean", "lat p50", "lat p99", "sim mean", "err", "ttft", "ttft p50", "sim ttft", "err",
        "tok/s", "preempt", "evict", "peak KV", "busy", "probe", "×fcfs", "×oracle");
    LiveRun fcfs = s.live().get("fcfs");
    JsonObject policiesJson = new JsonObject();
    for (Map.Entry<String, LiveRun> e : s.live().entrySet()) {
      LiveRun r = e.getValue();
      SimResult sim = s.sim().get(e.getKey());
      double[] lat = r.latencyMs();
      double[] ttft = r.ttftMs();
      double mean = Stats.mean(lat);
      double ttftMean = Stats.mean(ttft);
      LiveRun oracle = oracleOf(s, e.getKey());
      double vsFcfs = fcfs == null ? Double.NaN : Stats.mean(fcfs.latencyMs()) / mean;
      double vsOracle = oracle == null ? Double.NaN : Stats.mean(oracle.latencyMs()) / mean;
      double simErr = sim == null ? Double.NaN : sim.meanLatency() / mean - 1;
      double simTtftErr = sim == null ? Double.NaN : sim.meanTtft() / ttftMean - 1;
      double probeShare = r.probeTimeFraction();
      double[] means = s.runs().get(e.getKey()).stream().mapToDouble(x -> Stats.mean(x.latencyMs())).toArray();
      String spread = means.length < 2 ? "" : String.format(Locale.ROOT, "  (%d runs: %.2f–%.2f s)", means.length,
          Arrays.stream(means).min().orElse(0) / 1000, Arrays.stream(means).max().orElse(0) / 1000);
      System.out.printf(Locale.ROOT, "%-11s %7.2fs %7.2fs %7.2fs %7.2fs %6.1f%% | %7.2fs %7.2fs %7.2fs %6.1f%% | "
          + "%7.0f %7d %6d %7d %4.0f%% %5.1f%% | %6s %6s%s%n", e.getKey(), mean / 1000,
          Stats.percentile(lat, 50) / 1000, Stats.percentile(lat, 99) / 1000,
          sim == null ? Double.NaN : sim.meanLatency() / 1000, 100 * simErr, ttftMean / 1000,
          Stats.percentile(ttft, 50) / 1000, sim == null ? Double.NaN : sim.meanTtft() / 1000, 100 * simTtftErr,
          r.tokensPerSecond(), r.preemptions(), r.evictions(), r.peakKvBlocks(), 100 * r.busyFraction(),
          100 * probeShare, ratio(vsFcfs), ratio(vsOracle), spread);
      JsonObject o = new JsonObject();
      JsonArray meansJson = new JsonArray();
      Arrays.stream(means).forEach(meansJson::add);
      o.add("mean_latency_ms_of_each_run", meansJson);
      o.addProperty("completed", r.finals().size());
      o.addProperty("failed", r.failed());
      Stats.put(o, "mean_latency_ms", mean);
      Stats.put(o, "median_latency_ms", Stats.percentile(lat, 50));
      Stats.put(o, "p99_latency_ms", Stats.percentile(lat, 99));
      Stats.put(o, "mean_ttft_ms", ttftMean);
      Stats.put(o, "median_ttft_ms", Stats.percentile(ttft, 50));
      Stats.put(o, "tokens_per_s", r.tokensPerSecond());
      o.addProperty("preemptions", r.preemptions());
      o.addProperty("evictions", r.evictions());
      o.addProperty("peak_kv_blocks", r.peakKvBlocks());
      Stats.put(o, "engine_busy_fraction", r.busyFraction());
      Stats.put(o, "probe_time_fraction", probeShare);
      Stats.put(o, "engine_cpu_over_busy", r.cpuOverBusy());
      Stats.put(o, "slots_lost_in_quantum", r.slotsLostInQuantum());
      Stats.put(o, "mean_batch", r.meanBatch());
      Stats.put(o, "mean_latency_ratio_fcfs_over_policy", vsFcfs);
      Stats.put(o, "mean_latency_ratio_oracle_over_policy", vsOracle);
      if (sim != null) {
        Stats.put(o, "sim_mean_latency_ms", sim.meanLatency());
        Stats.put(o, "sim_median_latency_ms", SimResult.percentile(sim.latencyMs(), 50));
        Stats.put(o, "sim_p99_latency_ms", SimResult.percentile(sim.latencyMs(), 99));
        Stats.put(o, "sim_mean_ttft_ms", sim.meanTtft());
        Stats.put(o, "sim_error_mean_latency", simErr);
        Stats.put(o, "sim_error_mean_ttft", simTtftErr);
        o.addProperty("sim_preemptions", sim.preemptions());
      }
      policiesJson.add(e.getKey(), o);
    }
    StringBuilder lost = new StringBuilder("decode slots left empty inside a quantum by finished requests:");
    s.live().forEach((name, r) -> lost.append(String.format(Locale.ROOT, " %s %.1f %% (mean batch %.1f)", name,
        100 * r.slotsLostInQuantum(), r.meanBatch())));
    System.out.println(lost);
    JsonObject point = new JsonObject();
    Stats.put(point, "rate", s.rate());
    Stats.put(point, "load", s.load());
    point.add("policies", policiesJson);
    return point;
  }

  /** A ratio as the table shows it: "–" where there is nothing to compare with (no FCFS or oracle run). */
  private static String ratio(double r) {
    return Double.isNaN(r) ? "–" : String.format(Locale.ROOT, "%.2f×", r);
  }

  /** The oracle run to compare a policy with: the same C for TRAIL, the first oracle otherwise. */
  private static LiveRun oracleOf(Setting s, String policy) {
    if (policy.startsWith("trail:")) {
      return s.live().get("oracle:" + policy.substring(6));
    }
    return s.live().entrySet().stream().filter(e -> e.getKey().startsWith("oracle")).map(Map.Entry::getValue)
        .findFirst().orElse(null);
  }

  void plots(List<Setting> settings, Path plotDir) throws java.io.IOException {
    Files.createDirectories(plotDir);
    Map<String, double[]> liveRatio = new LinkedHashMap<>();
    Map<String, double[]> simRatio = new LinkedHashMap<>();
    double[] xs = new double[settings.size()];
    for (int si = 0; si < settings.size(); si++) {
      Setting s = settings.get(si);
      xs[si] = byLoad ? s.load() : s.rate();
      PngChart cdf = new PngChart(String.format(Locale.ROOT, "Live latency CDF, rate %.2f req/s", s.rate()),
          "latency (s)", "fraction of requests");
      LiveRun fcfs = s.live().get("fcfs");
      SimResult simFcfs = s.sim().get("fcfs");
      for (Map.Entry<String, LiveRun> e : s.live().entrySet()) {
        cdf.addCdf(e.getKey(), e.getValue().latencyMs());
        if (fcfs != null) {
          liveRatio.computeIfAbsent(e.getKey(), k -> new double[settings.size()])[si] =
              Stats.mean(fcfs.latencyMs()) / Stats.mean(e.getValue().latencyMs());
        }
        SimResult sim = s.sim().get(e.getKey());
        if (simFcfs != null && sim != null) {
          simRatio.computeIfAbsent(e.getKey(), k -> new double[settings.size()])[si] =
              simFcfs.meanLatency() / sim.meanLatency();
        }
      }
      cdf.write(plotDir.resolve(String.format(Locale.ROOT, "live-latency-cdf-rate-%s.png", fmt(s.rate()))));
    }
    if (settings.size() > 1 && !liveRatio.isEmpty()) {
      PngChart ratio = new PngChart("Mean latency, FCFS ÷ policy: live and simulated",
          byLoad ? "load (× capacity)" : "arrival rate (req/s)", "ratio (higher is better)");
      liveRatio.forEach((name, ys) -> ratio.add(name + " live", xs, ys));
      simRatio.forEach((name, ys) -> ratio.add(name + " sim", xs, ys));
      ratio.write(plotDir.resolve("ratio-vs-load.png"));
    }
    System.out.println("plots written to " + plotDir);
  }

  private static String fmt(double v) {
    return v == Math.rint(v) ? String.valueOf((long) v) : String.format(Locale.ROOT, "%.2f", v);
  }
}
