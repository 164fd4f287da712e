package io.trailflink.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.trailflink.sim.SimResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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
 * @param predictions the prediction source
 * @param forcedLengths whether the trace's lengths were forced
 * @param cappedRanking whether the job ran with --capped-ranking
 * @param byLoad whether settings are loads (else rates)
 * @param sweptVariants whether several quanta or refresh cadences ran (labels and file names then name them)
 */
record BenchReport(String workload, int requests, double[] cs, String predictions, boolean forcedLengths,
    boolean cappedRanking, boolean byLoad, boolean sweptVariants) {

  /**
   * One point of the {@code --decode-steps} × {@code --refresh-every} sweep.
   *
   * @param decodeSteps decode steps per command, the quantum
   * @param refreshEvery tokens between predictor refreshes; 0 = the predictor's own setting
   */
  record Variant(int decodeSteps, int refreshEvery) {
    String label() {
      return "quantum " + decodeSteps + (refreshEvery == 0 ? "" : ", refresh every " + refreshEvery);
    }

    String fileSuffix() {
      return "-q" + decodeSteps + (refreshEvery == 0 ? "" : "-r" + refreshEvery);
    }
  }

  /**
   * One setting's live runs and their simulated twins, by policy label.
   *
   * @param variant the quantum and refresh cadence every run of the setting used
   * @param runs every live run of each policy
   * @param live each policy's run of median mean latency (the one its table row shows)
   */
  record Setting(double rate, double load, Variant variant, Map<String, List<LiveRun>> runs,
      Map<String, LiveRun> live, Map<String, SimResult> sim) {}

  /** Prints one setting's table and returns its figures; {@code fit} names the step-time fit simulated. */
  JsonObject table(Setting s, String fit) {
    System.out.printf(Locale.ROOT, "%n%s — rate %.2f req/s%s, %d requests, C %s, decode steps %d%s, predictions "
        + "%s%s%s; simulated with the %s fit%n", workload, s.rate(), Double.isNaN(s.load()) ? ""
        : String.format(Locale.ROOT, " (load %.2f)", s.load()), requests, Arrays.toString(cs),
        s.variant().decodeSteps(), s.variant().refreshEvery() == 0 ? ""
        : ", refresh every " + s.variant().refreshEvery(), predictions, forcedLengths ? ", forced lengths" : "",
        cappedRanking ? ", capped ranking" : "", fit);
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
      Stats.put(o, "median_hop_ms", r.medianHopMs());
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
    StringBuilder hops = new StringBuilder("median hop from submission to the scheduler (the simulator delays each "
        + "arrival by its own):");
    s.live().forEach((name, r) -> hops.append(Double.isNaN(r.medianHopMs()) ? " " + name + " unknown (no ETA stream)"
        : String.format(Locale.ROOT, " %s %.0f ms", name, r.medianHopMs())));
    System.out.println(hops);
    JsonObject point = new JsonObject();
    Stats.put(point, "rate", s.rate());
    Stats.put(point, "load", s.load());
    point.addProperty("decode_steps", s.variant().decodeSteps());
    point.addProperty("refresh_every", s.variant().refreshEvery());
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

  /**
   * Writes the PNGs: each setting's live latency CDF; FCFS ÷ policy against load (live and simulated), one line per
   * policy and variant; with several C, mean latency and peak KV against C; with several quanta, mean latency and
   * engine busy time against the quantum. Latency against C or the quantum is the mean over the repeats (identical
   * runs differ by more than neighbouring values do); the rest shows each policy's median run.
   */
  void plots(List<Setting> settings, Path plotDir) throws java.io.IOException {
    Files.createDirectories(plotDir);
    for (Setting s : settings) {
      PngChart cdf = new PngChart(String.format(Locale.ROOT, "Live latency CDF, rate %.2f req/s%s", s.rate(),
          sweptVariants ? ", " + s.variant().label() : ""), "latency (s)", "fraction of requests");
      s.live().forEach((name, run) -> cdf.addCdf(name, run.latencyMs()));
      cdf.write(plotDir.resolve(String.format(Locale.ROOT, "live-latency-cdf-rate-%s%s.png", fmt(s.rate()),
          sweptVariants ? s.variant().fileSuffix() : "")));
    }
    ratioAgainstLoad(settings, plotDir);
    if (cs.length > 1) {
      for (Setting s : settings) {
        againstC(s, plotDir);
      }
    }
    againstQuantum(settings, plotDir);
    System.out.println("plots written to " + plotDir);
  }

  /** FCFS ÷ policy against load (or rate), live and simulated, one line per policy and variant. */
  private void ratioAgainstLoad(List<Setting> settings, Path plotDir) throws java.io.IOException {
    Map<String, List<double[]>> live = new LinkedHashMap<>(); // line -> points (x, ratio)
    Map<String, List<double[]>> sim = new LinkedHashMap<>();
    for (Setting s : settings) {
      double x = byLoad ? s.load() : s.rate();
      LiveRun fcfs = s.live().get("fcfs");
      SimResult simFcfs = s.sim().get("fcfs");
      String suffix = sweptVariants ? " (" + s.variant().label() + ")" : "";
      for (Map.Entry<String, LiveRun> e : s.live().entrySet()) {
        if (fcfs != null) {
          live.computeIfAbsent(e.getKey() + suffix, k -> new ArrayList<>())
              .add(new double[] {x, Stats.mean(fcfs.latencyMs()) / Stats.mean(e.getValue().latencyMs())});
        }
        SimResult r = s.sim().get(e.getKey());
        if (simFcfs != null && r != null) {
          sim.computeIfAbsent(e.getKey() + suffix, k -> new ArrayList<>())
              .add(new double[] {x, simFcfs.meanLatency() / r.meanLatency()});
        }
      }
    }
    if (live.values().stream().noneMatch(l -> l.size() > 1)) {
      return; // one load: no line to draw
    }
    PngChart ratio = new PngChart("Mean latency, FCFS ÷ policy: live and simulated",
        byLoad ? "load (× capacity)" : "arrival rate (req/s)", "ratio (higher is better)").xTicksAtData();
    live.forEach((name, pts) -> ratio.add(name + " live", column(pts, 0), column(pts, 1)));
    sim.forEach((name, pts) -> ratio.add(name + " sim", column(pts, 0), column(pts, 1)));
    ratio.write(plotDir.resolve("ratio-vs-load.png"));
  }

  /** Mean latency and peak KV blocks against C for TRAIL and the oracle (the memory-versus-C trade-off). */
  private void againstC(Setting s, Path plotDir) throws java.io.IOException {
    String where = String.format(Locale.ROOT, "rate %.2f req/s%s", s.rate(),
        sweptVariants ? ", " + s.variant().label() : "");
    PngChart latency = new PngChart("Mean latency against C, " + where, "C (preemption limit)", "mean latency (s)")
        .xTicksAtData();
    PngChart kv = new PngChart("Peak KV blocks against C, " + where, "C (preemption limit)", "peak KV blocks")
        .xTicksAtData();
    for (String policy : List.of("trail", "oracle")) {
      double[] lat = new double[cs.length];
      double[] simLat = new double[cs.length];
      double[] peak = new double[cs.length];
      double[] simPeak = new double[cs.length];
      boolean any = false;
      for (int i = 0; i < cs.length; i++) {
        LiveRun r = s.live().get(policy + ":" + fmt(cs[i]));
        SimResult sr = s.sim().get(policy + ":" + fmt(cs[i]));
        lat[i] = meanOverRuns(s, policy + ":" + fmt(cs[i])) / 1000;
        peak[i] = r == null ? Double.NaN : r.peakKvBlocks();
        simLat[i] = sr == null ? Double.NaN : sr.meanLatency() / 1000;
        simPeak[i] = sr == null ? Double.NaN : sr.peakKvBlocks();
        any |= r != null;
      }
      if (any) {
        latency.add(policy + " live", cs, lat).add(policy + " sim (median run)", cs, simLat);
        kv.add(policy + " live", cs, peak).add(policy + " sim (median run)", cs, simPeak);
      }
    }
    if (s.runs().containsKey("fcfs")) { // C does not apply: a flat reference
      double[] flat = new double[cs.length];
      Arrays.fill(flat, meanOverRuns(s, "fcfs") / 1000);
      latency.add("fcfs live", cs, flat);
    }
    String file = fmt(s.rate()) + (sweptVariants ? s.variant().fileSuffix() : "") + ".png";
    latency.write(plotDir.resolve("latency-vs-c-rate-" + file));
    kv.write(plotDir.resolve("peak-kv-vs-c-rate-" + file));
  }

  /**
   * With several quanta: per rate and refresh cadence, each policy's live mean latency and engine busy fraction
   * against the quantum (what deciding more often buys, and what it costs).
   */
  private void againstQuantum(List<Setting> settings, Path plotDir) throws java.io.IOException {
    Map<String, List<Setting>> groups = new LinkedHashMap<>(); // rate and refresh cadence -> settings by quantum
    for (Setting s : settings) {
      groups.computeIfAbsent(fmt(s.rate()) + (s.variant().refreshEvery() == 0 ? ""
          : "-r" + s.variant().refreshEvery()), k -> new ArrayList<>()).add(s);
    }
    for (Map.Entry<String, List<Setting>> g : groups.entrySet()) {
      List<Setting> byQuantum = g.getValue();
      if (byQuantum.stream().map(x -> x.variant().decodeSteps()).distinct().count() < 2) {
        continue;
      }
      byQuantum.sort(java.util.Comparator.comparingInt(x -> x.variant().decodeSteps()));
      double[] xs = byQuantum.stream().mapToDouble(x -> x.variant().decodeSteps()).toArray();
      String where = String.format(Locale.ROOT, "rate %.2f req/s", byQuantum.get(0).rate());
      PngChart latency = new PngChart("Mean latency against the quantum, " + where, "decode steps per command",
          "mean latency (s)").xTicksAtData();
      PngChart busy = new PngChart("Engine busy fraction against the quantum, " + where,
          "decode steps per command", "engine busy fraction").xTicksAtData();
      for (String policy : byQuantum.get(0).live().keySet()) {
        double[] lat = new double[xs.length];
        double[] b = new double[xs.length];
        for (int i = 0; i < xs.length; i++) {
          LiveRun r = byQuantum.get(i).live().get(policy);
          lat[i] = meanOverRuns(byQuantum.get(i), policy) / 1000;
          b[i] = r == null ? Double.NaN : r.busyFraction();
        }
        latency.add(policy + " live", xs, lat);
        busy.add(policy + " live", xs, b);
      }
      latency.write(plotDir.resolve("latency-vs-quantum-rate-" + g.getKey() + ".png"));
      busy.write(plotDir.resolve("busy-vs-quantum-rate-" + g.getKey() + ".png"));
    }
  }

  /** A policy's mean latency (ms) averaged over its repeats in a setting; NaN where it did not run. */
  private static double meanOverRuns(Setting s, String policy) {
    List<LiveRun> runs = s.runs().get(policy);
    return runs == null ? Double.NaN : runs.stream().mapToDouble(r -> Stats.mean(r.latencyMs())).average()
        .orElse(Double.NaN);
  }

  private static double[] column(List<double[]> points, int i) {
    return points.stream().mapToDouble(p -> p[i]).toArray();
  }

  private static String fmt(double v) {
    return v == Math.rint(v) ? String.valueOf((long) v) : String.format(Locale.ROOT, "%.2f", v);
  }
}
