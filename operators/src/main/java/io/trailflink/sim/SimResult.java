package io.trailflink.sim;

import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * Outcome of simulating one policy on one workload. Times in ms of simulated time.
 *
 * @param policy policy name
 * @param latencyMs per completed request: finish − arrival
 * @param ttftMs per completed request: first token − arrival
 * @param rejected requests refused at submission
 * @param makespanMs simulated time from the first arrival to the last completion
 * @param outputTokens tokens generated in all
 * @param preemptions preemptions in all
 * @param evictions evictions in all
 * @param peakKvBlocks most KV blocks in use at once
 * @param rounds scheduling rounds (one per engine iteration)
 * @param schedulingNanos wall time spent inside the scheduler and placement (ns)
 * @param tenantOf per completed request (parallel to latencyMs): its tenant
 * @param engines engines simulated
 * @param placement how arrivals were placed on them (and waiting requests moved, where they were)
 * @param moves waiting requests moved from a crowded engine to a quiet one ({@link
 *     io.trailflink.scheduler.placement.Rebalance})
 */
public record SimResult(
    String policy,
    double[] latencyMs,
    double[] ttftMs,
    int rejected,
    double makespanMs,
    long outputTokens,
    long preemptions,
    long evictions,
    int peakKvBlocks,
    long rounds,
    long schedulingNanos,
    String[] tenantOf,
    int engines,
    String placement,
    long moves) {

  /** Latencies (ms) of the completed requests of {@code tenant}. */
  public double[] latencyOf(String tenant) {
    return IntStream.range(0, latencyMs.length).filter(i -> tenantOf[i].equals(tenant))
        .mapToDouble(i -> latencyMs[i]).toArray();
  }

  /** Latencies (ms) of the completed requests of every tenant but {@code tenant}. */
  public double[] latencyOfOthers(String tenant) {
    return IntStream.range(0, latencyMs.length).filter(i -> !tenantOf[i].equals(tenant))
        .mapToDouble(i -> latencyMs[i]).toArray();
  }

  public double meanLatency() {
    return mean(latencyMs);
  }

  public double meanTtft() {
    return mean(ttftMs);
  }

  public static double mean(double[] x) {
    return Arrays.stream(x).average().orElse(Double.NaN);
  }

  /** Linear-interpolated percentile, p in [0, 100]. */
  public static double percentile(double[] x, double p) {
    if (x.length == 0) {
      return Double.NaN;
    }
    double[] s = x.clone();
    Arrays.sort(s);
    double pos = p / 100 * (s.length - 1);
    int lo = (int) Math.floor(pos);
    int hi = (int) Math.ceil(pos);
    return s[lo] + (s[hi] - s[lo]) * (pos - lo);
  }

  /** Completed requests per simulated second. */
  public double throughputRps() {
    return latencyMs.length / (makespanMs / 1000);
  }

  public double decisionsPerSecond() {
    return rounds / (schedulingNanos / 1e9);
  }
}
