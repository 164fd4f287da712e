package io.trailflink.sim;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;

/**
 * Workload readers and arrival processes.
 *
 * <ul>
 *   <li>JSONL: one {@code {"prompt": "...", "out_tokens": N}} per line (optional {@code "prompt_tokens": P};
 *       otherwise the prompt is counted as ⌈characters / 4⌉ tokens, the usual rule of thumb for English BPE).
 *   <li>Azure LLM inference trace CSV: {@code TIMESTAMP,ContextTokens,GeneratedTokens}, arrival times from the
 *       timestamps.
 * </ul>
 * Malformed lines are reported as {@code file:line: reason} through {@code onBadLine} and skipped, or, when
 * {@code strict}, the first one aborts the read with a {@link WorkloadException}.
 */
public final class Workloads {
  private static final DateTimeFormatter AZURE_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss[.SSSSSSS]");

  private Workloads() {}

  /** Reads a JSONL workload (arrival times all 0: assign them with {@link #poisson} or {@link #burst}). */
  public static List<SimRequest> readJsonl(Path file, boolean strict, Consumer<String> onBadLine) {
    List<SimRequest> out = new ArrayList<>();
    int line = 0;
    try (BufferedReader r = Files.newBufferedReader(file)) {
      for (String s = r.readLine(); s != null; s = r.readLine()) {
        line++;
        if (s.isBlank()) {
          continue;
        }
        String problem;
        try {
          JsonObject o = JsonParser.parseString(s).getAsJsonObject();
          JsonElement outEl = o.get("out_tokens");
          JsonElement promptEl = o.get("prompt");
          JsonElement promptTokensEl = o.get("prompt_tokens");
          if (outEl == null || !outEl.isJsonPrimitive() || !outEl.getAsJsonPrimitive().isNumber()) {
            problem = "missing integer field out_tokens";
          } else if (promptTokensEl == null && (promptEl == null || !promptEl.isJsonPrimitive())) {
            problem = "missing string field prompt";
          } else {
            int outTokens = outEl.getAsInt();
            int promptTokens = promptTokensEl != null ? promptTokensEl.getAsInt()
                : Math.max(1, (promptEl.getAsString().length() + 3) / 4);
            if (outTokens < 1) {
              problem = "out_tokens must be >= 1, got " + outTokens;
            } else if (promptTokens < 1) {
              problem = "prompt_tokens must be >= 1, got " + promptTokens;
            } else {
              out.add(new SimRequest("r" + out.size(), 0, promptTokens, outTokens));
              continue;
            }
          }
        } catch (RuntimeException e) {
          problem = "not a JSON object (" + e.getMessage() + ")";
        }
        bad(file, line, problem, strict, onBadLine);
      }
    } catch (IOException e) {
      throw new WorkloadException(file + ": cannot read (" + e.getMessage() + ")");
    }
    if (out.isEmpty()) {
      throw new WorkloadException(file + ": no usable requests");
    }
    return out;
  }

  /** Reads an Azure LLM inference trace; arrivals from TIMESTAMP relative to the first, divided by {@code speedup}. */
  public static List<SimRequest> readAzureCsv(Path file, double speedup, boolean strict, Consumer<String> onBadLine) {
    if (!(speedup > 0)) {
      throw new IllegalArgumentException("time scaling must be > 0, got " + speedup);
    }
    List<SimRequest> out = new ArrayList<>();
    LocalDateTime first = null;
    int line = 0;
    try (BufferedReader r = Files.newBufferedReader(file)) {
      for (String s = r.readLine(); s != null; s = r.readLine()) {
        line++;
        if (line == 1 && s.startsWith("TIMESTAMP")) {
          continue;
        }
        if (s.isBlank()) {
          continue;
        }
        String[] f = s.split(",");
        try {
          if (f.length != 3) {
            throw new IllegalArgumentException("expected 3 columns, got " + f.length);
          }
          String ts = f[0].strip();
          int dot = ts.indexOf('.');
          if (dot >= 0 && ts.length() - dot - 1 < 7) { // pad fractional seconds to 7 digits
            ts = ts + "0".repeat(7 - (ts.length() - dot - 1));
          }
          LocalDateTime t = LocalDateTime.parse(ts, AZURE_TIME);
          int context = Integer.parseInt(f[1].strip());
          int generated = Integer.parseInt(f[2].strip());
          if (context < 1 || generated < 1) {
            throw new IllegalArgumentException("token counts must be >= 1");
          }
          if (first == null) {
            first = t;
          }
          long ms = Math.round(ChronoUnit.MICROS.between(first, t) / 1000.0 / speedup);
          out.add(new SimRequest("r" + out.size(), ms, context, generated));
        } catch (RuntimeException e) {
          bad(file, line, e.getMessage(), strict, onBadLine);
        }
      }
    } catch (IOException e) {
      throw new WorkloadException(file + ": cannot read (" + e.getMessage() + ")");
    }
    if (out.isEmpty()) {
      throw new WorkloadException(file + ": no usable requests");
    }
    return out;
  }

  /** Poisson arrivals at {@code ratePerSecond}, seeded; request order kept. */
  public static List<SimRequest> poisson(List<SimRequest> in, double ratePerSecond, long seed) {
    if (!(ratePerSecond > 0)) {
      throw new IllegalArgumentException("rate must be > 0 requests/s, got " + ratePerSecond);
    }
    Random rnd = new Random(seed);
    List<SimRequest> out = new ArrayList<>(in.size());
    double t = 0;
    for (SimRequest r : in) {
      t += -Math.log(1 - rnd.nextDouble()) / ratePerSecond * 1000;
      out.add(r.at(Math.round(t)));
    }
    return out;
  }

  /**
   * {@code n} requests drawn with replacement from {@code in} (seeded), each with a fresh id ({@code id#k}): a
   * larger workload with the same length distribution, as when a study's 10,000 prompts are not at hand.
   */
  public static List<SimRequest> resample(List<SimRequest> in, int n, long seed) {
    if (n < 1 || in.isEmpty()) {
      throw new IllegalArgumentException("resample needs n >= 1 and a non-empty workload, got n = " + n);
    }
    Random rnd = new Random(seed);
    List<SimRequest> out = new ArrayList<>(n);
    for (int k = 0; k < n; k++) {
      SimRequest r = in.get(rnd.nextInt(in.size()));
      out.add(new SimRequest(r.id() + "#" + k, r.arrivalMs(), r.promptTokens(), r.outputTokens()));
    }
    return out;
  }

  /**
   * Each request owned by a tenant drawn at random (seeded) in proportion to {@code shares}: a tenant with share
   * 10 sends ten times the requests, so ten times the arrival rate, of one with share 1. Arrival times are kept.
   */
  public static List<SimRequest> assignTenants(List<SimRequest> in, Map<String, Double> shares, long seed) {
    List<String> owners = drawTenants(in.size(), shares, seed);
    List<SimRequest> out = new ArrayList<>(in.size());
    for (int i = 0; i < in.size(); i++) {
      out.add(in.get(i).ownedBy(owners.get(i)));
    }
    return out;
  }

  /** {@code n} tenants drawn at random (seeded) in proportion to {@code shares}, in order of arrival. */
  public static List<String> drawTenants(int n, Map<String, Double> shares, long seed) {
    List<String> names = new ArrayList<>(shares.keySet());
    double[] cumulative = new double[names.size()];
    double total = 0;
    for (int i = 0; i < names.size(); i++) {
      total += shares.get(names.get(i));
      cumulative[i] = total;
    }
    Random rnd = new Random(seed ^ 0x7E4A47L);
    List<String> out = new ArrayList<>(n);
    for (int k = 0; k < n; k++) {
      double u = rnd.nextDouble() * total;
      int i = 0;
      while (i < names.size() - 1 && u >= cumulative[i]) {
        i++;
      }
      out.add(names.get(i));
    }
    return out;
  }

  /** Everything arrives at time 0. */
  public static List<SimRequest> burst(List<SimRequest> in) {
    return in.stream().map(r -> r.at(0)).toList();
  }

  private static void bad(Path file, int line, String problem, boolean strict, Consumer<String> onBadLine) {
    String msg = file + ":" + line + ": " + problem;
    if (strict) {
      throw new WorkloadException(msg);
    }
    onBadLine.accept(msg);
  }
}
