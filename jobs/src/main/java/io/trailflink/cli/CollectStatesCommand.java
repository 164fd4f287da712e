package io.trailflink.cli;

import ai.djl.Device;
import com.google.gson.JsonObject;
import io.trailflink.engine.BatchRunner;
import io.trailflink.engine.EngineConfig;
import io.trailflink.engine.EngineDevice;
import io.trailflink.engine.GenerationRequest;
import io.trailflink.engine.HiddenStateProbe;
import io.trailflink.engine.LlamaEngine;
import io.trailflink.engine.SamplingParams;
import io.trailflink.engine.model.Checkpoint;
import io.trailflink.engine.text.PromptEncoder;
import io.trailflink.engine.train.Example;
import io.trailflink.engine.train.RealPairs;
import io.trailflink.engine.train.SyntheticTasks;
import io.trailflink.predictor.data.TapDatasetWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code trail collect-states}: the predictor's training data. Runs the serving model over real instructions
 * (Alpaca, AlpacaEval) and generated tasks, then reads every layer's hidden states along each prompt + answer in
 * one teacher-forced forward and writes them, with the true remaining length, as a {@code TapDataset}. A seeded
 * 10 % of the requests is marked {@code val} (split by request, never by sample).
 */
@Command(name = "collect-states", description = "Record hidden states of every layer with true remaining lengths (predictor training data).")
final class CollectStatesCommand implements Callable<Integer> {
  @Option(names = "--data", required = true, description = "Directory with alpaca/ and alpaca_eval/ (e.g. the shared data folder).") Path data;
  @Option(names = "--out", required = true, description = "Dataset directory to write.") Path out;
  @Option(names = "--model", description = "Checkpoint directory (default: the bundled model).") Path model;
  @Option(names = "--real", defaultValue = "700", description = "Distinct real instructions.") int real;
  @Option(names = "--generated", defaultValue = "700", description = "Generated tasks (as in the demo workload).") int generated;
  @Option(names = "--max-new-tokens", defaultValue = "512", description = "Output cap (tokens); the bins cover [0, cap).") int maxNewTokens;
  @Option(names = "--val-fraction", defaultValue = "0.1") double valFraction;
  @Option(names = "--temperature", defaultValue = "0", description = "0 = greedy (the job's default); else sampled with top-p 0.95.") double temperature;
  @Option(names = "--batch", defaultValue = "32") int batch;
  @Option(names = "--seed", defaultValue = "17") long seed;
  @Option(names = "--device", defaultValue = "auto") String device;

  private record Prompt(String id, String kind, String text) {}

  @Override
  public Integer call() throws Exception {
    if (!Files.isDirectory(data.resolve("alpaca")) && !Files.isDirectory(data.resolve("alpaca_eval"))) {
      throw new TrailCli.UsageException("--data " + data + " has neither alpaca/ nor alpaca_eval/");
    }
    Path modelDir = model != null ? model : TrailCli.defaultModel();
    Checkpoint ckpt = Checkpoint.load(modelDir);
    List<Prompt> prompts = prompts();
    Random split = new Random(seed + 7);
    Device dev = EngineDevice.choose(device, -1);
    int blockSize = EngineConfig.DEFAULT_BLOCK_SIZE;
    int blocks = batch * ((ckpt.config().maxPositions() + blockSize - 1) / blockSize);
    JsonObject meta = new JsonObject();
    meta.addProperty("model", modelDir.toAbsolutePath().normalize().toString());
    meta.addProperty("data", data.toAbsolutePath().normalize().toString());
    meta.addProperty("max_new_tokens", maxNewTokens);
    meta.addProperty("temperature", temperature);
    meta.addProperty("prompt_template", "the checkpoint's chat template (tokenizer_config.json)");
    meta.addProperty("seed", seed);
    long t0 = System.nanoTime();
    try (PromptEncoder encoder = PromptEncoder.forCheckpoint(ckpt.dir());
        LlamaEngine engine = new LlamaEngine(ckpt, new EngineConfig(blocks, blockSize, -1, device), dev);
        HiddenStateProbe probe = new HiddenStateProbe(ckpt, dev);
        TapDatasetWriter writer = new TapDatasetWriter(out, meta, probe.numLayers(), probe.hiddenSize())) {
      BatchRunner runner = new BatchRunner(engine, batch, 16);
      int chunk = 8 * batch;
      int skipped = 0;
      for (int from = 0; from < prompts.size(); from += chunk) {
        List<Prompt> part = prompts.subList(from, Math.min(prompts.size(), from + chunk));
        Map<String, int[]> encoded = new LinkedHashMap<>();
        List<GenerationRequest> reqs = new ArrayList<>();
        for (Prompt p : part) {
          int[] tokens = encoder.prompt(p.text(), false);
          if (tokens.length + maxNewTokens > ckpt.config().maxPositions()) {
            skipped++;
            continue;
          }
          encoded.put(p.id(), tokens);
          SamplingParams sampling = temperature > 0 ? new SamplingParams(temperature, 0.95, p.id().hashCode())
              : SamplingParams.GREEDY;
          reqs.add(new GenerationRequest(p.id(), tokens, maxNewTokens, 0, sampling));
        }
        int base = from;
        Map<String, BatchRunner.Completion> done = runner.run(reqs, n -> progress(base + n, prompts.size(), t0));
        for (Prompt p : part) {
          BatchRunner.Completion c = done.get(p.id());
          if (c == null || c.error() != null || c.tokens().length == 0) {
            continue;
          }
          int[] prompt = encoded.get(p.id());
          int[] seq = new int[prompt.length + c.tokens().length];
          System.arraycopy(prompt, 0, seq, 0, prompt.length);
          System.arraycopy(c.tokens(), 0, seq, prompt.length, c.tokens().length);
          writer.add(p.id(), p.kind(), split.nextDouble() < valFraction ? "val" : "train",
              c.finish().name().toLowerCase(), p.text(), probe.states(seq), prompt.length, c.tokens().length);
        }
      }
      PROGRESS.end();
      System.out.printf("collected %d requests, %d samples (%d layers × %d floats, f16) into %s in %.0f s%s%n",
          writer.requests(), writer.samples(), probe.numLayers() + 1, probe.hiddenSize(), out,
          (System.nanoTime() - t0) / 1e9, skipped > 0 ? "; " + skipped + " prompts too long skipped" : "");
    }
    return 0;
  }

  /** Distinct real instructions and generated tasks, shuffled together with the seed. */
  private List<Prompt> prompts() throws Exception {
    Map<String, Boolean> realTexts = new LinkedHashMap<>();
    List<Path> files = new ArrayList<>();
    for (String sub : List.of("alpaca", "alpaca_eval")) {
      Path d = data.resolve(sub);
      if (Files.isDirectory(d)) {
        try (Stream<Path> s = Files.list(d)) {
          s.filter(p -> p.toString().endsWith(".json")).sorted().forEach(files::add);
        }
      }
    }
    for (Path f : files) {
      for (Example e : RealPairs.read(f)) {
        realTexts.putIfAbsent(e.prompt(), true);
      }
    }
    List<String> realList = new ArrayList<>(realTexts.keySet());
    Collections.shuffle(realList, new Random(seed));
    List<Prompt> out = new ArrayList<>();
    for (int i = 0; i < Math.min(real, realList.size()); i++) {
      out.add(new Prompt("real-" + i, "real", realList.get(i)));
    }
    Map<String, Example> synth = new LinkedHashMap<>();
    SyntheticTasks tasks = new SyntheticTasks(seed + 11);
    for (int attempt = 0; synth.size() < generated && attempt < 100 * Math.max(1, generated); attempt++) {
      Example e = tasks.generate(1).get(0);
      synth.putIfAbsent(e.prompt(), e);
    }
    int i = 0;
    for (Example e : synth.values()) {
      out.add(new Prompt("gen-" + i++, e.exact() ? "generated_exact" : "generated_distribution", e.prompt()));
    }
    Collections.shuffle(out, new Random(seed + 3));
    return out;
  }

  private static final ProgressLine PROGRESS = new ProgressLine();

  private static void progress(int done, int total, long t0) {
    if (done % 8 == 0 || done == total) {
      double s = (System.nanoTime() - t0) / 1e9;
      PROGRESS.show(String.format(java.util.Locale.ROOT, "collect-states: %d/%d requests  %.0f s  eta %.0f s", done,
          total, s, done == 0 ? 0 : s * (total - done) / done));
    }
  }
}
