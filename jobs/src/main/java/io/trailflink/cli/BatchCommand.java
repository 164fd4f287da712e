package io.trailflink.cli;

import ai.djl.Device;
import com.google.gson.JsonObject;
import io.trailflink.engine.BatchRunner;
import io.trailflink.engine.EngineConfig;
import io.trailflink.engine.EngineDevice;
import io.trailflink.engine.GenerationRequest;
import io.trailflink.engine.LlamaEngine;
import io.trailflink.engine.SamplingParams;
import io.trailflink.engine.TextStream;
import io.trailflink.engine.model.Checkpoint;
import io.trailflink.engine.text.PromptEncoder;
import io.trailflink.job.PromptPriorGuesses;
import io.trailflink.job.AvroBytes;
import io.trailflink.job.BatchInput;
import io.trailflink.job.BatchOutput;
import io.trailflink.job.BatchProgress;
import io.trailflink.job.EmbeddedServing;
import io.trailflink.job.RequestProducer;
import io.trailflink.job.ResponseCollector;
import io.trailflink.job.ServingOptions;
import io.trailflink.job.WorkDir;
import io.trailflink.schema.DeadLetter;
import io.trailflink.schema.EngineFeedback;
import io.trailflink.schema.FinalResponse;
import io.trailflink.schema.InferenceRequest;
import io.trailflink.schema.Sampling;
import io.trailflink.serving.RawRecord;
import io.trailflink.serving.RequestValidator;
import io.trailflink.serving.ValidatedRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code trail batch}: offline batch inference. Every row of the input gets exactly one output row (the row's own
 * fields plus the answer, or an error with the reason), written as rows finish ({@code --ordered}: in input order).
 * The rows run through the serving job itself — embedded Kafka, the Flink MiniCluster, the TRAIL scheduler and the
 * engine — and the command ends when the last row is written. A killed batch finishes with {@code --resume}: rows
 * already written are skipped, the rest run, and no row is written twice. {@code --direct} runs the same rows
 * straight through the engine (FCFS continuous batching, no Flink or Kafka), for measuring what the job costs.
 */
@Command(name = "batch", description = "Offline batch inference: a JSONL file (or folder) of prompts in, one result row per input row out.")
final class BatchCommand implements Callable<Integer> {
  @Mixin ServingOptions serving;
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--input", required = true, description = "JSONL file, a folder of .jsonl files, or kafka:TOPIC (read up to its end offsets at start, from --bootstrap-servers): rows {\"id\"?, \"prompt\" | \"messages\", \"max_new_tokens\"?, sampling fields?, \"stop\"?, …}.")
  String input;

  @Option(names = "--output", required = true, description = "JSONL file of results, one row per input row, or kafka:TOPIC (one JSON record per row, keyed by id, on --bootstrap-servers).")
  String output;

  @Option(names = "--ordered", description = "Write rows in input order (default: as they finish).")
  boolean ordered;

  @Option(names = "--resume", description = "Finish an output file a killed batch left: rows already in it are skipped.")
  boolean resume;

  @Option(names = "--max-new-tokens", defaultValue = "256", description = "max_new_tokens of rows that set none (default: ${DEFAULT-VALUE}).")
  int maxNewTokens;

  @Option(names = "--direct", description = "Run the rows straight through the engine (no Flink, no Kafka): the throughput yardstick.")
  boolean direct;

  @Option(names = "--web-ui-port", defaultValue = "0", description = "Flink web UI port (default: a free one).")
  int webUiPort;

  @Option(names = "--progress-interval-ms", defaultValue = "1000", description = "How often the progress line is redrawn on a terminal (default: ${DEFAULT-VALUE}); written to a file, at most every 10 s.")
  long progressIntervalMs;

  private static final String KAFKA = "kafka:";

  private final ProgressLine line = new ProgressLine();
  private BatchProgress.EngineTime directEngineTime; // set by a direct run: its engine calls, timed

  @Override
  public Integer call() throws Exception {
    if (maxNewTokens < 1) {
      throw new TrailCli.UsageException("--max-new-tokens must be >= 1, got " + maxNewTokens);
    }
    if (progressIntervalMs < 1) {
      throw new TrailCli.UsageException("--progress-interval-ms must be >= 1, got " + progressIntervalMs);
    }
    Path model = serving.modelDir != null ? Path.of(serving.modelDir) : TrailCli.defaultModel();
    String userKafka = serving.bootstrapServers; // the user's cluster, for kafka:TOPIC (the job runs on its own broker)
    BatchInput in = input.startsWith(KAFKA) ? BatchInput.readTopic(userKafka, input.substring(KAFKA.length()),
        maxNewTokens, serving.maxIdBytes) : BatchInput.read(Path.of(input), maxNewTokens, serving.maxIdBytes);
    int cap = in.rows().stream().filter(r -> r.request() != null).mapToInt(r -> r.request().getMaxNewTokens())
        .max().orElse(maxNewTokens);
    serving.maxNewTokensLimit = Math.max(serving.maxNewTokensLimit, cap);
    serving.check(model); // bad flags: one line, before anything starts
    if (!spec.commandLine().getParseResult().hasMatchedOption("--engine-nice")) {
      // a batch wants throughput, not the serving loop's short hops: the engine thread keeps its priority
      // (docs/benchmarks.md, "Offline batch inference": 1,484 against 1,325 tokens/s at SCHED_IDLE)
      serving.engineNice = io.trailflink.engine.EnginePriority.UNCHANGED;
    }
    long started = System.currentTimeMillis();
    try (BatchOutput out = output.startsWith(KAFKA)
        ? BatchOutput.toTopic(userKafka, output.substring(KAFKA.length()), in.rows(), ordered, resume)
        : resume ? BatchOutput.openForResume(Path.of(output), in.rows(), ordered)
        : BatchOutput.create(Path.of(output), in.rows(), ordered)) {
      int resumed = out.doneCount();
      List<BatchInput.Row> pending = new ArrayList<>();
      for (int i = 0; i < in.rows().size(); i++) {
        BatchInput.Row r = in.rows().get(i);
        if (out.isWritten(i)) {
          continue;
        }
        if (r.error() != null) {
          out.failedRow(i, r.error());
        } else {
          pending.add(r);
        }
      }
      System.err.printf("batch: %d rows (%d to run, %d already written, %d refused), %s%n", in.rows().size(),
          pending.size(), resumed, out.errorCount(), direct ? "straight through the engine (--direct)"
              : "through the serving job (policy " + serving.policy + ")");
      BatchProgress progress = new BatchProgress();
      double[] guesses = priorGuesses(model, pending);
      for (int i = 0; i < pending.size(); i++) {
        progress.pending(pending.get(i).id(), pending.get(i).request().getMaxNewTokens(), guesses[i]);
      }
      if (!pending.isEmpty()) {
        if (direct) {
          runDirect(model, pending, out, progress, in.rows().size());
        } else {
          runJob(model, pending, out, progress, in.rows().size());
        }
      }
      summary(in.rows().size(), out, progress, System.currentTimeMillis() - started);
      return 0;
    }
  }

  private void runJob(Path model, List<BatchInput.Row> pending, BatchOutput out, BatchProgress progress, int total)
      throws Exception {
    WorkDir work = WorkDir.create("trail-batch-"); // the broker's data: removed when the batch ends
    System.err.println("batch: starting Kafka (KRaft) and the Flink MiniCluster ... (work dir " + work.path() + ")");
    ResponseCollector.Listener writer = new ResponseCollector.Listener() {
      @Override
      public void onFinal(FinalResponse f) {
        write(() -> out.answered(f));
        progress.done(f.getRequestId(), f.getOutputTokens());
      }

      @Override
      public void onDeadLetter(DeadLetter d) {
        if (d.getRequestId() != null) {
          write(() -> out.failed(d.getRequestId(), d.getReason()));
          progress.done(d.getRequestId(), 0);
        }
      }

      @Override
      public void onFeedback(EngineFeedback fb) {
        progress.feedback(fb, System.currentTimeMillis());
      }
    };
    try (work; EmbeddedServing s = EmbeddedServing.start(serving, model, work.path(), webUiPort);
        ResponseCollector collector = new ResponseCollector(s.bootstrapServers(), serving.topics(), writer);
        RequestProducer producer = new RequestProducer(s.bootstrapServers(), serving.topics())) {
      for (BatchInput.Row r : pending) {
        producer.send(InferenceRequest.newBuilder(r.request()).setSubmittedAtMs(System.currentTimeMillis()).build());
      }
      producer.flush();
      waitForAll(out, progress, total, () -> {
        org.apache.flink.api.common.JobStatus status = s.job().getJobStatus().get();
        if (status.isGloballyTerminalState()) {
          throw new IllegalStateException("the serving job ended (" + status + ") with " + out.doneCount() + " of "
              + total + " rows written; see the log above; --resume finishes the rest");
        }
      });
    }
  }

  /**
   * The prompt prior's guess of each row's length (tokens; NaN where there is no prior or the row's prompt cannot be
   * encoded), for the progress line's ETA until TRAIL's predictions come: in a batch far larger than the KV, most
   * rows wait a long time without one.
   */
  private double[] priorGuesses(Path model, List<BatchInput.Row> rows) {
    return PromptPriorGuesses.of(model, serving.promptPrior(serving.predictor(model)),
        rows.stream().map(BatchInput.Row::request).toList(), serving.rawPrompts);
  }

  /** Throws when the job cannot finish the batch any more. */
  private interface JobCheck {
    void check() throws Exception;
  }

  private void runDirect(Path model, List<BatchInput.Row> pending, BatchOutput out, BatchProgress progress,
      int total) throws Exception {
    Checkpoint ckpt = Checkpoint.load(model);
    int blockSize = EngineConfig.DEFAULT_BLOCK_SIZE;
    int blocks = serving.maxRunning * ((ckpt.config().maxPositions() + blockSize - 1) / blockSize);
    Device dev = EngineDevice.choose(serving.device, -1);
    if (serving.engineThreads > 0 && "cpu".equals(dev.getDeviceType())) {
      EngineDevice.limitCpuThreads(serving.engineThreads); // else PyTorch's own count: the engine has the machine
    }
    try (PromptEncoder encoder = PromptEncoder.forCheckpoint(model);
        LlamaEngine engine = new LlamaEngine(ckpt, new EngineConfig(blocks, blockSize, -1, serving.device,
            serving.dtype), dev)) {
      // the job's own validation: the same prompt encoding, sampling defaults and refusals as a served row
      RequestValidator validator = new RequestValidator(serving.servingConfig(ckpt.config().maxPositions(), 0),
          serving.recordLimits(), ckpt.generation().sampling(0),
          (prompt, messages) -> encoder.tokens(prompt, messages, serving.rawPrompts));
      List<GenerationRequest> reqs = new ArrayList<>();
      Map<String, GenerationRequest> byId = new HashMap<>();
      for (BatchInput.Row r : pending) {
        RequestValidator.Outcome o = validator.validate(new RawRecord(input, 0, 0,
            AvroBytes.encode(r.request())));
        if (!o.valid()) {
          out.failed(r.id(), o.reason());
          progress.done(r.id(), 0);
          continue;
        }
        GenerationRequest g = generationRequest(o.request());
        reqs.add(g);
        byId.put(g.id(), g);
      }
      long submitted = System.currentTimeMillis();
      Thread ticker = progressTicker(out, progress, total);
      BatchRunner runner = new BatchRunner(engine, serving.maxRunning, serving.decodeSteps);
      long engineStart = System.currentTimeMillis();
      try {
        runner.runEach(reqs, c -> {
          if (c.error() != null) {
            write(() -> out.failed(c.id(), c.error()));
            progress.done(c.id(), 0);
            return;
          }
          String text = new TextStream(new int[0], encoder.codec(), byId.get(c.id()).stop()).append(c.tokens(), true);
          FinalResponse f = FinalResponse.newBuilder().setRequestId(c.id()).setText(text)
              .setPromptTokens(byId.get(c.id()).promptTokens().length).setOutputTokens(c.tokens().length)
              .setSubmittedAt(Instant.ofEpochMilli(submitted)).setFirstTokenAt(Instant.ofEpochMilli(c.firstTokenAtMs()))
              .setFinishedAt(Instant.ofEpochMilli(c.finishedAtMs()))
              .setTtftMs(c.firstTokenAtMs() - submitted).setLatencyMs(c.finishedAtMs() - submitted)
              .setQueueingMs(0).setPreemptions(0).setEvictions(0).setFinishReason(c.finish().wireName())
              .setEngine("direct").setPolicy("fcfs (direct)").setInitialPrediction(null).build();
          write(() -> out.answered(f));
          progress.done(c.id(), c.tokens().length);
          progress.tokensGenerated(c.tokens().length, System.currentTimeMillis());
        });
      } finally {
        ticker.interrupt();
        ticker.join(); // its last progress line comes before the summary
        directEngineTime = BatchProgress.EngineTime.of(runner.prefillMs(), runner.decodeMs(), runner.cpuMs(),
            engineStart, System.currentTimeMillis());
      }
    }
  }

  /** The engine request of a validated row. */
  private static GenerationRequest generationRequest(ValidatedRequest v) {
    Sampling s = v.sampling();
    return new GenerationRequest(v.id(), v.promptTokenIds(), v.maxNewTokens(), v.forcedOutputTokens(),
        new SamplingParams(s.getTemperature(), s.getTopP(), s.getSeed(), s.getTopK(), s.getRepetitionPenalty()),
        v.stop());
  }

  private void waitForAll(BatchOutput out, BatchProgress progress, int total, JobCheck job) throws Exception {
    long last = 0;
    while (out.doneCount() < total) {
      long now = System.currentTimeMillis();
      if (now - last >= progressIntervalMs) {
        line.show(progressText(out, progress, total, now));
        job.check();
        last = now;
      }
      Thread.sleep(100);
    }
    line.done(progressText(out, progress, total, System.currentTimeMillis()));
  }

  private Thread progressTicker(BatchOutput out, BatchProgress progress, int total) {
    Thread t = new Thread(() -> {
      try {
        while (true) {
          line.show(progressText(out, progress, total, System.currentTimeMillis()));
          Thread.sleep(progressIntervalMs);
        }
      } catch (InterruptedException e) {
        line.done(progressText(out, progress, total, System.currentTimeMillis()));
      }
    }, "batch-progress");
    t.setDaemon(true);
    t.start();
    return t;
  }

  /** The progress line: rows, the token rate of the last 30 s, and TRAIL's ETA from the predicted work left. */
  private static String progressText(BatchOutput out, BatchProgress progress, int total, long now) {
    double eta = progress.etaSeconds(now);
    return String.format(java.util.Locale.ROOT, "rows %d/%d  errors %d  %.0f tokens/s (last 30 s)  ETA %s "
        + "(TRAIL-predicted work left: %.0f tokens)", out.doneCount(), total, out.errorCount(),
        progress.tokensPerSecond(now), Double.isNaN(eta) ? "—" : String.format("%.0f s", eta),
        progress.predictedRemainingTokens());
  }

  private void summary(int total, BatchOutput out, BatchProgress progress, long wallMs) {
    BatchOutput.Figures f = out.figures();
    JsonObject o = new JsonObject();
    o.addProperty("mode", direct ? "direct" : "job");
    o.addProperty("policy", direct ? "fcfs (direct)" : serving.policy);
    o.addProperty("rows", total);
    o.addProperty("written", out.doneCount());
    o.addProperty("errors", out.errorCount());
    o.addProperty("answered_this_run", f.answered());
    o.addProperty("output_tokens", f.outputTokens());
    o.addProperty("tokens_per_s", f.tokensPerSecond());
    o.addProperty("mean_latency_ms", f.meanLatencyMs());
    o.addProperty("makespan_s", f.makespanMs() / 1000.0);
    o.addProperty("wall_s", wallMs / 1000.0);
    BatchProgress.EngineTime e = direct ? directEngineTime : progress.engineTime();
    if (e != null && e.commands > 0) {
      // summed over the engines: the busy fraction is their mean
      Stats.put(o, "engine_busy_fraction", e.busyFraction() / (direct ? 1 : serving.engines));
      o.addProperty("engine_busy_s", e.busyMs / 1000.0);
      o.addProperty("engine_prefill_s", e.prefillMs / 1000.0);
      o.addProperty("engine_probe_s", e.probeMs / 1000.0);
      o.addProperty("engine_decode_s", e.decodeMs / 1000.0);
      if (e.cpuMs > 0 && e.busyMs > 0) {
        o.addProperty("engine_cpu_over_busy", e.cpuMs / e.busyMs);
      }
    }
    System.err.printf("batch: %d of %d rows written to %s (%d with an error) in %.1f s; this run: %d rows, %d tokens,"
        + " %.0f tokens/s over a %.1f s makespan, mean latency %.1f s%n", out.doneCount(), total, output,
        out.errorCount(), wallMs / 1000.0, f.answered(), f.outputTokens(), f.tokensPerSecond(),
        f.makespanMs() / 1000.0, f.meanLatencyMs() / 1000.0);
    System.out.println(o);
  }

  private interface Write {
    void run() throws IOException;
  }

  private static void write(Write w) {
    try {
      w.run();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
