package io.trailflink.sim;

import java.util.List;
import java.util.Locale;

/**
 * A rough service capacity of {@code engines} engines for a workload, so that arrival rates can be given as a load
 * (a fraction of it). Each engine holds {@code concurrency} requests at once: its slots, or fewer where the KV
 * budget binds first. A request of prompt p and output L holds p + t tokens at its t-th token, so over time the KV
 * in use per request is the length-weighted mean {@code (E[p·L] + E[L²]/2) / E[L]}, plus half a block of rounding:
 * long requests hold more for longer, and a mean of {@code p + L/2} would overstate the concurrency. A full iteration costs
 * {@link StepTimeModel#iterationMs} at that batch and mean context, and every request adds its prompt's prefill.
 * So one engine completes {@code concurrency / (meanOutput · iteration)} requests per ms, less the prefill share.
 * Preemption, block rounding and pipeline gaps are ignored: loads near 1 are approximate, and the simulated
 * throughput says where the real limit lies.
 *
 * @param requestsPerSecond estimated completions per second, all engines
 * @param concurrency requests an engine holds at once by this estimate
 * @param kvBinds whether the KV budget (not the slots) limits the concurrency
 * @param meanPromptTokens the workload's mean prompt (tokens)
 * @param meanOutputTokens the workload's mean output, capped at max_new_tokens (tokens)
 * @param iterationMs one full iteration (ms)
 * @param engines engines counted
 */
public record Capacity(double requestsPerSecond, double concurrency, boolean kvBinds, double meanPromptTokens,
    double meanOutputTokens, double iterationMs, int engines) {

  public static Capacity estimate(List<SimRequest> workload, int maxNewTokens, int maxRunning, long kvTokens,
      int blockSize, StepTimeModel steps, int engines) {
    double prompt = workload.stream().mapToInt(SimRequest::promptTokens).average().orElse(1);
    double output = workload.stream().mapToInt(r -> Math.min(r.outputTokens(), maxNewTokens)).average().orElse(1);
    double pl = 0;
    double ll = 0;
    for (SimRequest r : workload) {
      double l = Math.min(r.outputTokens(), maxNewTokens);
      pl += r.promptTokens() * l;
      ll += l * l;
    }
    int n = Math.max(1, workload.size());
    double heldPerRequest = (pl / n + ll / n / 2) / output + blockSize / 2.0;
    double kvBound = kvTokens / heldPerRequest;
    double concurrency = Math.min(maxRunning, kvBound);
    double context = concurrency * heldPerRequest;
    double iteration = steps.iterationMs((int) Math.round(concurrency), 0, Math.round(context));
    double msPerRequest = output * iteration / concurrency + steps.perPrefillTokenMs() * prompt;
    return new Capacity(engines * 1000 / msPerRequest, concurrency, kvBound < maxRunning, prompt, output, iteration,
        engines);
  }

  /**
   * The capacity as the simulator finds it: one engine of {@code sim}'s limits, {@code policy}, fed a burst of (at
   * most 2000 of) the workload's requests at once, completes {@code completed / makespan} requests per second with
   * a queue always waiting; times {@code engines}. Where KV binds this counts what the estimate cannot: recomputed
   * evictions and the KV kept free for the batch's growth.
   */
  public static double measuredRequestsPerSecond(Simulator sim, io.trailflink.scheduler.Policy policy,
      List<SimRequest> workload, int engines) {
    List<SimRequest> sample = Workloads.burst(workload.subList(0, Math.min(2000, workload.size())));
    SimResult r = sim.run(policy, sample, done -> { });
    return r.latencyMs().length / (r.makespanMs() / 1000) * engines;
  }

  @Override
  public String toString() {
    return String.format(Locale.ROOT, "capacity ≈ %.1f req/s: %d engine(s) × %.0f requests at once (%s binds), "
        + "mean prompt %.0f, mean output %.0f tokens, %.2f ms per full iteration", requestsPerSecond, engines,
        concurrency, kvBinds ? "KV" : "slots", meanPromptTokens, meanOutputTokens, iterationMs);
  }
}
