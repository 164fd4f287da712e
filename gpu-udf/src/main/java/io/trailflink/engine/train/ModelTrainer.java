package io.trailflink.engine.train;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.trailflink.engine.model.DType;
import io.trailflink.engine.model.GenerationDefaults;
import io.trailflink.engine.model.LlamaConfig;
import io.trailflink.engine.model.SafeTensors;
import io.trailflink.engine.model.Tensor;
import io.trailflink.engine.text.TextCodec;
import io.trailflink.engine.text.TokenizerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Trains a Llama model with DJL autograd: teacher-forced cross-entropy on answer tokens (plus, when asked, the
 * token-level unlikelihood loss against repeating earlier answer tokens), AdamW, warm-up + cosine learning rate,
 * global-norm gradient clipping at 1.0.
 *
 * <p>Resumable: every {@code checkpointEvery} steps the run directory gets {@code checkpoint/} (weights, AdamW
 * moments, step, data position) written to a temporary folder and then renamed, so a killed run resumes from its
 * last complete checkpoint with the same data order and schedule. {@code loss.csv} keeps the curve.
 */
public final class ModelTrainer {
  private static final double BETA1 = 0.9;
  private static final double BETA2 = 0.95;
  private static final double EPS = 1e-8;
  private static final double CLIP = 1.0;

  private final LlamaConfig model;
  private final TrainingConfig cfg;
  private final Path runDir;
  private final Consumer<String> progress;

  public ModelTrainer(LlamaConfig model, TrainingConfig cfg, Path runDir, Consumer<String> progress) {
    if (cfg.maxSeqLen() > model.maxPositions()) {
      throw new IllegalArgumentException("longest training sequence (" + cfg.maxSeqLen()
          + " tokens) exceeds the model's context (max_position_embeddings " + model.maxPositions() + ")");
    }
    this.model = model;
    this.cfg = cfg;
    this.runDir = runDir;
    this.progress = progress;
  }

  /** Trains to {@code cfg.steps()} (resuming if the run directory has a checkpoint); returns the final weights. */
  public Map<String, Tensor> train(List<Example> examples, Path tokenizerJson) throws IOException {
    return train(examples, tokenizerJson, null);
  }

  /**
   * As {@link #train(List, Path)}, but a run without a checkpoint starts from {@code startFrom} (Hugging Face names,
   * the shapes of this model) with fresh optimizer moments and schedule — fine-tuning — instead of random weights.
   */
  public Map<String, Tensor> train(List<Example> examples, Path tokenizerJson, Map<String, Tensor> startFrom)
      throws IOException {
    Files.createDirectories(runDir);
    Path ckpt = runDir.resolve("checkpoint");
    int eosId;
    TrainingBatches data;
    try (TextCodec codec = new TextCodec(tokenizerJson)) {
      eosId = codec.encode(PromptTemplate.EOS)[0];
      data = new TrainingBatches(examples, codec, eosId, cfg.maxSeqLen(), cfg.tokensPerBatch());
    }
    progress.accept(String.format("corpus: %d batches, %d tokens per epoch, %d examples over %d tokens dropped",
        data.batches.size(), data.tokens, data.dropped, cfg.maxSeqLen()));
    int step = 0;
    int epoch = 0;
    int position = 0;
    double elapsed = 0;
    Map<String, Tensor> init;
    Map<String, Tensor> moments = Map.of();
    if (Files.isDirectory(ckpt)) {
      JsonObject state = JsonParser.parseString(Files.readString(ckpt.resolve("state.json"))).getAsJsonObject();
      step = state.get("step").getAsInt();
      epoch = state.get("epoch").getAsInt();
      position = state.get("position").getAsInt();
      elapsed = state.get("elapsed_s").getAsDouble();
      init = SafeTensors.readFile(ckpt.resolve("model.safetensors"));
      moments = SafeTensors.readFile(ckpt.resolve("optimizer.safetensors"));
      progress.accept("resuming from step " + step + " (" + ckpt + ")");
    } else if (startFrom != null) {
      init = startFrom;
      progress.accept("fine-tuning from the given weights (fresh optimizer and schedule)");
    } else {
      init = WeightInit.gpt2Style(model, cfg.seed());
    }
    try (NDManager root = NDManager.newBaseManager(Device.cpu());
        TrainingLlama net = new TrainingLlama(root, model, init)) {
      Map<String, NDArray> m = new LinkedHashMap<>();
      Map<String, NDArray> v = new LinkedHashMap<>();
      for (Map.Entry<String, NDArray> p : net.params.entrySet()) {
        Tensor mt = moments.get("m." + p.getKey());
        Tensor vt = moments.get("v." + p.getKey());
        m.put(p.getKey(), mt == null ? net.manager.zeros(p.getValue().getShape()) : net.manager.create(mt.data(), p.getValue().getShape()));
        v.put(p.getKey(), vt == null ? net.manager.zeros(p.getValue().getShape()) : net.manager.create(vt.data(), p.getValue().getShape()));
      }
      List<Integer> order = data.order(cfg.seed(), epoch);
      double lossSum = 0;
      double ulSum = 0; // unlikelihood loss, logged beside the cross-entropy (loss.csv keeps the cross-entropy)
      int skipped = 0;
      long tokSum = 0;
      int logged = 0;
      long windowStart = System.nanoTime();
      while (step < cfg.steps()) {
        if (position >= order.size()) {
          epoch++;
          position = 0;
          order = data.order(cfg.seed(), epoch);
        }
        List<TrainingBatches.Sequence> rows = data.batches.get(order.get(position++));
        TrainingBatches.Batch batch = TrainingBatches.pad(rows);
        long[] candidates = cfg.unlikelihoodWeight() > 0
            ? TrainingBatches.earlierAnswerTokens(rows, model.vocabSize()) : null;
        double lr = cfg.learningRateAt(step);
        double[] losses = step(net, batch, candidates, m, v, step + 1, lr);
        double loss = losses[0];
        ulSum += Double.isNaN(loss) ? 0 : losses[1];
        step++;
        if (Double.isNaN(loss)) {
          skipped++;
          progress.accept("step " + step + ": non-finite loss or gradient, update skipped (" + skipped + " so far)");
          loss = 0;
          logged--;
        }
        lossSum += loss;
        tokSum += (long) batch.rows() * batch.cols();
        logged++;
        if (step % cfg.logEvery() == 0 || step == cfg.steps()) {
          double secs = (System.nanoTime() - windowStart) / 1e9;
          elapsed += secs;
          double tps = tokSum / secs;
          double eta = (cfg.steps() - step) * (secs / Math.max(1, logged));
          String ul = cfg.unlikelihoodWeight() > 0 ? String.format("  unlikelihood %.4f", ulSum / Math.max(1, logged)) : "";
          progress.accept(String.format("step %d/%d  epoch %d  loss %.4f%s  lr %.2e  %.0f tok/s  elapsed %.0fs  eta %.0fs",
              step, cfg.steps(), epoch, lossSum / Math.max(1, logged), ul, lr, tps, elapsed, eta));
          Files.writeString(runDir.resolve("loss.csv"),
              (Files.exists(runDir.resolve("loss.csv")) ? "" : "step,epoch,loss,lr,tokens_per_s,elapsed_s\n")
                  + String.format("%d,%d,%.5f,%.6g,%.0f,%.0f%n", step, epoch, lossSum / Math.max(1, logged), lr, tps,
                      elapsed),
              StandardOpenOption.CREATE, StandardOpenOption.APPEND);
          lossSum = 0;
          ulSum = 0;
          tokSum = 0;
          logged = 0;
          windowStart = System.nanoTime();
        }
        if (step % cfg.checkpointEvery() == 0 || step == cfg.steps()) {
          saveCheckpoint(ckpt, net, m, v, step, epoch, position, elapsed);
        }
      }
      return net.export();
    }
  }

  /**
   * One AdamW update; returns {cross-entropy, unlikelihood loss} per answer token, or NaN first when the update was
   * skipped. {@code candidates}: the unlikelihood candidates of {@link TrainingBatches#earlierAnswerTokens}, or null.
   */
  private double[] step(TrainingLlama net, TrainingBatches.Batch batch, long[] candidates, Map<String, NDArray> m,
      Map<String, NDArray> v, int t, double lr) {
    try (NDManager step = net.manager.newSubManager()) {
      double lossValue;
      double ulValue = 0;
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        zeroGradients(net, step);
        NDArray inputs = step.create(batch.inputs(), new Shape(batch.rows(), batch.cols()));
        NDArray targets = step.create(batch.targets(), new Shape((long) batch.rows() * batch.cols(), 1));
        NDArray weights = step.create(batch.weights(), new Shape((long) batch.rows() * batch.cols(), 1));
        NDArray logits = net.forward(step, inputs).reshape(-1, model.vocabSize());
        NDArray logProbs = logits.logSoftmax(-1);
        NDArray picked = logProbs.get(new NDIndex().addAllDim().addPickDim(targets));
        float perToken = 1f / Math.max(1, batch.answerTokens());
        NDArray loss = picked.mul(weights).sum().neg().mul(perToken);
        NDArray total = loss;
        NDArray ul = null;
        if (candidates != null && candidates.length > 0) {
          // -log(1 - p(c)) over the candidates c; 1 - p floored so a certain repeat gives a large, finite penalty
          NDArray picks = logProbs.take(step, step.create(candidates));
          ul = picks.exp().neg().add(1f).maximum(1e-5f).log().sum().neg().mul(perToken);
          total = loss.add(ul.mul((float) cfg.unlikelihoodWeight()));
        }
        gc.backward(total);
        lossValue = loss.getFloat();
        if (ul != null) {
          ulValue = ul.getFloat();
          lossValue = Double.isFinite(ulValue) ? lossValue : Double.NaN;
        }
      }
      NDArray[] grads = new NDArray[net.params.size()];
      double sq = 0;
      int i = 0;
      for (NDArray p : net.params.values()) {
        NDArray g = p.getGradient();
        g.attach(step);
        grads[i++] = g;
        sq += g.square().sum().getFloat();
      }
      if (!Double.isFinite(lossValue) || !Double.isFinite(sq)) {
        return new double[] {Double.NaN, ulValue}; // a non-finite batch must not poison the weights: skip its update
      }
      double clip = Math.min(1.0, CLIP / (Math.sqrt(sq) + 1e-6));
      double bc1 = 1 - Math.pow(BETA1, t);
      double bc2 = 1 - Math.pow(BETA2, t);
      i = 0;
      for (Map.Entry<String, NDArray> e : net.params.entrySet()) {
        NDArray p = e.getValue();
        NDArray g = grads[i++].mul((float) clip);
        NDArray mi = m.get(e.getKey());
        NDArray vi = v.get(e.getKey());
        mi.muli((float) BETA1).addi(g.mul((float) (1 - BETA1)));
        vi.muli((float) BETA2).addi(g.square().mul((float) (1 - BETA2)));
        NDArray mHat = owned(step, mi.div((float) bc1));
        NDArray denom = owned(step, vi.div((float) bc2)).sqrt().add((float) EPS);
        NDArray update = mHat.div(denom);
        if (p.getShape().dimension() > 1) {
          update = update.add(owned(step, p.mul((float) cfg.weightDecay())));
        }
        p.subi(update.mul((float) lr));
      }
      return new double[] {lossValue, ulValue};
    }
  }

  /**
   * Sets every gradient to 0 by assignment. DJL's {@code GradientCollector.zeroGradients()} computes
   * {@code grad − grad}, which turns an infinite gradient into NaN for good; one bad batch then poisons every
   * later step.
   */
  static void zeroGradients(TrainingLlama net, NDManager step) {
    for (NDArray p : net.params.values()) {
      NDArray g = owned(step, p.getGradient());
      g.set(new NDIndex("..."), 0f);
    }
  }

  private static NDArray owned(NDManager step, NDArray a) {
    a.attach(step);
    return a;
  }

  private void saveCheckpoint(Path ckpt, TrainingLlama net, Map<String, NDArray> m, Map<String, NDArray> v,
      int step, int epoch, int position, double elapsed) throws IOException {
    for (Map.Entry<String, NDArray> p : net.params.entrySet()) {
      try (NDManager check = net.manager.newSubManager()) {
        NDArray nan = owned(check, p.getValue().isNaN());
        NDArray inf = owned(check, p.getValue().isInfinite());
        if (nan.logicalOr(inf).sum().getLong() > 0) { // never overwrite the last good checkpoint with a poisoned one
          throw new IllegalStateException("weights of " + p.getKey() + " are not finite at step " + step
              + "; last good checkpoint kept in " + ckpt);
        }
      }
    }
    Path tmp = runDir.resolve("checkpoint.tmp");
    deleteTree(tmp);
    Files.createDirectories(tmp);
    SafeTensors.writeFile(tmp.resolve("model.safetensors"), net.export(), DType.F32);
    Map<String, Tensor> opt = new LinkedHashMap<>();
    m.forEach((n, a) -> opt.put("m." + n, new Tensor(a.toFloatArray(), a.getShape().getShape())));
    v.forEach((n, a) -> opt.put("v." + n, new Tensor(a.toFloatArray(), a.getShape().getShape())));
    SafeTensors.writeFile(tmp.resolve("optimizer.safetensors"), opt, DType.F32);
    Files.writeString(tmp.resolve("config.json"), model.toJson().toString());
    JsonObject state = new JsonObject();
    state.addProperty("step", step);
    state.addProperty("epoch", epoch);
    state.addProperty("position", position);
    state.addProperty("elapsed_s", elapsed);
    Files.writeString(tmp.resolve("state.json"), state.toString());
    deleteTree(ckpt);
    Files.move(tmp, ckpt, StandardCopyOption.ATOMIC_MOVE);
  }

  /** Writes a Hugging Face model directory: config, weights, tokenizer (with its chat template) and generation defaults. */
  public static void export(Path out, LlamaConfig config, Map<String, Tensor> weights, Path tokenizerJson)
      throws IOException {
    Files.createDirectories(out);
    Files.writeString(out.resolve("config.json"), config.toJson().toString());
    SafeTensors.writeCheckpoint(out, weights, DType.F32, 1);
    Files.copy(tokenizerJson, out.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
    Files.writeString(out.resolve(TokenizerConfig.FILE),
        new GsonBuilder().setPrettyPrinting().create().toJson(PromptTemplate.tokenizerConfig()) + "\n");
    JsonObject gen = new JsonObject();
    gen.addProperty("bos_token_id", config.bosTokenId());
    gen.addProperty("eos_token_id", config.eosTokenIds().get(0));
    gen.addProperty("max_new_tokens", 512);
    Files.writeString(out.resolve(GenerationDefaults.FILE), gen.toString());
  }

  private static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (var walk = Files.walk(p)) {
      for (Path x : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(x);
      }
    }
  }
}
