package io.trailflink.cli;

import com.google.gson.JsonObject;
import io.trailflink.job.DemoWorkload;
import io.trailflink.job.EmbeddedServing;
import io.trailflink.job.RequestProducer;
import io.trailflink.job.ResponseCollector;
import io.trailflink.job.ServingOptions;
import io.trailflink.job.WorkDir;
import io.trailflink.scheduler.TenantWeights;
import io.trailflink.schema.EngineFeedback;
import io.trailflink.schema.EpochMicros;
import io.trailflink.schema.FinalResponse;
import io.trailflink.schema.InferenceRequest;
import io.trailflink.serving.PredictionUnderCap;
import io.trailflink.sim.Workloads;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code trail demo}: the serving job on the embedded default — a real Kafka broker, a Flink MiniCluster with its
 * web UI, the CPU engine with the bundled model — fed by a Kafka producer replaying a workload, with a summary of
 * what the responses topic and the predictions topic say.
 */
@Command(name = "demo", description = "Run the serving job on embedded Kafka + Flink MiniCluster and replay a workload.")
final class DemoCommand implements Callable<Integer> {
  @Mixin ServingOptions serving;

  @Option(names = "--requests", defaultValue = "40", description = "Requests to send (default: ${DEFAULT-VALUE}).") int requests;
  @Option(names = "--rate", defaultValue = "2", description = "Poisson arrival rate, requests/s; 0 sends all at once (default: ${DEFAULT-VALUE}).") double rate;
  @Option(names = "--workload", description = "JSONL of {prompt, max_new_tokens?, out_tokens?}; default: generated tasks.") Path workload;
  @Option(names = "--max-new-tokens", defaultValue = "256", description = "max_new_tokens of each request (default: ${DEFAULT-VALUE}).") int maxNewTokens;
  @Option(names = "--seed", defaultValue = "7") long seed;
  @Option(names = "--web-ui-port", defaultValue = "8081", description = "Flink web UI port (default: ${DEFAULT-VALUE}).") int webUiPort;
  @Option(names = "--timeout-s", defaultValue = "900", description = "Give up waiting for responses after this long.") long timeoutS;
  @Option(names = "--sql", description = "After the run, a query file (e.g. sql/queries/eta-accuracy.sql) over the run's topics, its result printed as a table.") Path sql;
  @Option(names = "--deadline-ms", defaultValue = "0", description = "Give every request this deadline_ms (a time budget from submission; 0 = none); the summary then counts deadlines met, missed (cancelled) and refused (--admission predictive).") long deadlineMs;
  @Option(names = "--etas-out", description = "Write every ETA update read (with the request's actual finish, when it has one) here, one JSON line each.") Path etasOut;
  @Option(names = "--json", description = "Print the summary as one JSON object on the last line.") boolean json;
  @Option(names = "--tenants", description = "Owners of the requests, NAME:SHARE,...: each request goes to a tenant at "
      + "random in proportion to its share (of the arrival rate); default: all 'demo'.") String tenants;
  @Option(names = "--without-tenant", description = "Do not send this tenant's requests (the others keep their "
      + "arrival times): the baseline a noisy tenant is compared with.") String withoutTenant;
  @Option(names = "--cancel", defaultValue = "0", description = "Cancel drill: once every request is sent, cancel the first N (default: ${DEFAULT-VALUE}).") int cancel;
  @Option(names = "--results", description = "Write every final response here, one JSON line each (text, tokens, TTFT, latency, ...); also a workload for `simulate` (prompt_tokens, out_tokens).") Path results;

  @Override
  public Integer call() throws Exception {
    if (requests <= 0 || rate < 0 || maxNewTokens <= 0) {
      throw new IllegalArgumentException("--requests and --max-new-tokens must be > 0 and --rate >= 0");
    }
    if (workload != null && !Files.isRegularFile(workload)) {
      throw new IllegalArgumentException("--workload " + workload + ": no such file");
    }
    if (sql != null && !Files.isReadable(sql)) {
      throw new IllegalArgumentException("--sql " + sql + ": no such file");
    }
    serving.maxNewTokensLimit = Math.max(serving.maxNewTokensLimit, maxNewTokens);
    Path model = serving.modelDir != null ? Path.of(serving.modelDir) : TrailCli.defaultModel();
    serving.check(model);
    DemoWorkload w = workload == null ? DemoWorkload.generated(requests, maxNewTokens, rate, seed)
        : DemoWorkload.read(workload, requests, maxNewTokens, rate, seed, bad -> System.err.println("skipped " + bad));
    List<String> owners = owners(w.items().size());
    WorkDir work = WorkDir.create("trail-demo-"); // the broker's data: removed when the demo ends, also on failure
    System.err.println("demo: starting Kafka (KRaft) and the Flink MiniCluster ... (work dir " + work.path() + ")");
    try (work; EmbeddedServing s = EmbeddedServing.start(serving, model, work.path(), webUiPort);
        ResponseCollector collector = new ResponseCollector(s.bootstrapServers(), serving.topics());
        RequestProducer producer = new RequestProducer(s.bootstrapServers(), serving.topics())) {
      System.err.println("demo: Kafka at " + s.bootstrapServers() + ", Flink web UI at " + s.webUi()
          + ", policy " + serving.policy + ", " + serving.engines + " engine(s)"
          + (serving.engines > 1 ? ", placement " + serving.placement : "")
          + ("none".equals(serving.fairness) ? "" : ", fairness " + serving.fairness
              + (serving.tenantWeights != null ? " (weights " + serving.tenantWeights + ")" : "")
              + (serving.tenantWeightsFile != null ? " (weights from " + serving.tenantWeightsFile + ")" : "")));
      long start = System.currentTimeMillis();
      int sent = 0;
      long lastLine = 0;
      ProgressLine line = new ProgressLine();
      long deadline = start + timeoutS * 1000;
      int total = w.items().size();
      int skipped = (int) owners.stream().filter(t -> t.equals(withoutTenant)).count();
      while (collector.completed() < total - skipped && System.currentTimeMillis() < deadline) {
        long now = System.currentTimeMillis();
        while (sent < total && w.items().get(sent).atMs() <= now - start) {
          DemoWorkload.Item it = w.items().get(sent);
          if (!owners.get(sent).equals(withoutTenant)) {
            producer.send(InferenceRequest.newBuilder().setId(requestId(sent)).setPrompt(it.prompt())
                .setMaxNewTokens(it.maxNewTokens()).setForcedOutputTokens(it.forcedTokens())
                .setSubmittedAtMs(System.currentTimeMillis()).setTenant(owners.get(sent))
                .setDeadlineMs(deadlineMs > 0 ? deadlineMs : null).build());
          }
          sent++;
          if (sent == total && cancel > 0) { // the drill: cancels while the engine is saturated
            for (int i = 0; i < Math.min(cancel, total); i++) {
              producer.send(InferenceRequest.newBuilder().setId(requestId(i)).setMaxNewTokens(0)
                  .setSubmittedAtMs(System.currentTimeMillis()).setCancel(true).build());
            }
          }
        }
        producer.flush();
        if (now - lastLine >= 1000) {
          line.show(demoProgress(sent, total, collector, now - start));
          lastLine = now;
        }
        Thread.sleep(5);
      }
      Thread.sleep(500);
      line.done(demoProgress(sent, total, collector, System.currentTimeMillis() - start));
      int rc = report(collector, w, System.currentTimeMillis() - start);
      if (sql != null) {
        System.err.println("demo: " + sql + " over the run's topics ...");
        SqlCommand.run(TrailCli.home().resolve("sql/tables"), s.bootstrapServers(), serving.topicPrefix, true, sql,
            Files.readString(sql));
      }
      return rc;
    }
  }

  private static String demoProgress(int sent, int total, ResponseCollector c, long elapsedMs) {
    return String.format(java.util.Locale.ROOT, "sent %d/%d  done %d/%d  dead-lettered %d  %.0f s", sent, total,
        c.completed(), total, c.deadLetters().size(), elapsedMs / 1000.0);
  }

  /** Each request's tenant: drawn by --tenants' shares, or all "demo". */
  private List<String> owners(int n) {
    if (tenants == null) {
      if (withoutTenant != null) {
        throw new IllegalArgumentException("--without-tenant needs --tenants");
      }
      return java.util.Collections.nCopies(n, "demo");
    }
    Map<String, Double> shares;
    try {
      shares = TenantWeights.parse(tenants);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--tenants: " + e.getMessage());
    }
    if (withoutTenant != null && !shares.containsKey(withoutTenant)) {
      throw new IllegalArgumentException("--without-tenant " + withoutTenant + ": not one of --tenants");
    }
    return Workloads.drawTenants(n, shares, seed);
  }

  /** Per tenant: completed requests, mean and p99 latency (ms). */
  private static JsonObject byTenant(List<FinalResponse> finals) {
    JsonObject out = new JsonObject();
    Map<String, List<FinalResponse>> groups = new java.util.TreeMap<>();
    for (FinalResponse f : finals) {
      groups.computeIfAbsent(f.getTenant(), t -> new ArrayList<>()).add(f);
    }
    groups.forEach((t, fs) -> {
      double[] lat = fs.stream().mapToDouble(FinalResponse::getLatencyMs).toArray();
      JsonObject o = new JsonObject();
      o.addProperty("completed", fs.size());
      Stats.put(o, "mean_latency_ms", Stats.mean(lat));
      Stats.put(o, "p99_latency_ms", Stats.percentile(lat, 99));
      out.add(t, o);
    });
    return out;
  }

  /** Response chunks a consumer saw for cancelled requests after their final response (must be 0). */
  private static long chunksAfterCancel(ResponseCollector c) {
    Map<String, Integer> chunkTokens = c.chunkTokens();
    long extra = 0;
    for (List<FinalResponse> l : c.finals().values()) {
      FinalResponse f = l.get(0);
      if ("cancelled".equals(f.getFinishReason())) {
        extra += Math.max(0, chunkTokens.getOrDefault(f.getRequestId(), 0) - f.getOutputTokens());
      }
    }
    return extra;
  }

  /** The id of the workload's {@code i}-th request. */
  private static String requestId(int i) {
    return "demo-" + i;
  }

  private int report(ResponseCollector c, DemoWorkload w, long wallMs) throws java.io.IOException {
    int total = w.items().size();
    Map<String, Integer> caps = new HashMap<>(); // max_new_tokens by request id, as sent
    for (int i = 0; i < total; i++) {
      caps.put(requestId(i), w.items().get(i).maxNewTokens());
    }
    List<FinalResponse> finals = new ArrayList<>();
    int duplicates = 0;
    for (List<FinalResponse> l : c.finals().values()) {
      finals.add(l.get(0));
      duplicates += l.size() - 1;
    }
    double[] lat = finals.stream().mapToDouble(FinalResponse::getLatencyMs).toArray();
    double[] ttft = finals.stream().mapToDouble(FinalResponse::getTtftMs).toArray();
    long tokens = finals.stream().mapToLong(FinalResponse::getOutputTokens).sum();
    long firstSubmit = finals.stream().mapToLong(x -> x.getSubmittedAt().toEpochMilli()).min().orElse(0);
    long lastFinish = finals.stream().mapToLong(x -> x.getFinishedAt().toEpochMilli()).max().orElse(0);
    double spanS = Math.max(1, lastFinish - firstSubmit) / 1000.0;
    LoopFigures loop = LoopFigures.of(c.feedback(), serving.pipelineDepth);
    if (results != null) {
      writeResults(finals);
    }
    PredictionFigures pred = PredictionFigures.of(c.feedback(), finals, caps);
    EtaFigures eta = EtaFigures.of(c.etas(), finals);
    if (etasOut != null) {
      EtaFigures.write(etasOut, c.etas(), finals);
    }

    JsonObject o = new JsonObject();
    o.addProperty("policy", serving.policy);
    o.addProperty("requests", total);
    o.addProperty("completed", finals.size());
    o.addProperty("duplicate_final_responses", duplicates);
    o.addProperty("failed", finals.stream().filter(f -> f.getError() != null).count());
    if (cancel > 0) {
      o.addProperty("cancels_sent", Math.min(cancel, total));
      o.addProperty("cancelled", finals.stream().filter(f -> "cancelled".equals(f.getFinishReason())).count());
      List<EngineFeedback> fb = c.feedback();
      o.addProperty("kv_blocks_used_at_end", fb.isEmpty() ? -1 : fb.get(fb.size() - 1).getBlocksUsed());
      o.addProperty("chunks_after_cancel", chunksAfterCancel(c));
    }
    o.addProperty("dead_lettered", c.deadLetters().size());
    if (deadlineMs > 0) {
      long served = finals.stream().filter(f -> "stop".equals(f.getFinishReason())
          || "length".equals(f.getFinishReason())).count();
      long missed = finals.stream().filter(f -> f.getError() != null && f.getError().startsWith("deadline:")).count();
      long refused = finals.stream().filter(f -> f.getError() != null
          && f.getError().startsWith("deadline-unreachable")).count();
      long servedTokens = finals.stream().filter(f -> "stop".equals(f.getFinishReason())
          || "length".equals(f.getFinishReason())).mapToLong(FinalResponse::getOutputTokens).sum();
      o.addProperty("deadline_ms", deadlineMs);
      o.addProperty("deadline_met", served);
      o.addProperty("deadline_missed", missed);
      o.addProperty("deadline_refused_at_admission", refused);
      o.addProperty("deadline_met_of_admitted", served / (double) Math.max(1, finals.size() - refused));
      o.addProperty("goodput_tokens_per_s", servedTokens / spanS);
      System.out.printf("%-26s %d ms: %d met, %d missed (cancelled at the deadline), %d refused at admission; "
          + "%.1f %% of admitted met it; goodput %.1f tokens/s%n", "deadlines", deadlineMs, served, missed, refused,
          100.0 * served / Math.max(1, finals.size() - refused), servedTokens / spanS);
    }
    Stats.put(o, "mean_latency_ms", Stats.mean(lat));
    Stats.put(o, "p50_latency_ms", Stats.percentile(lat, 50));
    Stats.put(o, "p99_latency_ms", Stats.percentile(lat, 99));
    Stats.put(o, "mean_ttft_ms", Stats.mean(ttft));
    Stats.put(o, "p50_ttft_ms", Stats.percentile(ttft, 50));
    Stats.put(o, "p99_ttft_ms", Stats.percentile(ttft, 99));
    o.addProperty("output_tokens", tokens);
    o.addProperty("throughput_tokens_per_s", tokens / spanS);
    o.addProperty("throughput_requests_per_s", finals.size() / spanS);
    if (tenants != null) {
      JsonObject tenantsJson = byTenant(finals);
      o.add("by_tenant", tenantsJson);
      tenantsJson.entrySet().forEach(e -> {
        JsonObject t = e.getValue().getAsJsonObject();
        System.out.printf(java.util.Locale.ROOT, "%-26s %d requests, mean latency %.2f s, p99 %.2f s%n",
            "tenant " + e.getKey(), t.get("completed").getAsInt(), t.get("mean_latency_ms").getAsDouble() / 1000,
            t.get("p99_latency_ms").getAsDouble() / 1000);
      });
    }
    o.addProperty("preemptions", finals.stream().mapToInt(FinalResponse::getPreemptions).sum());
    o.addProperty("evictions", finals.stream().mapToInt(FinalResponse::getEvictions).sum());
    o.addProperty("engine_steps", loop.steps);
    Stats.put(o, "engine_busy_fraction", loop.busyFraction);
    Stats.put(o, "loop_hop_p50_ms", loop.hopP50);
    Stats.put(o, "loop_hop_p99_ms", loop.hopP99);
    double[] transit = c.feedbackTimes().stream().mapToDouble(t -> (t[1] - t[0]) / 1000.0).toArray();
    Stats.put(o, "feedback_kafka_leg_p50_ms", Stats.percentile(transit, 50));
    double[] decision = c.feedback().stream().mapToDouble(EngineFeedback::getDecisionUs).toArray();
    Stats.putP50P99(o, "decision", "us", decision);
    double[] decisionCpu = c.feedback().stream().mapToDouble(EngineFeedback::getDecisionCpuUs).toArray();
    Stats.putP50P99(o, "decision_cpu", "us", decisionCpu);
    // the same over the run's second half of commands: the JIT has compiled the loop's code by then
    int half = decision.length / 2;
    Stats.putP50P99(o, "decision_second_half", "us", Arrays.copyOfRange(decision, half, decision.length));
    Stats.putP50P99(o, "decision_cpu_second_half", "us", Arrays.copyOfRange(decisionCpu, half, decisionCpu.length));
    o.addProperty("predictions", pred.count);
    Stats.put(o, "prediction_mae_tokens", pred.mae);
    Stats.put(o, "prediction_capped_mae_tokens", pred.cappedMae);
    Stats.put(o, "initial_prediction_mae_tokens", pred.initialMae);
    o.addProperty("eta_requests", eta.requests());
    Stats.put(o, "eta_first_mae_s", eta.firstMaeS());
    Stats.put(o, "eta_first_median_ae_s", eta.firstMedianS());
    Stats.put(o, "eta_first_naive_position_mae_s", eta.firstNaiveMaeS());
    Stats.put(o, "eta_first_naive_fifo_mae_s", eta.firstFifoMaeS());
    o.addProperty("eta_estimates", eta.estimates());
    Stats.put(o, "eta_all_mae_s", eta.allMaeS());
    Stats.put(o, "eta_all_naive_position_mae_s", eta.allNaiveMaeS());
    o.addProperty("wall_s", wallMs / 1000.0);

    System.out.printf("%-26s %s%n", "policy", serving.policy);
    System.out.printf("%-26s %d of %d (%d duplicate finals, %d dead-lettered)%n", "completed", finals.size(), total,
        duplicates, c.deadLetters().size());
    System.out.printf("%-26s mean %.0f  p50 %.0f  p99 %.0f%n", "latency (ms)", Stats.mean(lat),
        Stats.percentile(lat, 50), Stats.percentile(lat, 99));
    System.out.printf("%-26s mean %.0f  p50 %.0f  p99 %.0f%n", "TTFT (ms)", Stats.mean(ttft),
        Stats.percentile(ttft, 50), Stats.percentile(ttft, 99));
    System.out.printf("%-26s %.1f tokens/s, %.2f requests/s%n", "throughput", tokens / spanS, finals.size() / spanS);
    System.out.printf("%-26s %s preemptions, %s evictions%n", "scheduling", o.get("preemptions"), o.get("evictions"));
    System.out.printf("%-26s %.1f %% over %d steps%n", "engine busy", 100 * loop.busyFraction, loop.steps);
    System.out.printf("%-26s p50 %.1f  p99 %.1f (sink + Kafka to a plain consumer: p50 %.1f)%n", "loop hop (ms)",
        loop.hopP50, loop.hopP99, Stats.percentile(transit, 50));
    System.out.printf("%-26s p50 %.0f  p99 %.0f wall; p50 %.0f  p99 %.0f thread CPU%n", "decision time (µs)",
        Stats.percentile(decision, 50), Stats.percentile(decision, 99), Stats.percentile(decisionCpu, 50),
        Stats.percentile(decisionCpu, 99));
    System.out.printf("%-26s %s%n", "predictions", pred.count == 0 ? "none (max_new_tokens fallback)"
        : String.format("%d published; MAE of remaining %.1f tokens (%.1f capped at max_new_tokens, as the "
            + "scheduler ranks), of initial (total) %.1f tokens", pred.count, pred.mae, pred.cappedMae,
            pred.initialMae));
    if (eta.requests() > 0) {
      System.out.printf("%-26s first estimate of %d requests: MAE %.1f s (median %.1f); naive ETAs at the same "
          + "moments: queue position %.1f s, FIFO %.1f s; over all %d estimates: %.1f s vs %.1f s%n", "ETA error",
          eta.requests(), eta.firstMaeS(), eta.firstMedianS(), eta.firstNaiveMaeS(), eta.firstFifoMaeS(),
          eta.estimates(), eta.allMaeS(), eta.allNaiveMaeS());
    }
    if (json) {
      System.out.println(o);
    }
    return finals.size() == total && duplicates == 0 ? 0 : 1;
  }

  private void writeResults(List<FinalResponse> finals) {
    try {
      if (results.toAbsolutePath().getParent() != null) {
        java.nio.file.Files.createDirectories(results.toAbsolutePath().getParent());
      }
      try (var w = java.nio.file.Files.newBufferedWriter(results)) {
        for (FinalResponse f : finals) {
          JsonObject o = new JsonObject();
          o.addProperty("id", f.getRequestId());
          o.addProperty("prompt_tokens", f.getPromptTokens());
          o.addProperty("out_tokens", f.getOutputTokens());
          o.addProperty("finish_reason", f.getFinishReason());
          o.addProperty("ttft_ms", f.getTtftMs());
          o.addProperty("latency_ms", f.getLatencyMs());
          o.addProperty("queueing_ms", f.getQueueingMs());
          o.addProperty("preemptions", f.getPreemptions());
          o.addProperty("initial_prediction", f.getInitialPrediction());
          o.addProperty("tenant", f.getTenant());
          o.addProperty("engine", f.getEngine());
          o.addProperty("error", f.getError());
          o.addProperty("text", f.getText());
          w.write(o.toString());
          w.newLine();
        }
      }
      System.err.println("results: " + results);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot write --results " + results, e);
    }
  }

  /**
   * Live predictor accuracy: every published prediction against the request's true remaining output (final
   * output tokens − generated at prediction time); the same with each prediction capped at the request's
   * max_new_tokens − generated, the remainder the scheduler ranks by; and the initial (prompt) predictions alone.
   */
  record PredictionFigures(long count, double mae, double cappedMae, double initialMae) {
    static PredictionFigures of(List<EngineFeedback> feedback, List<FinalResponse> finals, Map<String, Integer> caps) {
      Map<String, Integer> outputs = new HashMap<>();
      finals.forEach(f -> outputs.put(f.getRequestId(), f.getOutputTokens()));
      double abs = 0;
      double absCapped = 0;
      double absInitial = 0;
      long n = 0;
      long nInitial = 0;
      for (EngineFeedback fb : feedback) {
        for (var u : fb.getPredictions()) {
          Integer out = outputs.get(u.getRequestId());
          if (out == null) {
            continue;
          }
          double truth = out - u.getGenerated();
          double err = Math.abs(u.getPredictedRemaining() - truth);
          abs += err;
          int cap = caps.getOrDefault(u.getRequestId(), Integer.MAX_VALUE);
          absCapped += Math.abs(Math.min(PredictionUnderCap.remaining(u, cap), (double) cap - u.getGenerated()) - truth);
          n++;
          if (u.getGenerated() == 0) {
            absInitial += err;
            nInitial++;
          }
        }
      }
      return new PredictionFigures(n, n == 0 ? Double.NaN : abs / n, n == 0 ? Double.NaN : absCapped / n,
          nInitial == 0 ? Double.NaN : absInitial / nInitial);
    }
  }

  /**
   * Engine figures from the predictions topic. Busy fraction: engine compute time over the span from the first
   * command issued to the last step finished, per engine, averaged. Loop hop: from a step's feedback being
   * published to the next command being issued (Kafka round trip plus scheduling), per engine, counted only
   * where the step left requests running (otherwise the next command waits for an arrival, not for the loop).
   */
  record LoopFigures(long steps, double busyFraction, double hopP50, double hopP99) {
    /**
     * @param depth commands in flight per engine: the command planned with step k's feedback is step k + depth, so
     *     the hop is its issue time minus k's publish time (only where it was issued after that publish)
     */
    static LoopFigures of(List<EngineFeedback> feedback, int depth) {
      Map<String, List<EngineFeedback>> byEngine = new HashMap<>();
      feedback.forEach(f -> byEngine.computeIfAbsent(f.getEngine(), k -> new ArrayList<>()).add(f));
      List<Double> hops = new ArrayList<>();
      double busySum = 0;
      for (List<EngineFeedback> l : byEngine.values()) {
        l.sort(Comparator.comparingLong(EngineFeedback::getStepSeq));
        double busy = l.stream().mapToDouble(EngineFeedback::getBusyMs).sum();
        long span = l.get(l.size() - 1).getFinishedAtMs() - l.get(0).getIssuedAtMs();
        busySum += span > 0 ? busy / span : 0;
        for (int i = depth; i < l.size(); i++) {
          EngineFeedback fed = l.get(i - depth);
          EngineFeedback next = l.get(i);
          boolean workLeft = fed.getProgress().stream().anyMatch(p -> p.getFinishReason() == null);
          double hopMs = (EpochMicros.of(next.getIssuedAtUs(), next.getIssuedAtMs())
              - EpochMicros.of(fed.getPublishedAtUs(), fed.getPublishedAtMs())) / 1000.0;
          if (workLeft && next.getStepSeq() == fed.getStepSeq() + depth && hopMs >= 0) {
            hops.add(hopMs);
          }
        }
      }
      double[] h = hops.stream().mapToDouble(Double::doubleValue).toArray();
      return new LoopFigures(feedback.size(), byEngine.isEmpty() ? Double.NaN : busySum / byEngine.size(),
          Stats.percentile(h, 50), Stats.percentile(h, 99));
    }
  }
}
