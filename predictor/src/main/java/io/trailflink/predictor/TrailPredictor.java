package io.trailflink.predictor;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import io.trailflink.engine.model.DType;
import io.trailflink.engine.model.SafeTensors;
import io.trailflink.engine.model.Tensor;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The TRAIL length predictor as shipped: the MLP, its bins, the layer it reads and the refresh cadence, with the
 * smoothing. Stored as a directory next to the model: {@code predictor.json} (this class's {@link Spec}) and
 * {@code predictor.safetensors} ({@link LengthMlp#toTensors}). Thread-safe; per-request state is the caller's
 * {@link RemainingLength}.
 */
public final class TrailPredictor implements Serializable {
  private static final long serialVersionUID = 1L;
  public static final String SPEC_FILE = "predictor.json";
  public static final String WEIGHTS_FILE = "predictor.safetensors";

  /**
   * What {@code predictor.json} records.
   *
   * @param layer hidden state read: the residual stream after this many decoder layers
   * @param hidden embedding width (floats)
   * @param units MLP hidden units
   * @param bins length bins
   * @param cap output cap the bins cover (tokens)
   * @param refreshEvery run the MLP every K generated tokens (1 = the paper's every token)
   * @param model the serving model the predictor was trained on
   * @param version short name carried on every prediction, e.g. trail-mlp-l3
   */
  public record Spec(int layer, int hidden, int units, int bins, int cap, int refreshEvery, String model,
      String version) implements Serializable {}

  private final Spec spec;
  private final LengthMlp mlp;
  private final LengthBins lengthBins;
  private final BayesianSmoother smoother;

  public TrailPredictor(Spec spec, LengthMlp mlp) {
    if (mlp.inputSize() != spec.hidden() || mlp.bins() != spec.bins()) {
      throw new IllegalArgumentException("MLP takes " + mlp.inputSize() + " inputs and gives " + mlp.bins()
          + " bins; predictor.json says hidden " + spec.hidden() + ", bins " + spec.bins());
    }
    if (spec.refreshEvery() < 1) {
      throw new IllegalArgumentException("refreshEvery must be >= 1, got " + spec.refreshEvery());
    }
    this.spec = spec;
    this.mlp = mlp;
    this.lengthBins = new LengthBins(spec.bins(), spec.cap());
    this.smoother = new BayesianSmoother(lengthBins);
  }

  /** A copy refreshing every {@code k} tokens. */
  public TrailPredictor withRefreshEvery(int k) {
    Spec s = spec;
    return new TrailPredictor(new Spec(s.layer(), s.hidden(), s.units(), s.bins(), s.cap(), k, s.model(), s.version()),
        mlp);
  }

  /**
   * Loads a predictor directory and checks it against the serving model's hidden size; every problem (missing
   * or corrupt file, wrong dimension) is an {@link IllegalArgumentException} naming the file — at start-up, never
   * per request.
   */
  public static TrailPredictor load(Path dir, int modelHidden) {
    Path specFile = dir.resolve(SPEC_FILE);
    Path weights = dir.resolve(WEIGHTS_FILE);
    if (!Files.isRegularFile(specFile)) {
      throw new IllegalArgumentException("no predictor at " + dir + ": " + SPEC_FILE + " is missing");
    }
    Spec spec;
    try {
      spec = new Gson().fromJson(Files.readString(specFile), Spec.class);
      if (spec == null || spec.hidden() <= 0 || spec.bins() < 2 || spec.cap() < spec.bins() || spec.version() == null) {
        throw new JsonParseException("hidden, bins, cap and version are required");
      }
    } catch (IOException | JsonParseException e) {
      throw new IllegalArgumentException("corrupt " + specFile + ": " + e.getMessage());
    }
    if (spec.hidden() != modelHidden) {
      throw new IllegalArgumentException(specFile + " expects embeddings of " + spec.hidden()
          + " floats (layer " + spec.layer() + ") but the model's hidden size is " + modelHidden);
    }
    if (!Files.isRegularFile(weights)) {
      throw new IllegalArgumentException("no predictor weights: " + weights + " is missing");
    }
    LengthMlp mlp;
    try {
      mlp = LengthMlp.fromTensors(SafeTensors.readFile(weights));
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("corrupt " + weights + ": " + e.getMessage());
    }
    try {
      return new TrailPredictor(spec, mlp);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(weights + ": " + e.getMessage());
    }
  }

  /** Writes {@code predictor.json} (with {@code extra} facts merged in) and {@code predictor.safetensors}. */
  public void save(Path dir, JsonObject extra) {
    try {
      Files.createDirectories(dir);
      Gson gson = new GsonBuilder().setPrettyPrinting().create();
      JsonObject json = gson.toJsonTree(spec).getAsJsonObject();
      if (extra != null) {
        extra.entrySet().forEach(e -> json.add(e.getKey(), e.getValue()));
      }
      Files.writeString(dir.resolve(SPEC_FILE), gson.toJson(json) + "\n");
      SafeTensors.writeFile(dir.resolve(WEIGHTS_FILE), mlp.toTensors(), DType.F32);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Reads only the spec of a predictor directory (its layer, for configuring the engine's tap). */
  public static Spec readSpec(Path dir) {
    try {
      return new Gson().fromJson(JsonParser.parseString(Files.readString(dir.resolve(SPEC_FILE))), Spec.class);
    } catch (IOException | JsonParseException e) {
      throw new IllegalArgumentException("cannot read " + dir.resolve(SPEC_FILE) + ": " + e.getMessage());
    }
  }

  /** Initial prediction from the prompt-mean embedding, before the first output token. */
  public RemainingLength initial(float[] promptMean) {
    float[] p = mlp.probabilities(check(promptMean));
    return new RemainingLength(p, 0, lengthBins.expectation(p));
  }

  /** Whether a request last refreshed at {@code state.refreshedAt()} is due at {@code generated} tokens. */
  public boolean due(RemainingLength state, int generated) {
    return generated - state.refreshedAt() >= spec.refreshEvery();
  }

  /** Refreshed prediction from the newest token's embedding, computed with {@code generated} tokens out. */
  public RemainingLength refresh(RemainingLength state, float[] embedding, int generated) {
    float[] now = mlp.probabilities(check(embedding));
    float[] post = smoother.update(state.posterior(), now, Math.max(0, generated - state.refreshedAt()));
    return new RemainingLength(post, generated, lengthBins.expectation(post));
  }

  /** Raw classifier probabilities (no smoothing), for evaluation. */
  public float[] probabilities(float[] embedding, int offset) {
    return mlp.probabilities(embedding, offset);
  }

  private float[] check(float[] x) {
    if (x.length != spec.hidden()) {
      throw new IllegalArgumentException("embedding of " + x.length + " floats; predictor takes " + spec.hidden());
    }
    return x;
  }

  public Spec spec() {
    return spec;
  }

  public LengthBins bins() {
    return lengthBins;
  }

  public BayesianSmoother smoother() {
    return smoother;
  }

  public LengthMlp mlp() {
    return mlp;
  }

  public Map<String, Tensor> tensors() {
    return mlp.toTensors();
  }
}
