package io.trailflink.cli;

import io.trailflink.engine.model.Checkpoint;
import io.trailflink.engine.model.LlamaConfig;
import io.trailflink.engine.model.SafeTensors;
import io.trailflink.engine.model.Tensor;
import io.trailflink.engine.text.ByteLevelBpeTrainer;
import io.trailflink.engine.text.TextCodec;
import io.trailflink.engine.train.Corpus;
import io.trailflink.engine.train.Example;
import io.trailflink.engine.train.ModelTrainer;
import io.trailflink.engine.train.PromptTemplate;
import io.trailflink.engine.train.TrainingConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code trail train-model}: builds the corpus, trains the tokenizer and the model, exports a Hugging Face checkpoint.
 * Every stage is kept in the run directory, so running the same command again resumes where it stopped.
 */
@Command(name = "train-model", description = "Train the bundled model (resumable: rerun to continue).")
final class TrainModelCommand implements Callable<Integer> {
  @Option(names = "--data", required = true, description = "Public data folder with alpaca/ and alpaca_eval/.")
  Path data;

  @Option(names = "--run-dir", description = "Working folder for corpus, tokenizer, checkpoints (default: runs/trail-tiny).")
  Path runDir;

  @Option(names = "--out", description = "Where the finished model goes (default: models/trail-tiny).")
  Path out;

  @Option(names = "--steps", defaultValue = "6000", description = "Optimizer steps in all (default: ${DEFAULT-VALUE}).") int steps;
  @Option(names = "--vocab", defaultValue = "4096", description = "BPE vocabulary size of a new tokenizer (default: ${DEFAULT-VALUE}).") int vocab;
  @Option(names = "--hidden", defaultValue = "192", description = "Hidden size (default: ${DEFAULT-VALUE}).") int hidden;
  @Option(names = "--layers", defaultValue = "6", description = "Decoder layers (default: ${DEFAULT-VALUE}).") int layers;
  @Option(names = "--heads", defaultValue = "6", description = "Query heads (default: ${DEFAULT-VALUE}).") int heads;
  @Option(names = "--kv-heads", defaultValue = "2", description = "Key-value heads, grouped-query attention (default: ${DEFAULT-VALUE}).") int kvHeads;
  @Option(names = "--intermediate", defaultValue = "512", description = "SwiGLU MLP width (default: ${DEFAULT-VALUE}).") int intermediate;
  @Option(names = "--context", defaultValue = "1024", description = "max_position_embeddings of the model.") int context;
  @Option(names = "--max-seq", defaultValue = "512", description = "Longest training example in tokens.") int maxSeq;
  @Option(names = "--batch-tokens", defaultValue = "4096", description = "Padded tokens per batch (default: ${DEFAULT-VALUE}).") int batchTokens;
  @Option(names = "--lr", defaultValue = "3e-3", description = "Peak AdamW learning rate, cosine decay after warm-up (default: ${DEFAULT-VALUE}).") double lr;
  @Option(names = "--warmup", defaultValue = "200", description = "Linear warm-up steps (default: ${DEFAULT-VALUE}).") int warmup;
  @Option(names = "--synthetic", defaultValue = "40000", description = "Generated training examples.") int synthetic;
  @Option(names = "--synthetic-heldout", defaultValue = "2400", description = "Generated held-out examples (default: ${DEFAULT-VALUE}).") int syntheticHeldOut;
  @Option(names = "--seed", defaultValue = "17", description = "Seed of the generated tasks, held-out split, batch order and initial weights (default: ${DEFAULT-VALUE}).") long seed;
  @Option(names = "--checkpoint-every", defaultValue = "100", description = "Steps between resumable checkpoints (default: ${DEFAULT-VALUE}).") int checkpointEvery;
  @Option(names = "--real-weight", defaultValue = "1", description = "Repeat each real instruction pair this often "
      + "in a new corpus (default: ${DEFAULT-VALUE}).") int realWeight;
  @Option(names = "--real-max-answer-tokens", defaultValue = "0", description = "Train only on real pairs whose "
      + "answer has at most this many tokens (0: no cap; --max-seq drops longer sequences either way).")
  int realMaxAnswerTokens;
  @Option(names = "--unlikelihood", defaultValue = "0", description = "Weight of the token-level unlikelihood loss "
      + "against repeating earlier answer tokens (Welleck et al. 2020), added to the cross-entropy; 0: none "
      + "(default: ${DEFAULT-VALUE}).") double unlikelihood;
  @Option(names = "--init-from", description = "Fine-tune: start from this Hugging Face model directory (its "
      + "architecture and tokenizer) instead of random weights; fresh optimizer and schedule.")
  Path initFrom;

  @Override
  public Integer call() throws Exception {
    Path dataDir = data;
    if (!Files.isDirectory(dataDir.resolve("alpaca_eval"))) {
      throw new IllegalArgumentException("--data " + dataDir + ": no alpaca_eval/ folder there");
    }
    Path run = runDir != null ? runDir : TrailCli.home().resolve("runs/trail-tiny");
    Path outDir = out != null ? out : TrailCli.defaultModel();
    Files.createDirectories(run);
    Path trainFile = run.resolve("train.jsonl");
    Path heldFile = run.resolve("heldout.jsonl");
    if (!Files.exists(trainFile)) {
      Corpus.Split split = Corpus.build(dataDir, synthetic, syntheticHeldOut, seed);
      Corpus.writeJsonl(heldFile, split.heldOut());
      Corpus.writeJsonl(trainFile, Corpus.weightReal(split.train(), realWeight, seed + 2));
      System.err.printf("corpus: %d train, %d held-out examples -> %s%n", split.train().size(),
          split.heldOut().size(), run);
    }
    List<Example> train = Corpus.readJsonl(trainFile);
    Path tokenizer = run.resolve("tokenizer.json");
    LlamaConfig config = new LlamaConfig(vocab, hidden, intermediate, layers, heads, kvHeads, hidden / heads, 1e-5,
        10000.0, null, context, true, 1, List.of(2));
    Map<String, Tensor> startFrom = null;
    if (initFrom != null) {
      Checkpoint base = Checkpoint.load(initFrom); // validates config and weight shapes, names the bad file
      config = base.config();
      startFrom = SafeTensors.loadCheckpoint(initFrom);
      if (!Files.exists(tokenizer)) {
        Files.copy(base.tokenizerFile(), tokenizer);
      }
    }
    if (!Files.exists(tokenizer)) {
      long t0 = System.nanoTime();
      List<String> texts = new ArrayList<>();
      for (Example e : train) {
        texts.add(e.prompt());
        texts.add(e.answer());
      }
      new ByteLevelBpeTrainer(vocab, PromptTemplate.SPECIAL_TOKENS).train(texts, tokenizer);
      System.err.printf("tokenizer: %d tokens trained in %.0f s -> %s%n", vocab, (System.nanoTime() - t0) / 1e9,
          tokenizer);
    }
    if (realMaxAnswerTokens > 0) {
      int before = train.size();
      try (TextCodec codec = new TextCodec(tokenizer)) {
        train = Corpus.capRealAnswers(train, text -> codec.encode(text).length, realMaxAnswerTokens);
      }
      System.err.printf("real answers over %d tokens left out: %d examples%n", realMaxAnswerTokens,
          before - train.size());
    }
    TrainingConfig tc = new TrainingConfig(steps, batchTokens, maxSeq, lr, warmup, 0.1, seed, checkpointEvery, 10,
        unlikelihood);
    Map<String, Tensor> weights = new ModelTrainer(config, tc, run, System.err::println).train(train, tokenizer,
        startFrom);
    ModelTrainer.export(outDir, config, weights, tokenizer);
    writeLossCurve(initFrom == null ? null : initFrom.resolve("loss.csv"), run.resolve("loss.csv"),
        outDir.resolve("loss.csv"));
    plotLoss(outDir.resolve("loss.csv"), outDir.resolve("loss.png"));
    System.err.println("model written to " + outDir);
    return 0;
  }

  /**
   * The model's whole loss curve: a fine-tuned model's starts with its base model's curve (when the base has one),
   * this run's steps following on from the base's last step.
   */
  static void writeLossCurve(Path base, Path run, Path out) throws java.io.IOException {
    List<String> lines = new ArrayList<>();
    long offset = 0;
    if (base != null && Files.isRegularFile(base)) {
      lines.addAll(Files.readAllLines(base));
      String last = lines.get(lines.size() - 1);
      offset = lines.size() > 1 ? Long.parseLong(last.substring(0, last.indexOf(','))) : 0;
    }
    List<String> own = Files.readAllLines(run);
    if (lines.isEmpty()) {
      lines.add(own.get(0));
    }
    for (String row : own.subList(1, own.size())) {
      int comma = row.indexOf(',');
      lines.add((Long.parseLong(row.substring(0, comma)) + offset) + row.substring(comma));
    }
    Files.write(out, lines);
  }

  /** Training loss per logged step, as a PNG beside the CSV. */
  static void plotLoss(Path csv, Path png) throws java.io.IOException {
    List<String> lines = Files.readAllLines(csv);
    double[] steps = new double[lines.size() - 1];
    double[] loss = new double[lines.size() - 1];
    for (int i = 1; i < lines.size(); i++) {
      String[] f = lines.get(i).split(",");
      steps[i - 1] = Double.parseDouble(f[0]);
      loss[i - 1] = Double.parseDouble(f[2]);
    }
    new PngChart("Training loss (answer tokens)", "step", "cross-entropy (nats/token)")
        .add("loss", steps, loss).write(png);
  }
}
