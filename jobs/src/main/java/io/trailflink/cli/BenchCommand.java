package io.trailflink.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.trailflink.embedded.EmbeddedKafka;
import io.trailflink.job.DemoWorkload;
import io.trailflink.job.EmbeddedServing;
import io.trailflink.job.PromptPriorGuesses;
import io.trailflink.job.RequestProducer;
import io.trailflink.job.ResponseCollector;
import io.trailflink.job.ServingOptions;
import io.trailflink.job.WorkDir;
import io.trailflink.predictor.TrainingPrompts;
import io.trailflink.scheduler.Policy;
import io.trailflink.scheduler.policy.Policies;
import io.trailflink.schema.FinalResponse;
import io.trailflink.schema.InferenceRequest;
import io.trailflink.schema.Sampling;
import io.trailflink.serving.EngineLoop;
import io.trailflink.serving.ServingConfig;
import io.trailflink.sim.PredictionModel;
import io.trailflink.sim.SimRequest;
import io.trailflink.sim.SimResult;
import io.trailflink.sim.Simulator;
import io.trailflink.sim.StepTimeFit;
import io.trailflink.sim.StepTimeModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.flink.util.InstantiationUtil;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code trail bench}: TRAIL's claim on real execution. Every policy runs through the whole live job (embedded
 * Kafka, a Flink MiniCluster, the CPU engine and the predictor) on the identical arrival sequence, once per
 * setting, on one broker; then the simulator replays the same arrivals with a step-time model fitted to the live
 * runs' own commands and the live predictor's own estimates, so each live figure has its simulated twin.
 *
 * <p>On the natural workload the oracle's lengths come from a first greedy pass over the same prompts (all sent at
 * once, FCFS), which also measures the engine's capacity for {@code --load}. Requests are decoded greedily.
 */
@Command(name = "bench", description = "Every policy through the live job on identical arrivals, beside the calibrated simulator.")
final class BenchCommand implements Callable<Integer> {
  @Mixin ServingOptions serving;

  @Option(names = "--workload", required = true, description = "JSONL of {prompt, max_new_tokens?, out_tokens?}.") Path workload;
  @Option(names = "--requests", defaultValue = "200", description = "Requests per run, the first N lines (default: ${DEFAULT-VALUE}).") int requests;
  @Option(names = "--load", split = ",", description = "Arrival rates as multiples of the engine's measured capacity on this workload, e.g. 0.8,1.2,1.5.") double[] loads;
  @Option(names = "--rate", split = ",", description = "Poisson arrival rates, requests/s.") double[] rates;
  @Option(names = "--policies", defaultValue = "fcfs,sjf,trail,oracle", split = ",", description = "Among fcfs, sjf, sprpt, trail, oracle (default: ${DEFAULT-VALUE}).") List<String> policies;
  @Option(names = "--c", defaultValue = "0.8", split = ",", description = "TRAIL's (and the oracle's) preemption limit C; several make a sweep (default: ${DEFAULT-VALUE}).") double[] cs;
  @Option(names = "--forced-lengths", description = "Decode each request to exactly its out_tokens (the trace's lengths) under every policy.") boolean forcedLengths;
  @Option(names = "--max-new-tokens", defaultValue = "128", description = "max_new_tokens of lines that set none (default: ${DEFAULT-VALUE}).") int maxNewTokens;
  @Option(names = "--repeats", defaultValue = "1", description = "Live runs per policy and setting, alternating policies; tables show the run of median mean latency and the spread (default: ${DEFAULT-VALUE}).") int repeats;
  @Option(names = "--seed", defaultValue = "7", description = "Seed of the arrival sequence (default: ${DEFAULT-VALUE}).") long seed;
  @Option(names = "--timeout-s", defaultValue = "1800", description = "Give up a run after this long (default: ${DEFAULT-VALUE}).") long timeoutS;
  @Option(names = "--plot", description = "Write PNG plots (latency CDFs, FCFS ÷ policy against load) into this folder.") Path plotDir;
  @Option(names = "--json", description = "Print every figure as one JSON object on the last line.") boolean json;
  @Option(names = "--fit", defaultValue = "least-squares", description = "Step-time fit whose simulation the tables show: least-squares or robust (Huber); both are printed with their errors (default: ${DEFAULT-VALUE}).") String fitName;
  @Option(names = "--steps-out", description = "Write every live command as a step-time sample (JSONL: run, policy, iterations, sequence_steps, context_token_steps, prefill_tokens, probe_tokens, busy_ms), to study the step-time fit.") Path stepsOut;

  /** Requests of the warm-up pass, all at once, before the first pass (its figures are not used). */
  private static final int WARM_UP_REQUESTS = 128;

  private LiveRun firstPass; // FCFS, every request at once: capacity, natural lengths, the step model's check
  private Map<String, Double> promptPriors = Map.of(); // the live job's prompt-prior guess (tokens), by request id
  private final Map<String, Integer> maxNewTokensOf = new HashMap<>(); // each request's cap (tokens), by request id



  @Override
  public Integer call() throws Exception {
    List<String> specs = policySpecs();
    serving.sweeps = true;
    List<BenchReport.Variant> variants = variants();
    if ((loads == null) == (rates == null)) {
      throw new TrailCli.UsageException("choose one of --load or --rate");
    }
    for (double v : loads != null ? loads : rates) {
      if (!(v > 0) || Double.isInfinite(v)) {
        throw new TrailCli.UsageException((loads != null ? "--load" : "--rate") + " values must be > 0, got " + v);
      }
    }
    if (!fitName.equals("robust") && !fitName.equals("least-squares")) {
      throw new TrailCli.UsageException("--fit must be robust or least-squares, got '" + fitName + "'");
    }
    if (requests < 2 || maxNewTokens < 1 || repeats < 1) {
      throw new TrailCli.UsageException("--requests must be >= 2, --max-new-tokens and --repeats >= 1");
    }
    if (!Files.isRegularFile(workload)) {
      throw new IllegalArgumentException("--workload " + workload + ": no such file");
    }
    DemoWorkload base = DemoWorkload.read(workload, requests, maxNewTokens, 0, seed, bad -> {
      throw new IllegalArgumentException(bad);
    });
    if (forcedLengths && base.items().stream().anyMatch(it -> it.forcedTokens() == null)) {
      throw new IllegalArgumentException("--forced-lengths: every line of " + workload + " needs out_tokens");
    }
    if (!ServingConfig.MODEL_PREDICTIONS.equals(serving.predictions) && !forcedLengths) {
      throw new TrailCli.UsageException("--predictions " + serving.predictions + " predicts from forced lengths: add "
          + "--forced-lengths (and out_tokens on every workload line)");
    }
    if (serving.predictions.startsWith("recorded:")) {
      PredictionModel.parse(serving.predictions, 1).coverage(base.items().stream()
          .map(DemoWorkload.Item::forcedTokens).toList(), 64).forEach(System.err::println);
    }
    serving.maxNewTokensLimit = Math.max(serving.maxNewTokensLimit,
        base.items().stream().mapToInt(DemoWorkload.Item::maxNewTokens).max().orElse(maxNewTokens));
    Path model = serving.modelDir != null ? Path.of(serving.modelDir) : TrailCli.defaultModel();
    serving.check(model);
    for (String p : specs) {
      for (BenchReport.Variant v : variants) {
        ServingOptions o = options(p, v);
        o.check(model);
      }
    }

    promptPriors = promptPriorGuesses(model, base);
    for (int i = 0; i < base.items().size(); i++) {
      maxNewTokensOf.put(id(i), base.items().get(i).maxNewTokens());
    }
    long[] seen = warnSeenPrompts(model, base);
    WorkDir work = WorkDir.create("trail-bench-");
    List<LiveRun> all = new ArrayList<>();
    List<BenchReport.Setting> settings = new ArrayList<>();
    double capacity = Double.NaN;
    int[] runNo = {0};
    int runs = (loads != null ? loads.length : rates.length) * variants.size() * specs.size() * repeats + 2;
    try (work; EmbeddedKafka kafka = EmbeddedKafka.start(work.path().resolve("kafka"))) {
      List<Integer> lengths = null; // natural output lengths, by request index, from the first pass
      // a short pass first warms the JVM (JIT): the first run of a JVM is up to 1.7x slower than the same run warm,
      // and a cold first pass underestimated the capacity every --load multiplies (a "load 1.5" ran near 1.2 warm)
      DemoWorkload warmUp = new DemoWorkload(base.items().subList(0, Math.min(WARM_UP_REQUESTS, base.items().size())));
      runLive(kafka, model, "fcfs", variants.get(0), warmUp, null, runNo, runs, "warm-up (all at once, not counted)");
      // then the first pass: it measures the capacity and the natural lengths
      LiveRun pass = runLive(kafka, model, "fcfs", variants.get(0), base, null, runNo, runs,
          "first pass (all at once)");
      firstPass = pass;
      all.add(pass);
      lengths = new ArrayList<>();
      for (int i = 0; i < base.items().size(); i++) {
        FinalResponse f = pass.finals().get(id(i));
        lengths.add(f == null ? null : f.getOutputTokens());
      }
      capacity = pass.saturatedRequestsPerSecond();
      System.err.printf(Locale.ROOT, "bench: capacity %.2f requests/s with the batch full (%.2f over the whole "
          + "pass, %.0f tokens/s) on %s%n", capacity, pass.requestsPerSecond(), pass.tokensPerSecond(),
          workload.getFileName());
      int points = loads != null ? loads.length : rates.length;
      for (int si = 0; si < points; si++) {
        double rate = loads != null ? loads[si] * capacity : rates[si];
        double load = loads != null ? loads[si] : rate / capacity;
        DemoWorkload arrivals = DemoWorkload.read(workload, requests, maxNewTokens, rate, seed, bad -> { });
        for (BenchReport.Variant v : variants) { // every quantum and refresh cadence on the same arrivals
          Map<String, List<LiveRun>> byPolicy = new LinkedHashMap<>();
          for (int rep = 0; rep < repeats; rep++) {
            for (String p : specs) {
              List<Integer> forced = p.startsWith("oracle") && !forcedLengths ? lengths : null;
              String label = String.format(Locale.ROOT, "rate %.2f req/s%s, %s%s", rate,
                  Double.isNaN(load) ? "" : String.format(Locale.ROOT, " (load %.2f)", load), p,
                  variants.size() > 1 ? ", " + v.label() : "");
              LiveRun r = runLive(kafka, model, p, v, arrivals, forced, runNo, runs, label);
              byPolicy.computeIfAbsent(p, k -> new ArrayList<>()).add(r);
              all.add(r);
            }
          }
          Map<String, LiveRun> median = new LinkedHashMap<>();
          byPolicy.forEach((p, l) -> median.put(p, medianRun(l)));
          settings.add(new BenchReport.Setting(rate, load, v, byPolicy, median, new LinkedHashMap<>()));
        }
      }
    }

    if (stepsOut != null) {
      writeSteps(all);
    }
    List<StepTimeFit.Sample> samples = all.stream().flatMap(r -> r.stepSamples().stream()).toList();
    LiveRun.CommandGaps gaps = all.stream().map(LiveRun::commandGaps).reduce(LiveRun.CommandGaps.NONE,
        LiveRun.CommandGaps::plus);
    double overheadPerCommand = gaps.loopGapPerCommandMs();
    System.out.printf(Locale.ROOT, "loop overhead outside compute: %.3f ms per command%n", overheadPerCommand);
    System.out.printf(Locale.ROOT, "start of a command issued to an idle engine, outside compute: %.3f ms (%d "
        + "commands)%n", gaps.idleStartPerCommandMs(), gaps.idleStartCommands());
    int maxNew = base.items().stream().mapToInt(DemoWorkload.Item::maxNewTokens).max().orElse(maxNewTokens);
    JsonObject out = new JsonObject();
    Map<String, StepTimeFit.Fit> fits = new LinkedHashMap<>();
    fits.put("least-squares", StepTimeFit.fit(samples));
    fits.put("robust", StepTimeFit.fitRobust(samples));
    JsonObject fitsJson = new JsonObject();
    Map<String, double[]> errors = new LinkedHashMap<>(); // fit -> mean |sim error| of mean latency, of mean TTFT
    for (Map.Entry<String, StepTimeFit.Fit> f : fits.entrySet()) {
      StepTimeModel stepModel = f.getValue().model(overheadPerCommand);
      System.out.println("step-time fit (" + f.getKey() + "): " + f.getValue());
      JsonObject fj = fitJson(f.getValue(), overheadPerCommand);
      if (firstPass != null) { // the step model against the one run that measures the engine alone: all at once
        double live = firstPass.makespanMs();
        double sim = simulate("fcfs", firstPass, stepModel, maxNew, variants.get(0)).makespanMs();
        System.out.printf(Locale.ROOT, "  first pass (all at once, FCFS): makespan live %.1f s, simulated %.1f s "
            + "(%+.1f %%)%n", live / 1000, sim / 1000, 100 * (sim / live - 1));
        Stats.put(fj, "first_pass_makespan_live_ms", live);
        Stats.put(fj, "first_pass_makespan_sim_ms", sim);
      }
      double latErr = 0;
      double ttftErr = 0;
      int n = 0;
      for (BenchReport.Setting st : settings) {
        for (Map.Entry<String, LiveRun> e : st.live().entrySet()) {
          SimResult sim = simulate(e.getKey(), e.getValue(), stepModel, maxNew, st.variant());
          if (sim == null) {
            continue;
          }
          if (f.getKey().equals(fitName)) {
            st.sim().put(e.getKey(), sim);
          }
          latErr += Math.abs(sim.meanLatency() / Stats.mean(e.getValue().latencyMs()) - 1);
          ttftErr += Math.abs(sim.meanTtft() / Stats.mean(e.getValue().ttftMs()) - 1);
          n++;
        }
      }
      errors.put(f.getKey(), new double[] {latErr / Math.max(1, n), ttftErr / Math.max(1, n)});
      System.out.printf(Locale.ROOT, "  simulated vs live over every setting and policy: mean |error| of mean "
          + "latency %.1f %%, of mean TTFT %.1f %%%n", 100 * latErr / Math.max(1, n), 100 * ttftErr / Math.max(1, n));
      Stats.put(fj, "mean_abs_sim_error_mean_latency", latErr / Math.max(1, n));
      Stats.put(fj, "mean_abs_sim_error_mean_ttft", ttftErr / Math.max(1, n));
      if (repeats > 1) {
        errorsOverRepeats(settings, stepModel, maxNew, f.getKey().equals(fitName), fj);
      }
      fitsJson.add(f.getKey(), fj);
    }
    out.add("step_time_fits", fitsJson);
    out.addProperty("fit_in_tables", fitName);
    Stats.put(out, "capacity_rps", capacity);
    out.addProperty("workload_prompts_in_predictor_training", seen[0]); // -1: the predictor lists none
    out.addProperty("workload_prompts_in_prompt_prior_training", seen[1]);
    JsonArray settingsJson = new JsonArray();
    BenchReport report = new BenchReport(workload.getFileName().toString(), requests, cs, serving.predictions,
        forcedLengths, serving.cappedRanking, loads != null, variants.size() > 1);
    for (BenchReport.Setting st : settings) {
      settingsJson.add(report.table(st, fitName));
    }
    out.add("settings", settingsJson);
    if (plotDir != null) {
      report.plots(settings, plotDir);
    }
    if (json) {
      System.out.println(out);
    }
    return 0;
  }

  private static JsonObject fitJson(StepTimeFit.Fit fit, double overheadPerCommand) {
    JsonObject o = new JsonObject();
    o.addProperty("fixed_ms_per_iteration", fit.fixedMs());
    o.addProperty("ms_per_sequence_step", fit.perSequenceMs());
    o.addProperty("ms_per_context_token", fit.perContextTokenMs());
    o.addProperty("ms_per_prefill_token", fit.perPrefillTokenMs());
    o.addProperty("ms_per_probe_token", fit.perProbeTokenMs());
    o.addProperty("r2", fit.r2());
    o.addProperty("busy_share", fit.busyShare());
    o.addProperty("commands", fit.samples());
    o.addProperty("loop_overhead_ms_per_command", overheadPerCommand);
    return o;
  }

  private void writeSteps(List<LiveRun> all) throws java.io.IOException {
    try (var w = Files.newBufferedWriter(stepsOut)) {
      for (int i = 0; i < all.size(); i++) {
        for (LiveRun.Step step : all.get(i).steps()) {
          StepTimeFit.Sample x = step.sample();
          JsonObject o = new JsonObject();
          o.addProperty("run", i);
          o.addProperty("policy", all.get(i).policy());
          o.addProperty("iterations", x.iterations());
          o.addProperty("sequence_steps", x.sequenceSteps());
          o.addProperty("context_token_steps", x.contextTokenSteps());
          o.addProperty("prefill_tokens", x.prefillTokens());
          o.addProperty("probe_tokens", x.probeTokens());
          o.addProperty("busy_ms", x.busyMs());
          o.addProperty("probe_ms", step.feedback().getProbeMs());
          o.addProperty("prefill_ms", step.feedback().getPrefillMs());
          o.addProperty("decode_ms", step.feedback().getDecodeMs());
          o.addProperty("cpu_ms", step.feedback().getCpuMs());
          w.write(o.toString());
          w.newLine();
        }
      }
    }
  }

  /**
   * The simulator against the mean over repeats: identical runs differ on these cores by more than the policies
   * do, so each run is simulated on its own arrivals and predictions and the means of both sides are compared.
   * Prints the mean |error| (and, for the fit in the tables, one line per policy); adds both to {@code fj}.
   */
  private void errorsOverRepeats(List<BenchReport.Setting> settings, StepTimeModel stepModel, int maxNew,
      boolean perPolicy, JsonObject fj) {
    double latErr = 0;
    double ttftErr = 0;
    int n = 0;
    for (BenchReport.Setting st : settings) {
      for (Map.Entry<String, List<LiveRun>> e : st.runs().entrySet()) {
        double[] live = new double[2];
        double[] sim = new double[2];
        int k = 0;
        for (LiveRun run : e.getValue()) {
          SimResult r = simulate(e.getKey(), run, stepModel, maxNew, st.variant());
          if (r == null) {
            continue;
          }
          live[0] += Stats.mean(run.latencyMs());
          live[1] += Stats.mean(run.ttftMs());
          sim[0] += r.meanLatency();
          sim[1] += r.meanTtft();
          k++;
        }
        if (k == 0) {
          continue;
        }
        double le = sim[0] / live[0] - 1;
        double te = sim[1] / live[1] - 1;
        if (perPolicy) {
          System.out.printf(Locale.ROOT, "  rate %.2f, %s, mean of %d runs: latency live %.2f s, simulated %.2f s "
              + "(%+.1f %%); TTFT live %.2f s, simulated %.2f s (%+.1f %%)%n", st.rate(), e.getKey() + ", "
              + st.variant().label(), k,
              live[0] / k / 1000, sim[0] / k / 1000, 100 * le, live[1] / k / 1000, sim[1] / k / 1000, 100 * te);
        }
        latErr += Math.abs(le);
        ttftErr += Math.abs(te);
        n++;
      }
    }
    System.out.printf(Locale.ROOT, "  simulated vs live, means over the repeats: mean |error| of mean latency %.1f %%, "
        + "of mean TTFT %.1f %%%n", 100 * latErr / Math.max(1, n), 100 * ttftErr / Math.max(1, n));
    Stats.put(fj, "mean_abs_sim_error_mean_latency_over_repeats", latErr / Math.max(1, n));
    Stats.put(fj, "mean_abs_sim_error_mean_ttft_over_repeats", ttftErr / Math.max(1, n));
  }

  /** The run whose mean latency is the median of the policy's runs (the lower one of an even count). */
  private static LiveRun medianRun(List<LiveRun> runs) {
    List<LiveRun> sorted = new ArrayList<>(runs);
    sorted.sort(java.util.Comparator.comparingDouble(r -> Stats.mean(r.latencyMs())));
    return sorted.get((sorted.size() - 1) / 2);
  }

  /** The --decode-steps × --refresh-every sweep, in the order given (one variant without a sweep). */
  private List<BenchReport.Variant> variants() {
    if (serving.refreshEverySweep.length > 1 && !ServingConfig.MODEL_PREDICTIONS.equals(serving.predictions)) {
      throw new TrailCli.UsageException("--refresh-every sweeps the TRAIL predictor's cadence; with --predictions "
          + serving.predictions + " the job refreshes after every command, so every value would run the same job");
    }
    // a single value may have been set on the field directly (not through the option)
    int[] quanta = serving.decodeStepsSweep.length > 1 ? serving.decodeStepsSweep : new int[] {serving.decodeSteps};
    int[] cadences = serving.refreshEverySweep.length > 1 ? serving.refreshEverySweep
        : new int[] {serving.refreshEvery};
    List<BenchReport.Variant> out = new ArrayList<>();
    for (int d : quanta) {
      for (int k : cadences) {
        BenchReport.Variant v = new BenchReport.Variant(d, k);
        if (!out.contains(v)) {
          out.add(v);
        }
      }
    }
    return out;
  }

  /** The job's options for one run: {@code policy}, with the variant's quantum and refresh cadence. */
  private ServingOptions options(String policy, BenchReport.Variant v) throws java.io.IOException,
      ClassNotFoundException {
    ServingOptions o = InstantiationUtil.clone(serving);
    o.policy = policy;
    o.decodeSteps = v.decodeSteps();
    o.decodeStepsSweep = new int[] {v.decodeSteps()};
    o.refreshEvery = v.refreshEvery();
    o.refreshEverySweep = new int[] {v.refreshEvery()};
    return o;
  }

  /** The policies as the job takes them, one per C for trail and oracle. */
  private List<String> policySpecs() {
    List<String> out = new ArrayList<>();
    for (String p : policies) {
      String name = p.strip().toLowerCase(Locale.ROOT);
      Policies.parse(name, 0.8); // unknown names: one line, before anything starts
      if ((name.equals("trail") || name.equals("oracle"))) {
        for (double c : cs) {
          if (!(c >= 0)) {
            throw new TrailCli.UsageException("--c values must be >= 0, got " + c);
          }
          out.add(name + ":" + fmt(c));
        }
      } else {
        out.add(name);
      }
    }
    return out;
  }

  private static String id(int i) {
    return "b" + i;
  }

  /** The {@code i}-th request of a run, greedy (so the first pass's lengths hold in every run). */
  private static InferenceRequest request(int i, DemoWorkload.Item it, Integer forcedTokens, long submittedAtMs) {
    return InferenceRequest.newBuilder().setId(id(i)).setPrompt(it.prompt()).setMaxNewTokens(it.maxNewTokens())
        .setForcedOutputTokens(forcedTokens).setSampling(Sampling.newBuilder().build())
        .setSubmittedAtMs(submittedAtMs).setTenant("bench").build();
  }

  /**
   * Runs the job once with {@code policy} on {@code w}'s arrivals, under its own topics on the shared broker,
   * until every request has its final response.
   *
   * @param forced output lengths to force (the oracle's, from the first pass), or null for the workload's own
   */
  private LiveRun runLive(EmbeddedKafka kafka, Path model, String policy, BenchReport.Variant variant,
      DemoWorkload w, List<Integer> forced, int[] runNo, int runs, String label) throws Exception {
    int n = ++runNo[0];
    ServingOptions o = options(policy, variant);
    o.topicPrefix = "bench" + n + ".";
    o.groupId = "trail-bench-" + n;
    int total = w.items().size();
    Map<String, Long> arrivals = new HashMap<>();
    long started;
    try (EmbeddedServing s = EmbeddedServing.onBroker(kafka, o, model, 0);
        ResponseCollector c = new ResponseCollector(s.bootstrapServers(), o.topics());
        RequestProducer producer = new RequestProducer(s.bootstrapServers(), o.topics())) {
      started = System.currentTimeMillis();
      long deadline = started + timeoutS * 1000;
      int sent = 0;
      long lastLine = 0;
      ProgressLine line = new ProgressLine();
      while (c.completed() < total) {
        long now = System.currentTimeMillis();
        while (sent < total && w.items().get(sent).atMs() <= now - started) {
          DemoWorkload.Item it = w.items().get(sent);
          Integer force = forced != null ? forced.get(sent) : forcedLengths ? it.forcedTokens() : null;
          producer.send(request(sent, it, force, now));
          arrivals.put(id(sent), now - started);
          sent++;
        }
        producer.flush();
        if (now - lastLine >= 1000) {
          line.show(String.format(Locale.ROOT, "[run %d/%d] %s: sent %d/%d, done %d/%d, %.0f s", n, runs, label,
              sent, total, c.completed(), total, (now - started) / 1000.0));
          lastLine = now;
          if (s.job().getJobStatus().get().isGloballyTerminalState()) {
            throw new IllegalStateException("run " + n + " (" + label + "): the job ended with " + c.completed()
                + " of " + total + " responses; see the log");
          }
          if (now > deadline) {
            throw new IllegalStateException("run " + n + " (" + label + "): " + c.completed() + " of " + total
                + " responses after --timeout-s " + timeoutS);
          }
        }
        Thread.sleep(5);
      }
      Thread.sleep(300); // the last feedback records
      line.done(String.format(Locale.ROOT, "[run %d/%d] %s: %d requests in %.0f s", n, runs, label, total,
          (System.currentTimeMillis() - started) / 1000.0));
      Map<String, FinalResponse> finals = new HashMap<>();
      c.finals().forEach((k, v) -> finals.put(k, v.get(0)));
      return new LiveRun(policy, arrivals, finals, c.feedback(), o.pipelineDepth, LiveRun.hops(c.etas()));
    }
  }

  /** The simulator on a live run's own arrivals and lengths, with the live predictor's estimates replayed. */
  private SimResult simulate(String spec, LiveRun run, StepTimeModel stepModel, int maxNew,
      BenchReport.Variant variant) {
    Policy policy = Policies.parse(spec, 0.8);
    PredictionModel predictions;
    boolean livePredictor = false; // the live TRAIL predictor's own estimates, replayed
    if (spec.startsWith("fcfs") || spec.startsWith("oracle")) {
      predictions = PredictionModel.parse("oracle", seed);
    } else if (!ServingConfig.MODEL_PREDICTIONS.equals(serving.predictions)) {
      predictions = PredictionModel.parse(serving.predictions, 1); // the live loop's model, with the same noise
    } else {
      Map<String, PredictionModel.Recorded> rec = run.recordedPredictions(id -> maxNewTokensOf.getOrDefault(id, maxNew));
      if (rec.isEmpty()) {
        return null; // no live predictions to replay (--predictor none)
      }
      predictions = PredictionModel.recorded("live predictor of " + spec, rec, seed);
      livePredictor = true;
    }
    // the live loop parks up to a batch's worth of waiting requests per command; the live predictor predicts a
    // request once its prompt is prefilled, and until then it ranks by the prompt prior's guess. With --no-park the
    // live loop probes waiting prompts soon after arrival instead; the simulator predicts them on arrival then and
    // charges no probe time
    Simulator.Waiting waiting = new Simulator.Waiting(serving.noPark ? 0 : serving.maxRunning,
        EngineLoop.PROBE_TOKEN_BUDGET, livePredictor && !serving.noPark);
    // refresh every token: the replayed live estimates already hold still between the live refreshes, and the live
    // loop refreshes synthetic predictions after every command whatever --refresh-every says
    Simulator sim = new Simulator(new Simulator.Config(serving.maxRunning, serving.kvBlocks, serving.blockSize,
        maxNew, stepModel, predictions, 1, variant.decodeSteps(), serving.pipelineDepth, waiting));
    List<SimRequest> requests = run.simRequests().stream()
        .map(r -> r.withPromptPrior(promptPriors.getOrDefault(r.id(), Double.NaN))).toList();
    return sim.run(policy, requests, done -> { });
  }

  /**
   * Says how many of the workload's prompts the predictor and the prompt prior were trained on (on them TRAIL's
   * figures are flattered); returns both counts, -1 where a model lists no training prompts or is not used.
   */
  private long[] warnSeenPrompts(Path model, DemoWorkload w) {
    List<String> prompts = w.items().stream().map(DemoWorkload.Item::prompt).toList();
    Path predictorDir = serving.predictor(model);
    Path priorDir = serving.promptPrior(predictorDir);
    long[] seen = {
        predictorDir == null ? -1 : TrainingPrompts.seen(predictorDir, TrainingPrompts.PREDICTOR_FILE, prompts),
        priorDir == null ? -1 : TrainingPrompts.seen(priorDir, TrainingPrompts.PRIOR_FILE, prompts)};
    String[] names = {"the TRAIL predictor", "the prompt prior"};
    Path[] dirs = {predictorDir, priorDir};
    for (int i = 0; i < 2; i++) {
      if (dirs[i] == null) {
        continue;
      }
      if (seen[i] < 0) {
        System.err.printf("bench: %s (%s) does not list the prompts it was trained on: nothing checks that the "
            + "workload's are unseen%n", names[i], dirs[i]);
      } else if (seen[i] > 0) {
        System.err.printf("bench: %d of %d workload prompts were in the training data of %s: TRAIL's figures are "
            + "flattered on them%n", seen[i], prompts.size(), names[i]);
      } else {
        System.err.printf("bench: none of the %d workload prompts was in the training data of %s%n", prompts.size(),
            names[i]);
      }
    }
    return seen;
  }

  /**
   * The prompt prior's guess for each request, as the live job computes it at acceptance (empty without a prior):
   * the simulator ranks a waiting request by it until its prediction comes, as the live scheduler does.
   */
  private Map<String, Double> promptPriorGuesses(Path model, DemoWorkload w) {
    List<InferenceRequest> requests = new ArrayList<>();
    for (int i = 0; i < w.items().size(); i++) {
      requests.add(request(i, w.items().get(i), null, 0));
    }
    double[] guesses = PromptPriorGuesses.of(model, serving.promptPrior(serving.predictor(model)), requests,
        serving.rawPrompts);
    Map<String, Double> out = new HashMap<>();
    for (int i = 0; i < guesses.length; i++) {
      out.put(id(i), guesses[i]);
    }
    return out;
  }

  private static String fmt(double v) {
    return v == Math.rint(v) ? String.valueOf((long) v) : String.format(Locale.ROOT, "%.2f", v);
  }
}
