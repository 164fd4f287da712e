package io.trailflink.cli;

import ai.djl.Device;
import com.google.gson.JsonObject;
import io.trailflink.engine.EngineConfig;
import io.trailflink.engine.EngineDevice;
import io.trailflink.engine.GenerationRequest;
import io.trailflink.engine.LlamaEngine;
import io.trailflink.engine.SamplingParams;
import io.trailflink.engine.SequenceUpdate;
import io.trailflink.engine.model.Checkpoint;
import io.trailflink.engine.reference.ReferenceLlama;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code trail bench-engine}: decode and prefill throughput of the DJL engine at several batch sizes, side by side
 * with the plain-Java reference on the same inputs in the same run, KV memory per 1,000 tokens, and resident memory
 * over a long decode run (it must stay flat: no per-step native growth).
 */
@Command(name = "bench-engine", description = "Benchmark the decode engine against the plain-Java reference.")
final class BenchEngineCommand implements Callable<Integer> {
  private final ProgressLine line = new ProgressLine();

  @Option(names = "--model", description = "Checkpoint directory (default: the bundled model).")
  Path model;

  @Option(names = "--batches", split = ",", defaultValue = "1,8,32,48") int[] batches;
  @Option(names = "--prompt-tokens", defaultValue = "32") int promptTokens;
  @Option(names = "--steps", defaultValue = "64", description = "Decode steps per measurement.") int steps;
  @Option(names = "--repeats", defaultValue = "3", description = "Measurements per figure (median reported).") int repeats;
  @Option(names = "--memory-steps", defaultValue = "10000", description = "Decode steps of the memory run.") int memorySteps;
  @Option(names = "--device", defaultValue = "auto") String device;
  @Option(names = "--dtype", defaultValue = "auto", description = "auto (the checkpoint's width; bf16 becomes f16), f16 or f32.") String dtype;
  @Option(names = "--reference", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Measure the plain-Java reference too (skipped above 200M parameters: it keeps an f32 copy on the heap).")
  boolean reference;
  @Option(names = "--prefill", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Measure prefill (8 × 128 tokens) too.")
  boolean prefillRun;
  @Option(names = "--json", description = "Print one JSON object as the last line.") boolean json;

  @Override
  public Integer call() throws IOException {
    Checkpoint ckpt = Checkpoint.load(model != null ? model : TrailCli.defaultModel());
    int vocab = ckpt.config().vocabSize();
    Random rnd = new Random(7);
    JsonObject out = new JsonObject();
    Device dev = EngineDevice.choose(device, -1);
    int maxBatch = Arrays.stream(batches).max().orElse(1);
    int blockSize = EngineConfig.DEFAULT_BLOCK_SIZE;
    int blocks = maxBatch * ((promptTokens + steps * (repeats + 1) + 1) / blockSize + 2);
    out.addProperty("device", dev.toString());
    long parameters = ckpt.weights().parameterCount();
    out.addProperty("parameters", parameters);
    out.addProperty("checkpoint_mb", ckpt.weights().fileBytes() / 1e6);

    // the engine first, so that its load is measured on a fresh process
    System.gc();
    long rssBefore = rssKb();
    long loadStart = System.nanoTime();
    LlamaEngine engine = new LlamaEngine(ckpt, new EngineConfig(blocks, blockSize, -1, device, dtype), dev);
    double loadS = (System.nanoTime() - loadStart) / 1e9;
    System.gc();
    long rssAfter = rssKb();
    double kvMb = engine.kvPoolBytes() / 1e6;
    double ckptMb = ckpt.weights().fileBytes() / 1e6;
    out.addProperty("dtype", engine.computeType().name().toLowerCase(java.util.Locale.ROOT));
    out.addProperty("load_s", loadS);
    out.addProperty("rss_before_load_mb", rssBefore / 1024.0);
    out.addProperty("rss_after_load_mb", rssAfter / 1024.0);
    out.addProperty("kv_pool_mb", kvMb);
    out.addProperty("rss_over_checkpoint_plus_kv", rssAfter / 1024.0 * 1.048576 / (ckptMb + kvMb));
    out.addProperty("rss_anon_after_load_mb", statusKb("RssAnon:") / 1024.0);
    out.addProperty("rss_file_after_load_mb", statusKb("RssFile:") / 1024.0);
    out.addProperty("java_heap_used_mb", (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()) / 1048576.0);
    log("load: %.1f s; RSS %.0f MB before, %.0f MB after (checkpoint %.0f MB on disk at %s, KV pool %.0f MB): "
        + "%.2f × (checkpoint + KV)", loadS, rssBefore / 1024.0, rssAfter / 1024.0, ckptMb,
        engine.computeType(), kvMb, rssAfter / 1024.0 * 1.048576 / (ckptMb + kvMb));

    boolean runReference = reference && parameters <= 200_000_000L;
    if (!runReference) {
      log("reference skipped (%s)", reference ? "over 200M parameters" : "--no-reference");
    }
    // reference, batch 1
    double refTps = !runReference ? Double.NaN : median(repeats, () -> {
      ReferenceLlama ref = new ReferenceLlama(ckpt.weights());
      ReferenceLlama.Sequence seq = ref.newSequence();
      for (int t : tokens(rnd, promptTokens, vocab)) {
        ref.forward(seq, t);
      }
      int n = Math.min(steps, 32);
      long t0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        ref.forward(seq, 5 + i % (vocab - 5));
      }
      return n / ((System.nanoTime() - t0) / 1e9);
    });
    if (runReference) {
      out.addProperty("reference_decode_tokens_per_s_batch1", refTps);
      log("reference (plain Java) decode, batch 1: %.1f tokens/s", refTps);
    }

    try (engine) {
      long kvBytesPer1000 = engine.kvPoolBytes() / ((long) blocks * blockSize) * 1000;
      out.addProperty("kv_bytes_per_1000_tokens", kvBytesPer1000);
      JsonObject decode = new JsonObject();
      JsonObject msPerStep = new JsonObject();
      int[] counter = {0};
      for (int b : batches) {
        double[] stepMs = new double[1];
        double tps = median(repeats, () -> {
          List<GenerationRequest> reqs = new ArrayList<>();
          for (int i = 0; i < b; i++) {
            reqs.add(new GenerationRequest("d" + counter[0]++, tokens(rnd, promptTokens, vocab), steps + 1, steps + 1,
                SamplingParams.GREEDY));
          }
          List<String> ids = reqs.stream().map(GenerationRequest::id).toList();
          engine.admit(reqs);
          engine.decode(ids, 2); // warm-up
          long t0 = System.nanoTime();
          engine.decode(ids, steps - 2);
          double secs = (System.nanoTime() - t0) / 1e9;
          ids.forEach(engine::release);
          stepMs[0] = secs * 1000 / (steps - 2);
          return b * (steps - 2) / secs;
        });
        decode.addProperty(String.valueOf(b), tps);
        msPerStep.addProperty(String.valueOf(b), stepMs[0]);
        log("DJL decode, batch %2d: %8.1f tokens/s  (%.2f ms/step)", b, tps, stepMs[0]);
      }
      out.add("decode_tokens_per_s", decode);
      out.add("ms_per_step", msPerStep);
      double prefill = !prefillRun ? Double.NaN : median(repeats, () -> {
        List<GenerationRequest> reqs = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
          reqs.add(GenerationRequest.greedy("p" + counter[0]++, tokens(rnd, 128, vocab), 1));
        }
        long t0 = System.nanoTime();
        engine.admit(reqs);
        return 8 * 128 / ((System.nanoTime() - t0) / 1e9);
      });
      out.addProperty("prefill_tokens_per_s", prefill);
      log("DJL prefill (8 × 128 tokens): %.0f tokens/s", prefill);
      double b32 = decode.has("32") ? decode.get("32").getAsDouble() : Double.NaN;
      if (runReference) {
        out.addProperty("ratio_djl_batch32_over_reference_batch1", b32 / refTps);
        log("ratio DJL batch-32 / reference batch-1: %.1f×", b32 / refTps);
      }
      if (memorySteps > 0) {
        memoryRun(engine, out, rnd, vocab);
      }
    }
    if (json) {
      System.out.println(out);
    }
    return 0;
  }

  /** Decodes {@code memorySteps} steps at batch 8, restarting requests as they finish; samples RSS as it goes. */
  private void memoryRun(LlamaEngine engine, JsonObject out, Random rnd, int vocab) throws IOException {
    int batch = 8;
    int quantum = 50;
    List<String> ids = new ArrayList<>();
    int[] next = {0};
    List<Long> rss = new ArrayList<>();
    long t0 = System.nanoTime();
    for (int done = 0; done < memorySteps; done += quantum) {
      while (ids.size() < batch) {
        GenerationRequest r = new GenerationRequest("m" + next[0]++, tokens(rnd, promptTokens, vocab), 400, 400,
            SamplingParams.GREEDY);
        engine.admit(List.of(r));
        ids.add(r.id());
      }
      for (SequenceUpdate u : engine.decode(ids, quantum)) {
        if (u.finished()) {
          ids.remove(u.requestId());
        }
      }
      if (done % 1000 == 0) {
        System.gc();
        rss.add(rssKb());
        if (!json) {
          line.show(String.format(java.util.Locale.ROOT, "memory run: %d/%d steps, RSS %d MB", done, memorySteps,
              rss.get(rss.size() - 1) / 1024));
        }
      }
    }
    if (!json) {
      line.end();
    }
    System.gc();
    rss.add(rssKb());
    double secs = (System.nanoTime() - t0) / 1e9;
    // growth from the second sample (after warm-up allocations) to the last
    long start = rss.size() > 2 ? rss.get(1) : rss.get(0);
    long end = rss.get(rss.size() - 1);
    out.addProperty("memory_steps", memorySteps);
    out.addProperty("rss_start_mb", start / 1024.0);
    out.addProperty("rss_end_mb", end / 1024.0);
    out.addProperty("rss_growth_kb_per_1000_steps", (end - start) * 1000.0 / memorySteps);
    log("%nmemory over %d decode steps (batch %d, %.0f s): RSS %.1f MB → %.1f MB (%.1f KB per 1,000 steps)",
        memorySteps, batch, secs, start / 1024.0, end / 1024.0, (end - start) * 1000.0 / memorySteps);
  }

  private static long rssKb() throws IOException {
    return statusKb("VmRSS:");
  }

  /** A kB figure of /proc/self/status, e.g. {@code VmRSS:}, {@code RssAnon:}, {@code RssFile:}; -1 if absent. */
  private static long statusKb(String field) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith(field)) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    return -1;
  }

  private static int[] tokens(Random rnd, int n, int vocab) {
    int[] t = new int[n];
    for (int i = 0; i < n; i++) {
      t[i] = 5 + rnd.nextInt(vocab - 5);
    }
    return t;
  }

  private interface Measurement {
    double run() throws IOException;
  }

  private static double median(int repeats, Measurement m) throws IOException {
    double[] v = new double[repeats];
    for (int i = 0; i < repeats; i++) {
      v[i] = m.run();
    }
    Arrays.sort(v);
    return v[repeats / 2];
  }

  private void log(String fmt, Object... args) {
    if (!json) {
      System.out.println(String.format(fmt, args));
    } else {
      System.err.println(String.format(fmt, args));
    }
  }
}
