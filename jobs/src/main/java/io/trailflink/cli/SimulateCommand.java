package io.trailflink.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.trailflink.scheduler.Policy;
import io.trailflink.scheduler.policy.FcfsPolicy;
import io.trailflink.scheduler.policy.Policies;
import io.trailflink.sim.Capacity;
import io.trailflink.sim.PredictionModel;
import io.trailflink.sim.SimRequest;
import io.trailflink.sim.SimResult;
import io.trailflink.sim.Simulator;
import io.trailflink.sim.StepTimeModel;
import io.trailflink.sim.Workloads;
import java.nio.file.Files;
import java.nio.file.Path;
import io.trailflink.scheduler.placement.Placement;
import io.trailflink.scheduler.placement.Placements;
import io.trailflink.scheduler.placement.Rebalance;
import io.trailflink.scheduler.TenantShares;
import io.trailflink.scheduler.TenantWeights;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.TreeSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code trail simulate}: every policy on the identical arrival sequence, through the same scheduling library the
 * Flink operator uses, with a step-time model for the engine.
 */
@Command(name = "simulate", description = "Simulate scheduling policies on a workload (same scheduler as the job).")
final class SimulateCommand implements Callable<Integer> {
  /** Roofline estimate for Llama-3-8B (bf16) on one A100-80GB; see docs/benchmarks.md for the derivation. */
  static final String A100_LLAMA3_8B = "10,0.12,0.1";

  @Option(names = "--workload", required = true, description = "JSONL {prompt, out_tokens} or Azure trace CSV.") Path workload;
  @Option(names = "--rate", split = ",", description = "Poisson arrival rate(s), requests/s; several make a sweep.") double[] rates;
  @Option(names = "--load", split = ",", description = "Poisson arrivals at these fractions of the engines' capacity "
      + "(one engine saturated by a burst in the simulator, times --engines); several make a sweep.") double[] loads;
  @Option(names = "--burst", description = "All requests arrive at time 0.") boolean burst;
  @Option(names = "--trace-times", description = "Arrivals from the CSV's timestamps.") boolean traceTimes;
  @Option(names = "--time-scale", defaultValue = "1", description = "Trace replay speed-up (with --trace-times).") double timeScale;
  @Option(names = "--policies", defaultValue = "fcfs,sjf,trail,oracle", split = ",", description = "Among: " + Policies.KNOWN) List<String> policies;
  @Option(names = "--engines", defaultValue = "1", description = "Engines, each its own scheduler and KV budget (default ${DEFAULT-VALUE}).") int engines;
  @Option(names = "--placement", defaultValue = "hash", split = ",", description = "How arrivals are placed on engines; "
      + "several compare on the same arrivals. Among: " + Placements.KNOWN) List<String> placementNames;
  @Option(names = "--rebalance", defaultValue = "0", split = ",", description = "Move a waiting request that has not "
      + "started to a quieter engine when two engines' queues (live requests not running) differ by more than N "
      + "(0 = never, the default); several compare on the same arrivals.") List<Integer> rebalanceThresholds;
  @Option(names = "--decode-steps", defaultValue = "1", description = "Iterations per scheduling round (the job's --decode-steps; default ${DEFAULT-VALUE}, the paper's every token).") int decodeSteps;
  @Option(names = "--tenants", description = "Owners of the arrivals, NAME:SHARE,...: each request goes to a tenant "
      + "at random in proportion to its share (of the arrival rate).") String tenants;
  @Option(names = "--without-tenant", description = "Drop this tenant's requests after the arrivals are drawn (the "
      + "others keep their arrival times): the baseline a noisy tenant is compared with.") String withoutTenant;
  @Option(names = "--fairness", defaultValue = "none", split = ",", description = "none (TRAIL's order across tenants) "
      + "or tenant (weighted fair shares of decode tokens across tenants, TRAIL's order within each); both compare.") List<String> fairness;
  @Option(names = "--tenant-weights", description = "NAME:WEIGHT,... for --fairness tenant (others get --default-tenant-weight).") String tenantWeights;
  @Option(names = "--tenant-weights-file", description = "A file of NAME = WEIGHT lines for --fairness tenant.") Path tenantWeightsFile;
  @Option(names = "--default-tenant-weight", defaultValue = "1", description = "Weight of a tenant without one (default ${DEFAULT-VALUE}).") double defaultTenantWeight;
  @Option(names = "--starvation-bound", defaultValue = "0", description = "A queued request waits at most this multiple "
      + "of its predicted service time before it goes first (0 = off, the default).") double starvationBound;
  @Option(names = "--c", defaultValue = "0.8", description = "TRAIL's preemption limit C (default ${DEFAULT-VALUE}).") double c;
  @Option(names = "--max-running", defaultValue = "48") int maxRunning;
  @Option(names = "--kv-blocks", defaultValue = "29000", description = "KV capacity in blocks (default: Llama-3-8B on an A100-80GB, ~464k tokens).") int kvBlocks;
  @Option(names = "--block-size", defaultValue = "16") int blockSize;
  @Option(names = "--max-new-tokens", defaultValue = "512") int maxNewTokens;
  @Option(names = "--predictions", defaultValue = "oracle", description = "oracle, noisy:MAE_INITIAL,MAE_REFINED, fixed:MAE or recorded:FILE (from eval-predictor --record)") String predictions;
  @Option(names = "--refresh-every", defaultValue = "1", description = "Tokens between prediction refreshes.") int refreshEvery;
  @Option(names = "--step-model", defaultValue = A100_LLAMA3_8B, description = "FIXED_MS,PER_SEQ_MS,PER_PREFILL_TOKEN_MS (default ${DEFAULT-VALUE}).") String stepModel;
  @Option(names = "--limit", defaultValue = "0", description = "Use only the first N requests (0 = all).") int limit;
  @Option(names = "--resample", defaultValue = "0", description = "Draw N requests with replacement from the "
      + "workload (seeded; 0 = use it as it is).") int resample;
  @Option(names = "--strict", description = "Reject the workload at its first malformed line (default: skip and count).") boolean strict;
  @Option(names = "--seed", defaultValue = "1") long seed;
  @Option(names = "--plot", description = "Write PNG plots into this folder.") Path plotDir;
  @Option(names = "--json", description = "Print one JSON object as the last line.") boolean json;

  @Override
  public Integer call() throws Exception {
    int modes = (rates != null ? 1 : 0) + (loads != null ? 1 : 0) + (burst ? 1 : 0) + (traceTimes ? 1 : 0);
    if (modes != 1) {
      throw new IllegalArgumentException("choose exactly one of --rate, --load, --burst, --trace-times");
    }
    if (engines < 1) {
      throw new IllegalArgumentException("--engines must be >= 1, got " + engines);
    }
    if (!(starvationBound >= 0) || Double.isInfinite(starvationBound)) {
      throw new IllegalArgumentException("--starvation-bound must be >= 0 (0 = off), got " + starvationBound);
    }
    if (decodeSteps < 1) {
      throw new IllegalArgumentException("--decode-steps must be >= 1, got " + decodeSteps);
    }
    if (loads != null && Arrays.stream(loads).anyMatch(l -> !(l > 0) || Double.isInfinite(l))) {
      throw new IllegalArgumentException("--load must be > 0, got " + Arrays.toString(loads));
    }
    if (!fairness.contains("tenant") && (tenantWeights != null || tenantWeightsFile != null)) {
      throw new IllegalArgumentException("--tenant-weights and --tenant-weights-file need --fairness tenant");
    }
    List<TenantShares> shareModes = new ArrayList<>();
    for (String f : fairness) {
      shareModes.add(switch (f.strip()) {
        case "none" -> null;
        case "tenant" -> tenantShares();
        default -> throw new IllegalArgumentException("--fairness: unknown value '" + f + "' (known: none, tenant)");
      });
    }
    Map<String, Double> tenantShares = tenants == null ? null : parseTenants("--tenants", tenants);
    if (withoutTenant != null && (tenantShares == null || !tenantShares.containsKey(withoutTenant))) {
      throw new IllegalArgumentException("--without-tenant " + withoutTenant + ": not one of --tenants");
    }
    List<Placement> placements;
    try {
      placements = placementNames.stream().map(Placements::parse).toList();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--placement: " + e.getMessage());
    }
    if (rebalanceThresholds.stream().anyMatch(t -> t < 0)) {
      throw new IllegalArgumentException("--rebalance must be >= 0 (0 = never), got " + rebalanceThresholds);
    }
    if (c < 0) {
      throw new IllegalArgumentException("--c must be >= 0, got " + c);
    }
    if (!Files.isRegularFile(workload)) {
      throw new IllegalArgumentException("--workload " + workload + ": no such file");
    }
    List<Policy> ps;
    try {
      ps = policies.stream().map(p -> Policies.parse(p, c)).toList();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--policies: " + e.getMessage());
    }
    int[] bad = {0};
    boolean csv = workload.toString().endsWith(".csv");
    if (traceTimes && !csv) {
      throw new IllegalArgumentException("--trace-times needs an Azure trace CSV workload");
    }
    List<SimRequest> base = csv
        ? Workloads.readAzureCsv(workload, timeScale, strict, m -> reportBad(m, bad))
        : Workloads.readJsonl(workload, strict, m -> reportBad(m, bad));
    if (bad[0] > 0) {
      System.err.printf("%s: %d malformed line(s) skipped%n", workload, bad[0]);
    }
    if (limit > 0 && base.size() > limit) {
      base = base.subList(0, limit);
    }
    if (resample < 0) {
      throw new IllegalArgumentException("--resample must be >= 0, got " + resample);
    }
    if (resample > 0) {
      base = Workloads.resample(base, resample, seed);
    }
    int peak = (base.stream().mapToInt(SimRequest::promptTokens).max().orElse(1) + maxNewTokens + blockSize - 1)
        / blockSize;
    if (kvBlocks < 1 || peak > kvBlocks && base.stream().allMatch(r -> (r.promptTokens() + maxNewTokens + blockSize - 1) / blockSize > kvBlocks)) {
      throw new IllegalArgumentException("--kv-blocks " + kvBlocks + " cannot hold even one request");
    }
    PredictionModel predictionModel = PredictionModel.parse(predictions, seed);
    predictionModel.coverage(base.stream().map(r -> Math.min(r.outputTokens(), maxNewTokens)).toList(), 64)
        .forEach(System.err::println);
    StepTimeModel steps = StepTimeModel.parse(stepModel);
    Simulator sim = new Simulator(new Simulator.Config(maxRunning, kvBlocks, blockSize, maxNewTokens, steps,
        predictionModel, refreshEvery, decodeSteps, 1));
    if (loads != null) {
      Capacity cap = Capacity.estimate(base, maxNewTokens, maxRunning, (long) kvBlocks * blockSize, blockSize, steps,
          engines);
      double measured = Capacity.measuredRequestsPerSecond(sim, new FcfsPolicy(), base, engines);
      if (!(measured > 0)) {
        throw new IllegalArgumentException("--load: no request of the workload completes on one engine of these "
            + "limits, so there is no capacity to take a fraction of");
      }
      System.err.println(cap);
      System.err.printf(Locale.ROOT, "capacity measured: %.1f req/s (one engine saturated by a burst, FCFS, × %d); "
          + "--load is a fraction of it%n", measured, engines);
      rates = Arrays.stream(loads).map(l -> l * measured).toArray();
    }
    double[] sweep = rates != null ? rates : new double[] {Double.NaN};
    double[] xs = loads != null ? loads : sweep;
    JsonObject out = new JsonObject();
    JsonArray sweepJson = new JsonArray();
    Map<String, double[]> latencyRatio = new LinkedHashMap<>();
    Map<String, double[]> p99Ttft = new LinkedHashMap<>();
    for (int ri = 0; ri < sweep.length; ri++) {
      double rate = sweep[ri];
      List<SimRequest> arrivals = rates != null ? Workloads.poisson(base, rate, seed) : burst ? Workloads.burst(base) : base;
      if (tenantShares != null) {
        arrivals = Workloads.assignTenants(arrivals, tenantShares, seed);
      }
      if (withoutTenant != null) {
        arrivals = arrivals.stream().filter(r -> !r.tenant().equals(withoutTenant)).toList();
      }
      String label = loads != null ? String.format(Locale.ROOT, "load %.2f (%.1f req/s)", loads[ri], rate)
          : rates != null ? String.format(Locale.ROOT, "rate %.1f req/s", rate) : burst ? "burst" : "trace times";
      Map<String, SimResult> results = new LinkedHashMap<>();
      Map<String, String> fcfsTwin = new HashMap<>(); // a result's name -> FCFS's under the same cluster
      for (Policy p : ps) {
        for (Placement placement : placements) {
          for (int threshold : rebalanceThresholds) {
            for (TenantShares shares : shareModes) {
              Simulator.Cluster cluster = new Simulator.Cluster(engines, placement, shares, starvationBound,
                  new Rebalance(threshold));
              String name = (placements.size() > 1 || rebalanceThresholds.size() > 1
                  ? p.name() + "/" + cluster.placementLabel() : p.name()) + (shares != null ? "+fair" : "");
              int total = arrivals.size();
              long t0 = System.nanoTime();
              ProgressLine line = new ProgressLine();
              SimResult r = sim.run(p, cluster, arrivals, done -> {
                if (!json && done % 500 == 0 && done < total) {
                  line.show(String.format(Locale.ROOT, "%s, %s: %d/%d requests", label, name, done, total));
                }
              });
              if (!json) {
                line.done(String.format(Locale.ROOT, "%s, %s: %d requests  (%.1f s)", label, name, total,
                    (System.nanoTime() - t0) / 1e9));
              }
              results.put(name, r);
              fcfsTwin.put(name, "fcfs" + name.substring(p.name().length())); // same placement and fairness
            }
          }
        }
      }
      JsonObject policiesJson = table(label, results, fcfsTwin);
      if (ri == 0) {
        out.add("policies", policiesJson);
      }
      JsonObject point = new JsonObject();
      Stats.put(point, "rate", rate);
      if (loads != null) {
        Stats.put(point, "load", loads[ri]);
      }
      point.add("policies", policiesJson);
      sweepJson.add(point);
      for (Map.Entry<String, SimResult> e : results.entrySet()) {
        SimResult fcfs = results.get(fcfsTwin.get(e.getKey()));
        latencyRatio.computeIfAbsent(e.getKey(), k -> new double[sweep.length])[ri] =
            fcfs == null ? Double.NaN : fcfs.meanLatency() / e.getValue().meanLatency();
        p99Ttft.computeIfAbsent(e.getKey(), k -> new double[sweep.length])[ri] =
            SimResult.percentile(e.getValue().ttftMs(), 99) / 1000;
      }
      if (plotDir != null) {
        Files.createDirectories(plotDir);
        PngChart cdf = new PngChart("Latency CDF, " + label, "latency (s)", "fraction of requests");
        for (Map.Entry<String, SimResult> e : results.entrySet()) {
          cdf.addCdf(e.getKey(), e.getValue().latencyMs());
        }
        String name = loads != null ? String.format(Locale.ROOT, "latency-cdf-load-%s.png", fmtRate(loads[ri]))
            : rates != null ? String.format(Locale.ROOT, "latency-cdf-rate-%s.png", fmtRate(rate)) : "latency-cdf.png";
        cdf.write(plotDir.resolve(name));
      }
    }
    if (sweep.length > 1) {
      out.add("sweep", sweepJson);
      if (plotDir != null && latencyRatio.keySet().stream().anyMatch(k -> k.startsWith("fcfs"))) {
        PngChart ratio = new PngChart("Mean latency, FCFS ÷ policy", loads != null ? "load" : "arrival rate (req/s)",
            "ratio (higher is better)").xTicksAtData();
        latencyRatio.forEach((name, ys) -> ratio.add(name, xs, ys));
        ratio.write(plotDir.resolve("ratio-vs-rate.png"));
      }
      if (plotDir != null && (placements.size() > 1 || rebalanceThresholds.size() > 1)) {
        PngChart ttft = new PngChart("p99 TTFT, " + engines + " engines", loads != null ? "load" : "arrival rate (req/s)",
            "p99 TTFT (s, log scale)").logY().xTicksAtData();
        p99Ttft.forEach((name, ys) -> ttft.add(name, xs, ys));
        ttft.write(plotDir.resolve("p99-ttft-vs-load.png"));
      }
    }
    if (plotDir != null && !json) {
      System.out.println("plots written to " + plotDir);
    }
    if (json) {
      System.out.println(out);
    }
    return 0;
  }

  /** Prints (unless --json) and returns the results; ratios are against FCFS under the same placement and fairness. */
  private JsonObject table(String label, Map<String, SimResult> results, Map<String, String> fcfsTwin) {
    JsonObject all = new JsonObject();
    if (!json) {
      System.out.printf("%n%s — %s%n", label, workload.getFileName());
      System.out.printf("%-38s %9s %9s %9s %9s %9s %9s %8s %10s %8s %8s %9s %8s %8s%n", "policy", "lat mean",
          "lat p50", "lat p99", "ttft mean", "ttft p50", "ttft p99", "req/s", "tok/s", "preempt", "evict", "peak KV",
          "×lat", "×ttft");
    }
    for (Map.Entry<String, SimResult> e : results.entrySet()) {
      SimResult r = e.getValue();
      JsonObject o = new JsonObject();
      Stats.put(o, "mean_latency_ms", r.meanLatency());
      Stats.put(o, "median_latency_ms", SimResult.percentile(r.latencyMs(), 50));
      Stats.put(o, "p99_latency_ms", SimResult.percentile(r.latencyMs(), 99));
      Stats.put(o, "mean_ttft_ms", r.meanTtft());
      Stats.put(o, "median_ttft_ms", SimResult.percentile(r.ttftMs(), 50));
      Stats.put(o, "p99_ttft_ms", SimResult.percentile(r.ttftMs(), 99));
      o.addProperty("engines", r.engines());
      o.addProperty("placement", r.placement());
      o.addProperty("moves", r.moves());
      Stats.put(o, "throughput_rps", r.throughputRps());
      Stats.put(o, "output_tokens_per_s", r.outputTokens() / (r.makespanMs() / 1000));
      o.addProperty("completed", r.latencyMs().length);
      o.addProperty("rejected", r.rejected());
      o.addProperty("preemptions", r.preemptions());
      o.addProperty("evictions", r.evictions());
      o.addProperty("peak_kv_blocks", r.peakKvBlocks());
      o.addProperty("scheduling_rounds", r.rounds());
      Stats.put(o, "decisions_per_s", r.decisionsPerSecond());
      SimResult fcfs = results.get(fcfsTwin.get(e.getKey()));
      double latRatio = fcfs == null ? Double.NaN : fcfs.meanLatency() / r.meanLatency();
      double ttftRatio = fcfs == null ? Double.NaN : fcfs.meanTtft() / r.meanTtft();
      Stats.put(o, "mean_latency_ratio_fcfs_over_policy", latRatio);
      Stats.put(o, "mean_ttft_ratio_fcfs_over_policy", ttftRatio);
      if (tenants != null) {
        o.add("tenants", tenantTable(e.getKey(), r));
      }
      all.add(e.getKey(), o);
      if (!json) {
        System.out.printf(Locale.ROOT,
            "%-38s %8.2fs %8.2fs %8.2fs %8.3fs %8.3fs %8.3fs %8.2f %10.0f %8d %8d %9d %7.2f× %7.2f×%s%n",
            e.getKey(), r.meanLatency() / 1000, SimResult.percentile(r.latencyMs(), 50) / 1000,
            SimResult.percentile(r.latencyMs(), 99) / 1000, r.meanTtft() / 1000,
            SimResult.percentile(r.ttftMs(), 50) / 1000, SimResult.percentile(r.ttftMs(), 99) / 1000, r.throughputRps(), r.outputTokens() / (r.makespanMs() / 1000),
            r.preemptions(), r.evictions(), r.peakKvBlocks(), latRatio, ttftRatio,
            r.moves() > 0 ? "  moved " + r.moves() : "");
      }
    }
    if (!json) {
      SimResult any = results.values().iterator().next();
      System.out.printf(Locale.ROOT, "scheduler: %.0f decisions/s (%d rounds)%n", any.decisionsPerSecond(), any.rounds());
    }
    return all;
  }

  /** Per tenant: completed requests, mean and p99 latency (printed unless --json). */
  private JsonObject tenantTable(String name, SimResult r) {
    JsonObject out = new JsonObject();
    StringBuilder line = new StringBuilder("  " + name + " by tenant:");
    for (String t : new TreeSet<>(Arrays.asList(r.tenantOf()))) {
      double[] lat = r.latencyOf(t);
      JsonObject o = new JsonObject();
      o.addProperty("completed", lat.length);
      Stats.put(o, "mean_latency_ms", SimResult.mean(lat));
      Stats.put(o, "p99_latency_ms", SimResult.percentile(lat, 99));
      out.add(t, o);
      line.append(String.format(Locale.ROOT, "  %s %d req, mean %.2fs, p99 %.2fs;", t, lat.length,
          SimResult.mean(lat) / 1000, SimResult.percentile(lat, 99) / 1000));
    }
    if (!json) {
      System.out.println(line);
    }
    return out;
  }

  private TenantShares tenantShares() {
    if (tenantWeights != null && tenantWeightsFile != null) {
      throw new IllegalArgumentException("give --tenant-weights or --tenant-weights-file, not both");
    }
    Map<String, Double> w;
    try {
      w = tenantWeightsFile != null ? TenantWeights.read(tenantWeightsFile) : Map.of();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--tenant-weights-file " + e.getMessage());
    }
    if (tenantWeights != null) {
      w = parseTenants("--tenant-weights", tenantWeights);
    }
    if (!(defaultTenantWeight > 0) || Double.isInfinite(defaultTenantWeight)) {
      throw new IllegalArgumentException("--default-tenant-weight must be > 0, got " + defaultTenantWeight);
    }
    return new TenantShares(w, defaultTenantWeight);
  }

  private static Map<String, Double> parseTenants(String flag, String spec) {
    try {
      return TenantWeights.parse(spec);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(flag + ": " + e.getMessage());
    }
  }

  private static String fmtRate(double r) {
    return r == Math.rint(r) ? String.valueOf((long) r) : String.valueOf(r);
  }

  private static void reportBad(String msg, int[] bad) {
    bad[0]++;
    if (bad[0] <= 10) {
      System.err.println(msg);
    } else if (bad[0] == 11) {
      System.err.println("(further malformed lines not shown)");
    }
  }
}
