package io.trailflink.predictor;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import io.trailflink.engine.model.DType;
import io.trailflink.engine.model.SafeTensors;
import io.trailflink.engine.model.Tensor;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * A length predictor that does not look inside the LLM: a softmax classifier over the length bins on hashed uni-
 * and bigrams of the prompt, predicting the total output length before any prefill. Two roles, two feature kinds:
 * <ul>
 *   <li>{@link Features#WORDS}, the evaluation's prompt-only baseline on the prompt text, standing in for the
 *       paper's DistilBERT prompt classifier, which cannot be had here (no hub access, no GPU);</li>
 *   <li>{@link Features#TOKENS}, the job's <em>prior</em> on the templated prompt's token ids (what the scheduler
 *       holds, whatever the request's form: prompt or chat messages): for a waiting request TRAIL has not embedded
 *       yet (no KV room to park it), it ranks the backlog and places the request in the ETA estimate until the
 *       tap-layer prediction arrives. It costs microseconds and no engine time.</li>
 * </ul>
 * Trained with plain SGD and L2. Stored next to the TRAIL predictor as {@code prompt-prior.json} ({@link Spec} and
 * held-out figures) and {@code prompt-prior.safetensors} ({@code weight} (buckets, bins), {@code bias} (bins)).
 * Immutable once trained; thread-safe.
 */
public final class PromptPrior implements Serializable {
  private static final long serialVersionUID = 1L;
  public static final String SPEC_FILE = "prompt-prior.json";
  public static final String WEIGHTS_FILE = "prompt-prior.safetensors";
  /** Hash buckets of the features (the shipped size: 2^14 × 10 bins = 640 KB). */
  public static final int DEFAULT_BUCKETS = 1 << 14;

  /** What the classifier reads; the name is stored with the weights and checked on load. */
  public enum Features {
    /** Lower-cased words of the prompt text. */
    WORDS("words-uni-bi-v1"),
    /** Token ids of the templated prompt (the model's own tokenizer and chat template). */
    TOKENS("tokens-uni-bi-v1");

    final String wireName;

    Features(String wireName) {
      this.wireName = wireName;
    }
  }

  /** What {@code prompt-prior.json} records. */
  public record Spec(int bins, int cap, int buckets, String features) {}

  private final LengthBins bins;
  private final int buckets;
  private final Features kind;
  private final float[] w; // (buckets, bins)
  private final float[] b;

  private PromptPrior(LengthBins bins, int buckets, Features kind, float[] w, float[] b) {
    this.bins = bins;
    this.buckets = buckets;
    this.kind = kind;
    this.w = w;
    this.b = b;
  }

  /** Trains on prompt texts and their true total output lengths (tokens): the evaluation's baseline. */
  public static PromptPrior train(List<String> prompts, int[] totalLengths, LengthBins bins, int epochs, long seed) {
    PromptPrior m = untrained(bins, 1 << 16, Features.WORDS);
    return m.fit(prompts.stream().map(m::wordFeatures).toList(), totalLengths, epochs, seed);
  }

  /** Trains on templated prompts' token ids and their true total output lengths (tokens): the job's prior. */
  public static PromptPrior trainOnTokens(List<int[]> prompts, int[] totalLengths, LengthBins bins, int buckets,
      int epochs, long seed) {
    PromptPrior m = untrained(bins, buckets, Features.TOKENS);
    return m.fit(prompts.stream().map(m::tokenFeatures).toList(), totalLengths, epochs, seed);
  }

  private static PromptPrior untrained(LengthBins bins, int buckets, Features kind) {
    if (buckets < 1 || Integer.bitCount(buckets) != 1) {
      throw new IllegalArgumentException("buckets must be a power of two, got " + buckets);
    }
    return new PromptPrior(bins, buckets, kind, new float[buckets * bins.count()], new float[bins.count()]);
  }

  private PromptPrior fit(List<int[]> feats, int[] totalLengths, int epochs, long seed) {
    PromptPrior m = this;
    int n = feats.size();
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    Random r = new Random(seed);
    int k = bins.count();
    float[] z = new float[k];
    double l2 = 1e-5;
    for (int e = 0; e < epochs; e++) {
      double lr = 0.2 * (1 - (double) e / epochs) + 0.01;
      for (int i = n - 1; i > 0; i--) {
        int j = r.nextInt(i + 1);
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
      for (int idx : order) {
        int[] f = feats.get(idx);
        m.logits(f, z);
        MlpAccess.softmax(z);
        z[bins.binOf(totalLengths[idx])] -= 1;
        float scale = (float) (lr / Math.sqrt(f.length));
        for (int c = 0; c < k; c++) {
          m.b[c] -= (float) lr * z[c];
        }
        for (int h : f) {
          int base = h * k;
          for (int c = 0; c < k; c++) {
            m.w[base + c] -= scale * z[c] + (float) (lr * l2) * m.w[base + c];
          }
        }
      }
    }
    return m;
  }

  /** Bin probabilities of the total output length of a prompt text (a {@link Features#WORDS} prior). */
  public float[] probabilities(String prompt) {
    requireKind(Features.WORDS);
    return probabilitiesOf(wordFeatures(prompt));
  }

  /** Bin probabilities of the total output length of a templated prompt (a {@link Features#TOKENS} prior). */
  public float[] probabilities(int[] promptTokenIds) {
    requireKind(Features.TOKENS);
    return probabilitiesOf(tokenFeatures(promptTokenIds));
  }

  /** Expected total output length of a prompt text (tokens). */
  public double predictTotal(String prompt) {
    return bins.expectation(probabilities(prompt));
  }

  /** Expected total output length of a templated prompt (tokens). */
  public double predictTotal(int[] promptTokenIds) {
    return bins.expectation(probabilities(promptTokenIds));
  }

  /**
   * Expected output length of a templated prompt under a cap of {@code maxNewTokens}: E[min(L, cap)], each bin's
   * midpoint capped, which is what the request will generate (below min(E[L], cap) when long answers are likely).
   */
  public double predictTotal(int[] promptTokenIds, int maxNewTokens) {
    float[] p = probabilities(promptTokenIds);
    double e = 0;
    for (int k = 0; k < p.length; k++) {
      e += p[k] * Math.min(bins.midpoint(k), maxNewTokens);
    }
    return e;
  }

  public LengthBins bins() {
    return bins;
  }

  public Features features() {
    return kind;
  }

  private void requireKind(Features k) {
    if (kind != k) {
      throw new IllegalStateException("this prior reads " + kind + ", not " + k);
    }
  }

  private float[] probabilitiesOf(int[] f) {
    float[] z = new float[bins.count()];
    logits(f, z);
    MlpAccess.softmax(z);
    return z;
  }

  /** Writes {@link #SPEC_FILE} (with {@code extra} facts merged in) and {@link #WEIGHTS_FILE} into {@code dir}. */
  public void save(Path dir, JsonObject extra) {
    try {
      Files.createDirectories(dir);
      Gson gson = new GsonBuilder().setPrettyPrinting().create();
      JsonObject json = gson.toJsonTree(new Spec(bins.count(), bins.cap(), buckets, kind.wireName)).getAsJsonObject();
      if (extra != null) {
        extra.entrySet().forEach(e -> json.add(e.getKey(), e.getValue()));
      }
      Files.writeString(dir.resolve(SPEC_FILE), gson.toJson(json) + "\n");
      Map<String, Tensor> t = new LinkedHashMap<>();
      t.put("weight", new Tensor(w.clone(), new long[] {buckets, bins.count()}));
      t.put("bias", new Tensor(b.clone(), new long[] {bins.count()}));
      SafeTensors.writeFile(dir.resolve(WEIGHTS_FILE), t, DType.F32);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Whether {@code dir} holds a prompt prior. */
  public static boolean exists(Path dir) {
    return Files.isRegularFile(dir.resolve(SPEC_FILE));
  }

  /**
   * Loads a prompt prior from {@code dir}; every problem (missing or corrupt file, shapes that disagree with the
   * spec, an unknown feature hashing) is an {@link IllegalArgumentException} naming the file.
   */
  public static PromptPrior load(Path dir) {
    Path specFile = dir.resolve(SPEC_FILE);
    Path weights = dir.resolve(WEIGHTS_FILE);
    Spec spec;
    try {
      spec = new Gson().fromJson(Files.readString(specFile), Spec.class);
      if (spec == null || spec.bins() < 2 || spec.cap() < spec.bins() || spec.buckets() < 1
          || Integer.bitCount(spec.buckets()) != 1) {
        throw new JsonParseException("bins, cap and a power-of-two bucket count are required");
      }
    } catch (IOException | JsonParseException e) {
      throw new IllegalArgumentException("corrupt " + specFile + ": " + e.getMessage());
    }
    Features kind = java.util.Arrays.stream(Features.values()).filter(f -> f.wireName.equals(spec.features()))
        .findFirst().orElseThrow(() -> new IllegalArgumentException(specFile + ": features \"" + spec.features()
            + "\" are none this build knows"));
    Map<String, Tensor> t;
    try {
      t = SafeTensors.readFile(weights);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("corrupt " + weights + ": " + e.getMessage());
    }
    Tensor weight = t.get("weight");
    Tensor bias = t.get("bias");
    long expected = (long) spec.buckets() * spec.bins();
    if (weight == null || weight.data().length != expected || bias == null || bias.data().length != spec.bins()) {
      throw new IllegalArgumentException(weights + ": expected weight (" + spec.buckets() + ", " + spec.bins()
          + ") and bias (" + spec.bins() + ")");
    }
    return new PromptPrior(new LengthBins(spec.bins(), spec.cap()), spec.buckets(), kind, weight.data(), bias.data());
  }

  private void logits(int[] f, float[] z) {
    int k = bins.count();
    System.arraycopy(b, 0, z, 0, k);
    float s = (float) (1 / Math.sqrt(Math.max(1, f.length)));
    for (int h : f) {
      int base = h * k;
      for (int c = 0; c < k; c++) {
        z[c] += s * w[base + c];
      }
    }
  }

  /** Hashed bucket ids of the lower-cased word unigrams and bigrams, plus a bias-like length bucket. */
  int[] wordFeatures(String text) {
    String[] words = text.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+");
    List<Integer> out = new ArrayList<>();
    String prev = "<s>";
    int count = 0;
    for (String word : words) {
      if (word.isEmpty()) {
        continue;
      }
      out.add(bucket("u:" + word));
      out.add(bucket("b:" + prev + " " + word));
      prev = word;
      count++;
    }
    out.add(bucket("len:" + Math.min(20, (int) Math.round(Math.log1p(count) * 4))));
    return out.stream().mapToInt(Integer::intValue).toArray();
  }

  /** Hashed bucket ids of the token unigrams and bigrams, plus a bias-like length bucket. */
  int[] tokenFeatures(int[] ids) {
    int[] out = new int[2 * ids.length + 1];
    int prev = -1;
    for (int i = 0; i < ids.length; i++) {
      out[2 * i] = bucket(0x100000000L | ids[i]);
      out[2 * i + 1] = bucket(((long) prev << 32) ^ ids[i] ^ 0x5DEECE66DL << 20);
      prev = ids[i];
    }
    out[2 * ids.length] = bucket("len:" + Math.min(24, (int) Math.round(Math.log1p(ids.length) * 4)));
    return out;
  }

  private int bucket(long x) {
    long h = x * 0x9E3779B97F4A7C15L;
    return (int) ((h ^ (h >>> 29)) & (buckets - 1));
  }

  private int bucket(String s) {
    return Math.floorMod(s.hashCode() * 0x9E3779B1, buckets); // String.hashCode is specified: stable across JVMs
  }
}
