package io.trailflink.cli;

import ai.djl.Device;
import com.google.gson.JsonObject;
import io.trailflink.engine.BatchRunner;
import io.trailflink.engine.EngineConfig;
import io.trailflink.engine.EngineDevice;
import io.trailflink.engine.FinishReason;
import io.trailflink.engine.GenerationRequest;
import io.trailflink.engine.LlamaEngine;
import io.trailflink.engine.SamplingParams;
import io.trailflink.engine.model.Checkpoint;
import io.trailflink.engine.text.PromptEncoder;
import io.trailflink.engine.text.TextCodec;
import io.trailflink.engine.train.Corpus;
import io.trailflink.engine.train.Example;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code trail eval-model}: does the model end its answers, at prompt-dependent lengths? Greedy generation on
 * held-out prompts of three kinds — real instructions, generated tasks with an exact length, generated tasks with
 * a length given only in distribution — and, for the last kind, the spread of lengths across sampling seeds.
 */
@Command(name = "eval-model", description = "Report EOS fraction, output lengths and length correlation on held-out prompts.")
final class EvalModelCommand implements Callable<Integer> {
  @Option(names = "--model", description = "Checkpoint directory (default: the bundled model).") Path model;
  @Option(names = "--heldout", required = true, description = "Held-out examples (heldout.jsonl of a train-model run).") Path heldout;
  @Option(names = "--per-kind", defaultValue = "300") int perKind;
  @Option(names = "--max-new-tokens", defaultValue = "512") int maxNewTokens;
  @Option(names = "--seeds", defaultValue = "5", description = "Sampling seeds per distribution-only prompt.") int seeds;
  @Option(names = "--seed-prompts", defaultValue = "50", description = "Distribution-only prompts sampled with several seeds.") int seedPrompts;
  @Option(names = "--batch", defaultValue = "32") int batch;
  @Option(names = "--device", defaultValue = "auto") String device;
  @Option(names = "--json", description = "Print one JSON object as the last line.") boolean json;
  @Option(names = "--kinds", split = ",", description = "Only these kinds: real, generated_exact, "
      + "generated_distribution (default: all three).") List<String> onlyKinds = List.of();
  @Option(names = "--dump", description = "Also write every greedy answer here, one JSON object per line (kind, "
      + "prompt, answer, output_tokens, finish_reason).") Path dump;
  @Option(names = "--exclude", description = "Skip held-out prompts that occur in this JSONL of examples (e.g. the "
      + "train.jsonl of an earlier training stage); repeatable.") List<Path> exclude = List.of();

  @Override
  public Integer call() throws Exception {
    Checkpoint ckpt = Checkpoint.load(model != null ? model : TrailCli.defaultModel());
    // one entry per distinct prompt: held-out real instructions come with one answer per AlpacaEval model
    Map<String, List<Example>> kinds = new LinkedHashMap<>();
    Map<String, List<String>> answersByPrompt = new LinkedHashMap<>();
    Set<String> seen = new HashSet<>();
    for (Path f : exclude) {
      Corpus.readJsonl(f).forEach(e -> seen.add(e.prompt()));
    }
    for (Example e : Corpus.readJsonl(heldout)) {
      if (seen.contains(e.prompt())) {
        continue;
      }
      String kind = e.family().equals("real") ? "real" : e.exact() ? "generated_exact" : "generated_distribution";
      if (!onlyKinds.isEmpty() && !onlyKinds.contains(kind)) {
        continue;
      }
      List<String> answers = answersByPrompt.computeIfAbsent(kind + "\u0000" + e.prompt(), k -> new ArrayList<>());
      answers.add(e.answer());
      List<Example> list = kinds.computeIfAbsent(kind, k -> new ArrayList<>());
      if (answers.size() == 1 && list.size() < perKind) {
        list.add(e);
      }
    }
    for (String k : onlyKinds) {
      if (!List.of("real", "generated_exact", "generated_distribution").contains(k)) {
        throw new IllegalArgumentException("--kinds: unknown kind '" + k
            + "' (real, generated_exact, generated_distribution)");
      }
    }
    JsonObject report = new JsonObject();
    Device dev = EngineDevice.choose(device, -1);
    int blockSize = EngineConfig.DEFAULT_BLOCK_SIZE;
    int blocks = batch * ((ckpt.config().maxPositions() + blockSize - 1) / blockSize);
    try (PromptEncoder encoder = PromptEncoder.forCheckpoint(ckpt.dir());
        AnswerDump answerDump = new AnswerDump(dump);
        LlamaEngine engine = new LlamaEngine(ckpt, new EngineConfig(blocks, blockSize, -1, device), dev)) {
      TextCodec codec = encoder.codec();
      BatchRunner runner = new BatchRunner(engine, batch, 16);
      for (Map.Entry<String, List<Example>> kind : kinds.entrySet()) {
        List<Example> ex = kind.getValue();
        List<GenerationRequest> reqs = new ArrayList<>();
        double[] reference = new double[ex.size()];
        double[] intended = new double[ex.size()];
        double[] referenceWithinCap = new double[ex.size()]; // share of the prompt's reference answers ending in time
        double[] referenceRepetition = new double[ex.size()]; // seq-rep-4 of the prompt's first reference answer
        for (int i = 0; i < ex.size(); i++) {
          reqs.add(GenerationRequest.greedy(kind.getKey() + i, encoder.prompt(ex.get(i).prompt(), false),
              maxNewTokens));
          // reference length: the median over the prompt's reference answers (+ EOS)
          List<String> answers = answersByPrompt.get(kind.getKey() + "\u0000" + ex.get(i).prompt());
          double[] lens = answers.stream().mapToDouble(a -> codec.encode(a).length + 1).toArray();
          reference[i] = Stats.percentile(lens, 50);
          referenceWithinCap[i] = Arrays.stream(lens).filter(n -> n <= maxNewTokens).count() / (double) lens.length;
          referenceRepetition[i] = Stats.seqRep4(codec.encode(answers.get(0)));
          intended[i] = ex.get(i).intendedUnits();
        }
        long t0 = System.nanoTime();
        Map<String, BatchRunner.Completion> done = runner.run(reqs, n -> progress(kind.getKey(), n, reqs.size()));
        double[] lengths = new double[ex.size()];
        boolean[] ended = new boolean[ex.size()];
        double[] repetition = new double[ex.size()];
        int eos = 0;
        for (int i = 0; i < ex.size(); i++) {
          BatchRunner.Completion c = done.get(kind.getKey() + i);
          lengths[i] = c.tokens().length;
          ended[i] = c.finish() == FinishReason.EOS;
          eos += ended[i] ? 1 : 0;
          repetition[i] = Stats.seqRep4(c.tokens());
          answerDump.write(kind.getKey(), ex.get(i).prompt(), codec.decode(c.tokens()), c.tokens().length, c.finish());
        }
        JsonObject k = new JsonObject();
        k.addProperty("prompts", ex.size());
        k.addProperty("greedy_eos_fraction", (double) eos / ex.size());
        Stats.put(k, "length_mean", Stats.mean(lengths));
        Stats.put(k, "length_median", Stats.percentile(lengths, 50));
        Stats.put(k, "length_p10", Stats.percentile(lengths, 10));
        Stats.put(k, "length_p90", Stats.percentile(lengths, 90));
        // loops: a greedy answer can end and still be mostly a loop, which the EOS fraction does not see
        Stats.put(k, "seq_rep_4_mean", Stats.mean(repetition));
        Stats.put(k, "loop_fraction", Arrays.stream(repetition).filter(r -> r > 0.5).count() / (double) ex.size());
        Stats.put(k, "reference_seq_rep_4_mean", Stats.mean(referenceRepetition));
        Stats.put(k, "reference_length_mean", Stats.mean(reference));
        // the reference answers' own "EOS before the cap": what a model imitating them would reach
        Stats.put(k, "reference_within_cap_fraction", Stats.mean(referenceWithinCap));
        Stats.put(k, "spearman_vs_reference_length", Stats.spearman(lengths, reference));
        if (!kind.getKey().equals("real")) {
          Stats.put(k, "spearman_vs_intended_units", Stats.spearman(lengths, intended));
          k.add("families", byFamily(ex, lengths, ended, intended));
        }
        k.addProperty("wall_s", (System.nanoTime() - t0) / 1e9);
        if (kind.getKey().equals("generated_distribution")) {
          seedSpread(runner, encoder, ex, k);
        }
        report.add(kind.getKey(), k);
        if (!json) {
          progressLine.end();
          System.out.println(kind.getKey() + ": " + k);
        }
      }
    }
    if (json) {
      System.out.println(report);
    }
    return 0;
  }

  /** Prompts, EOS fraction and Spearman against the intended units for each task family of one kind. */
  private static JsonObject byFamily(List<Example> ex, double[] lengths, boolean[] ended, double[] intended) {
    Map<String, List<Integer>> rows = new TreeMap<>();
    for (int i = 0; i < ex.size(); i++) {
      rows.computeIfAbsent(ex.get(i).family(), f -> new ArrayList<>()).add(i);
    }
    JsonObject out = new JsonObject();
    for (Map.Entry<String, List<Integer>> r : rows.entrySet()) {
      int[] idx = r.getValue().stream().mapToInt(Integer::intValue).toArray();
      double[] len = new double[idx.length];
      double[] want = new double[idx.length];
      int eos = 0;
      for (int j = 0; j < idx.length; j++) {
        len[j] = lengths[idx[j]];
        want[j] = intended[idx[j]];
        eos += ended[idx[j]] ? 1 : 0;
      }
      JsonObject f = new JsonObject();
      f.addProperty("prompts", idx.length);
      f.addProperty("greedy_eos_fraction", (double) eos / idx.length);
      Stats.put(f, "spearman_vs_intended_units", Stats.spearman(len, want));
      out.add(r.getKey(), f);
    }
    return out;
  }

  /** Lengths of the same prompt under different sampling seeds (temperature 1, top-p 0.95). */
  private void seedSpread(BatchRunner runner, PromptEncoder encoder, List<Example> ex, JsonObject k) {
    int n = Math.min(seedPrompts, ex.size());
    List<GenerationRequest> reqs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int[] prompt = encoder.prompt(ex.get(i).prompt(), false);
      for (int s = 0; s < seeds; s++) {
        reqs.add(new GenerationRequest("s" + i + "_" + s, prompt, maxNewTokens, 0, new SamplingParams(1.0, 0.95, s)));
      }
    }
    Map<String, BatchRunner.Completion> done = runner.run(reqs, c -> progress("seed spread", c, reqs.size()));
    double[] stds = new double[n];
    double[] cvs = new double[n];
    for (int i = 0; i < n; i++) {
      double[] l = new double[seeds];
      for (int s = 0; s < seeds; s++) {
        l[s] = done.get("s" + i + "_" + s).tokens().length;
      }
      stds[i] = Stats.std(l);
      cvs[i] = stds[i] / Math.max(1, Stats.mean(l));
    }
    k.addProperty("seed_spread_prompts", n);
    k.addProperty("seed_spread_seeds", seeds);
    Stats.put(k, "seed_spread_mean_std_tokens", Stats.mean(stds));
    Stats.put(k, "seed_spread_mean_cv", Stats.mean(cvs));
  }

  private final ProgressLine progressLine = new ProgressLine();

  private void progress(String what, int done, int total) {
    if (done % 10 == 0 || done == total) {
      progressLine.show(String.format(java.util.Locale.ROOT, "%s: %d/%d", what, done, total));
    }
  }
}
