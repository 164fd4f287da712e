package io.trailflink.sim;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Predicted remaining lengths for simulated requests.
 *
 * <ul>
 *   <li>{@code oracle}: the truth.
 *   <li>{@code noisy:MAE_INITIAL,MAE_REFINED}: the truth plus Gaussian noise whose mean absolute error is
 *       MAE_INITIAL for the initial prediction (before any output) and, for refined predictions at fraction f of
 *       the output generated, {@code 2·MAE_REFINED·(1 − f)}: the error shrinks linearly to 0 as the request
 *       progresses and averages MAE_REFINED over its lifetime. Each request draws its two standard normal
 *       deviates once, so its error is persistent rather than jittering per refresh (σ = MAE·√(π/2)).
 *       Predictions are clamped to [1, max] for the total and [0, max − generated] for the remainder.
 *   <li>{@code fixed:MAE}: one noisy prediction y at arrival (MAE as above), never refined: the remainder is
 *       y − generated (negative once the job outlives its prediction). This is the predictor of the M/G/1
 *       analysis (SPRPT with predictions), used by the theory check.
 *   <li>{@code recorded:FILE}: the real predictor's errors, replayed. FILE (written by {@code trail eval-predictor
 *       --record}) holds per held-out request its true output length N and the predictor's estimate at every
 *       token. A simulated request of length L takes one of the 5 recorded requests nearest in length (picked
 *       by its seed) and inherits its error at the same fraction of the output: prediction after g tokens =
 *       L − g + (recorded estimate − recorded truth at g·N/L). For L = N this is the recorded trajectory.
 * </ul>
 */
public final class PredictionModel {
  private final String spec;
  private final double maeInitial; // tokens
  private final double maeRefined; // tokens
  private final long seed;
  private final boolean fixed; // never refined: remainder = initial − generated
  private final List<Recorded> recorded; // sorted by output length; null unless recorded:FILE
  private final java.util.Map<String, Recorded> recordedById; // a request's own recorded trajectory, when known

  /** One recorded request: its true output length and the estimate of remaining tokens after g = 0..N−1 tokens. */
  public record Recorded(int outputTokens, double[] estimates) {}

  private PredictionModel(String spec, double maeInitial, double maeRefined, long seed) {
    this(spec, maeInitial, maeRefined, seed, null);
  }

  private PredictionModel(String spec, double maeInitial, double maeRefined, long seed, List<Recorded> recorded) {
    this(spec, maeInitial, maeRefined, seed, recorded, java.util.Map.of());
  }

  private PredictionModel(String spec, double maeInitial, double maeRefined, long seed, List<Recorded> recorded,
      java.util.Map<String, Recorded> recordedById) {
    this.recordedById = recordedById;
    this.recorded = recorded;
    this.fixed = spec.startsWith("fixed:");
    this.spec = spec;
    this.maeInitial = maeInitial;
    this.maeRefined = maeRefined;
    this.seed = seed;
  }

  /** Parses {@code oracle}, {@code noisy:A,B}, {@code fixed:A} or {@code recorded:FILE}. */
  public static PredictionModel parse(String spec, long seed) {
    if (spec.equals("oracle")) {
      return new PredictionModel(spec, 0, 0, seed);
    }
    if (spec.startsWith("recorded:")) {
      return new PredictionModel(spec, 0, 0, seed, readRecorded(Path.of(spec.substring(9))));
    }
    if (spec.startsWith("fixed:")) {
      try {
        double a = Double.parseDouble(spec.substring(6));
        if (a >= 0) {
          return new PredictionModel(spec, a, 0, seed);
        }
      } catch (RuntimeException e) {
        // fall through to the error below
      }
    }
    if (spec.startsWith("noisy:")) {
      String[] p = spec.substring(6).split(",");
      try {
        double a = Double.parseDouble(p[0]);
        double b = Double.parseDouble(p[1]);
        if (p.length == 2 && a >= 0 && b >= 0) {
          return new PredictionModel(spec, a, b, seed);
        }
      } catch (RuntimeException e) {
        // fall through to the error below
      }
    }
    throw new IllegalArgumentException("--predictions must be oracle, noisy:MAE_INITIAL,MAE_REFINED, fixed:MAE or recorded:FILE"
        + " (tokens), got '"
        + spec + "'");
  }

  /**
   * Recorded predictions keyed by request id (e.g. a live run's own predictor output): a simulated request with
   * a recording of its own length replays exactly that trajectory; any other takes the nearest in length.
   */
  public static PredictionModel recorded(String spec, java.util.Map<String, Recorded> byId, long seed) {
    if (byId.isEmpty()) {
      throw new IllegalArgumentException(spec + ": no recorded predictions");
    }
    List<Recorded> sorted = new ArrayList<>(byId.values());
    sorted.sort(Comparator.comparingInt(Recorded::outputTokens));
    return new PredictionModel(spec, 0, 0, seed, sorted, java.util.Map.copyOf(byId));
  }

  /**
   * For {@code recorded:} predictions, how well the recording covers a workload's output lengths: per range of
   * {@code width} tokens, recorded requests against workload requests, and a warning line for every range where
   * the workload has requests but fewer than 5 recorded ones lie in it (their errors are then borrowed from
   * requests of other lengths). Empty for the other prediction models.
   */
  public List<String> coverage(List<Integer> workloadLengths, int width) {
    if (recorded == null || workloadLengths.isEmpty()) {
      return List.of();
    }
    java.util.TreeMap<Integer, int[]> ranges = new java.util.TreeMap<>(); // range start -> {recorded, workload}
    recorded.forEach(r -> ranges.computeIfAbsent(r.outputTokens() / width * width, k -> new int[2])[0]++);
    workloadLengths.forEach(l -> ranges.computeIfAbsent(l / width * width, k -> new int[2])[1]++);
    List<String> out = new ArrayList<>();
    StringBuilder table = new StringBuilder("recorded predictions by output length (tokens: recorded/workload):");
    List<String> thin = new ArrayList<>();
    for (var e : ranges.entrySet()) {
      String range = e.getKey() + "-" + (e.getKey() + width - 1);
      table.append(' ').append(range).append(": ").append(e.getValue()[0]).append('/').append(e.getValue()[1]);
      if (e.getValue()[1] > 0 && e.getValue()[0] < 5) {
        thin.add(range + " (" + e.getValue()[1] + " workload requests, " + e.getValue()[0] + " recorded)");
      }
    }
    out.add(table.toString());
    if (!thin.isEmpty()) {
      out.add("warning: the recording barely covers " + String.join(", ", thin)
          + "; those requests borrow the errors of recorded requests of other lengths");
    }
    return out;
  }

  public String spec() {
    return spec;
  }

  /**
   * Per-request noise, drawn once. SplittableRandom mixes its seed, so consecutive request indices give
   * independent deviates (java.util.Random's first outputs for neighbouring seeds are correlated).
   */
  public Noise noiseFor(int requestIndex) {
    SplittableRandom rnd = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + requestIndex);
    return new Noise(rnd.nextGaussian(), rnd.nextGaussian(), rnd.nextDouble());
  }

  /** A request's two standard normal deviates (initial and refined) and a uniform one (recorded pick). */
  public record Noise(double initial, double refined, double pick) {}

  private static final double SIGMA_PER_MAE = Math.sqrt(Math.PI / 2);

  /** Initial predicted total output length. */
  public double initial(SimRequest r, Noise n, int maxNewTokens) {
    if (recorded != null) {
      return Math.max(1, Math.min(maxNewTokens, r.outputTokens() + recordedError(r, n, 0)));
    }
    double p = r.outputTokens() + n.initial() * maeInitial * SIGMA_PER_MAE;
    return Math.max(1, Math.min(maxNewTokens, p));
  }

  /** Refined predicted remaining length after {@code generated} tokens. */
  public double remaining(SimRequest r, Noise n, int generated, int maxNewTokens) {
    if (recorded != null) {
      double p = r.outputTokens() - generated + recordedError(r, n, generated);
      return Math.max(0, Math.min(maxNewTokens - generated, p));
    }
    if (fixed) {
      return initial(r, n, maxNewTokens) - generated;
    }
    double f = (double) generated / r.outputTokens();
    double mae = 2 * maeRefined * Math.max(0, 1 - f);
    double p = r.outputTokens() - generated + n.refined() * mae * SIGMA_PER_MAE;
    return Math.max(0, Math.min(maxNewTokens - generated, p));
  }

  /** The picked recorded request's error (estimate − truth) at the same fraction of its output. */
  private double recordedError(SimRequest r, Noise n, int generated) {
    int length = r.outputTokens();
    Recorded own = recordedById.get(r.id());
    if (own != null && own.outputTokens() == length) {
      int g = Math.min(length - 1, generated);
      return own.estimates()[g] - (length - g);
    }
    int lo = 0;
    int hi = recorded.size();
    while (lo < hi) { // first recorded request with outputTokens >= length
      int mid = (lo + hi) >>> 1;
      if (recorded.get(mid).outputTokens() < length) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    int k = Math.min(5, recorded.size());
    int from = Math.max(0, Math.min(recorded.size() - k, lo - k / 2));
    Recorded t = recorded.get(from + Math.min(k - 1, (int) (n.pick() * k)));
    int g = Math.min(t.outputTokens() - 1, (int) Math.round((double) generated * t.outputTokens() / length));
    return t.estimates()[g] - (t.outputTokens() - g);
  }

  /** Reads {@code recorded:FILE}: JSON lines {@code {"output_tokens": N, "estimates": [e_0, …, e_{N−1}]}}. */
  static List<Recorded> readRecorded(Path file) {
    List<Recorded> out = new ArrayList<>();
    try {
      int line = 0;
      for (String s : Files.readAllLines(file)) {
        line++;
        if (s.isBlank()) {
          continue;
        }
        try {
          JsonObject o = JsonParser.parseString(s).getAsJsonObject();
          int n = o.get("output_tokens").getAsInt();
          JsonArray e = o.getAsJsonArray("estimates");
          if (n < 1 || e.size() != n) {
            throw new IllegalArgumentException("output_tokens " + n + " needs " + n + " estimates, got " + e.size());
          }
          double[] est = new double[n];
          for (int i = 0; i < n; i++) {
            est[i] = e.get(i).getAsDouble();
          }
          out.add(new Recorded(n, est));
        } catch (RuntimeException ex) {
          throw new IllegalArgumentException("recorded predictions " + file + " line " + line + ": " + ex.getMessage());
        }
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read recorded predictions " + file + ": " + e.getMessage());
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("recorded predictions " + file + " holds no requests");
    }
    out.sort(Comparator.comparingInt(Recorded::outputTokens));
    return out;
  }
}
