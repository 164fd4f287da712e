package io.trailflink.engine.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.trailflink.engine.model.LlamaConfig;
import io.trailflink.engine.model.LlamaWeights;
import io.trailflink.engine.reference.ReferenceLlama;
import io.trailflink.engine.text.ByteLevelBpeTrainer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The training forward pass means what the engine means, and training reduces the loss and resumes. */
class TrainingLlamaTest {
  @TempDir Path tmp;

  private static LlamaConfig tiny(int vocab) {
    return new LlamaConfig(vocab, 32, 64, 2, 4, 2, 8, 1e-5, 10000.0, null, 128, true, 1, List.of(2));
  }

  @Test
  void trainingForwardMatchesTheReferenceAtEveryPosition() throws Exception {
    LlamaConfig c = tiny(50);
    var init = WeightInit.gpt2Style(c, 3);
    java.nio.file.Path dir = tmp.resolve("init");
    io.trailflink.engine.model.SafeTensors.writeCheckpoint(dir, init, io.trailflink.engine.model.DType.F32, 1);
    ReferenceLlama ref = new ReferenceLlama(
        new LlamaWeights(c, io.trailflink.engine.model.SafeTensors.indexCheckpoint(dir), "test"));
    long[] tokens = {5, 9, 13, 7, 21, 3, 44};
    try (NDManager root = NDManager.newBaseManager(Device.cpu());
        TrainingLlama net = new TrainingLlama(root, c, init);
        NDManager step = root.newSubManager()) {
      NDArray logits = net.forward(step, step.create(tokens, new Shape(1, tokens.length)));
      float[] flat = logits.toFloatArray();
      ReferenceLlama.Sequence seq = ref.newSequence();
      for (int t = 0; t < tokens.length; t++) {
        float[] expected = ref.forward(seq, (int) tokens[t]).logits();
        for (int v = 0; v < c.vocabSize(); v++) {
          assertEquals(expected[v], flat[t * c.vocabSize() + v], 1e-4, "position " + t + " token " + v);
        }
      }
    }
  }

  @Test
  void lossFallsAndARunResumesFromItsCheckpoint() throws Exception {
    List<Example> examples = new SyntheticTasks(1).generate(200);
    Path tok = tokenizer(examples);
    LlamaConfig c = tiny(400);
    List<String> log = new ArrayList<>();
    TrainingConfig cfg = new TrainingConfig(30, 2048, 128, 1e-2, 3, 0.0, 5, 15, 15);
    new ModelTrainer(c, cfg, tmp.resolve("run"), log::add).train(examples, tok);
    double untrained = Math.log(c.vocabSize()); // cross-entropy of a uniform guess
    // the last progress line (a skipped non-finite step, which can happen this early at lr 1e-2, adds a line)
    double last = loss(log.stream().filter(l -> l.startsWith("step 30/30")).findFirst().orElseThrow());
    assertTrue(last < 0.75 * untrained, "loss should fall well below ln(vocab) = " + untrained + ": " + log);
    // a longer schedule on the same run directory resumes at step 30 rather than starting again
    List<String> log2 = new ArrayList<>();
    Map<String, io.trailflink.engine.model.Tensor> w =
        new ModelTrainer(c, new TrainingConfig(45, 2048, 128, 1e-2, 3, 0.0, 5, 15, 15), tmp.resolve("run"),
            log2::add).train(examples, tok);
    assertTrue(log2.get(1).startsWith("resuming from step 30"), log2.toString());
    assertTrue(log2.stream().anyMatch(l -> l.startsWith("step 45/45")), log2.toString());
    assertEquals(LlamaWeights.expectedShapes(c).size(), w.size());
  }

  @Test
  void theUnlikelihoodTermMakesEarlierAnswerTokensLessLikely() throws Exception {
    // one batch of examples whose answers repeat tokens, trained on again and again: the logged unlikelihood
    // figure is then measured on the same batch in both runs
    List<Example> examples = new SyntheticTasks(2).generate(400).stream()
        .filter(e -> e.answer().length() > 40 && e.answer().length() < 120).limit(12).toList();
    Path tok = tokenizer(examples);
    LlamaConfig c = tiny(400);
    // the same run twice, but for the weight of the unlikelihood term (near 0: logged, no effect on training)
    double without = lastUnlikelihood(c, examples, tok, 1e-9, "plain");
    double with = lastUnlikelihood(c, examples, tok, 5.0, "weighted");
    assertTrue(Double.isFinite(with) && with > 0 && without > 0, with + " vs " + without);
    assertTrue(with < 0.8 * without, "the weighted run should make earlier answer tokens less likely: " + with
        + " vs " + without);
  }

  /** A 400-token BPE tokenizer trained on the examples' prompts and answers. */
  private Path tokenizer(List<Example> examples) throws Exception {
    List<String> texts = new ArrayList<>();
    examples.forEach(e -> {
      texts.add(e.prompt());
      texts.add(e.answer());
    });
    Path tok = tmp.resolve("tokenizer.json");
    new ByteLevelBpeTrainer(400, PromptTemplate.SPECIAL_TOKENS).train(texts, tok);
    return tok;
  }

  private double lastUnlikelihood(LlamaConfig c, List<Example> examples, Path tok, double weight, String run)
      throws Exception {
    List<String> log = new ArrayList<>();
    new ModelTrainer(c, new TrainingConfig(20, 4096, 128, 1e-2, 3, 0.0, 5, 20, 20, weight), tmp.resolve(run),
        log::add).train(examples, tok);
    assertTrue(log.get(0).startsWith("corpus: 1 batches"), log.toString());
    // the step's progress line, not whatever comes second (a skipped non-finite step, which can happen this early
    // at lr 1e-2, adds a line before it)
    return value(log.stream().filter(l -> l.startsWith("step 20/20")).findFirst().orElseThrow(), "unlikelihood");
  }

  /** Regression: one infinite gradient made every later gradient NaN (DJL zeroes by grad − grad). */
  @Test
  void anInfiniteGradientDoesNotPoisonLaterSteps() {
    LlamaConfig c = tiny(50);
    try (NDManager root = NDManager.newBaseManager(Device.cpu());
        TrainingLlama net = new TrainingLlama(root, c, WeightInit.gpt2Style(c, 3));
        NDManager step = root.newSubManager()) {
      try (ai.djl.training.GradientCollector gc = ai.djl.engine.Engine.getInstance().newGradientCollector()) {
        gc.backward(net.forward(step, step.create(new long[] {1, 2, 3}, new Shape(1, 3))).sum());
      }
      NDArray g = net.params.get(LlamaWeights.EMBED).getGradient();
      g.attach(step);
      g.set(new ai.djl.ndarray.index.NDIndex("0, 0"), Float.POSITIVE_INFINITY);
      ModelTrainer.zeroGradients(net, step);
      for (NDArray p : net.params.values()) {
        NDArray grad = p.getGradient();
        grad.attach(step);
        assertEquals(0f, grad.abs().sum().getFloat(), "gradient of a parameter after zeroing");
      }
    }
  }

  private static double loss(String line) {
    return value(line, "loss");
  }

  private static double value(String line, String name) {
    String[] parts = line.split("\\s+");
    for (int i = 0; i < parts.length; i++) {
      if (parts[i].equals(name)) {
        return Double.parseDouble(parts[i + 1]);
      }
    }
    throw new AssertionError("no " + name + " in " + line);
  }
}
