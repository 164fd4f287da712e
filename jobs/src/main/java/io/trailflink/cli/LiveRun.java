package io.trailflink.cli;

import io.trailflink.schema.EngineFeedback;
import io.trailflink.schema.EtaUpdate;
import io.trailflink.schema.FinalResponse;
import io.trailflink.schema.PredictionUpdate;
import io.trailflink.schema.RequestProgress;
import io.trailflink.serving.PredictionUnderCap;
import io.trailflink.sim.PredictionModel;
import io.trailflink.sim.SimRequest;
import io.trailflink.sim.StepTimeFit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;

/**
 * What one live run of the serving job left on its topics — the final responses and the engine's feedback — and
 * the figures {@code trail bench} derives from them: latency and TTFT, throughput, preemptions, peak KV, busy
 * fraction, the commands as step-time samples, and the predictor's trajectories for the simulator to replay.
 *
 * @param policy the policy as given to the job (e.g. {@code trail:0.8})
 * @param arrivalMs each request's arrival offset (ms from the run's start), by request id
 * @param finals one final response per request id
 * @param feedback every engine feedback record of the run
 * @param depth commands in flight per engine (for the loop figures)
 * @param hopMs each request's time from submission to its acceptance by the scheduling operator (ms), by request
 *     id, from its {@code accepted} ETA (empty without the ETA stream)
 */
record LiveRun(String policy, Map<String, Long> arrivalMs, Map<String, FinalResponse> finals,
    List<EngineFeedback> feedback, int depth, Map<String, Long> hopMs) {

  /** The hops of a run from its ETA stream: each request's {@code accepted} ETA less its submission (ms). */
  static Map<String, Long> hops(List<EtaUpdate> etas) {
    Map<String, Long> out = new HashMap<>();
    for (EtaUpdate e : etas) {
      if ("accepted".equals(e.getCause())) {
        out.putIfAbsent(e.getRequestId(), Math.max(0, e.getEmittedAt().toEpochMilli() - e.getSubmittedAt().toEpochMilli()));
      }
    }
    return out;
  }

  /** Median hop from submission to the scheduler (ms); NaN without the ETA stream. */
  double medianHopMs() {
    return hopMs.isEmpty() ? Double.NaN : Stats.percentile(hopMs.values().stream().mapToDouble(Long::doubleValue)
        .toArray(), 50);
  }

  double[] latencyMs() {
    return finals.values().stream().mapToDouble(FinalResponse::getLatencyMs).toArray();
  }

  double[] ttftMs() {
    return finals.values().stream().mapToDouble(FinalResponse::getTtftMs).toArray();
  }

  long outputTokens() {
    return finals.values().stream().mapToLong(FinalResponse::getOutputTokens).sum();
  }

  /** Output tokens per second from the first submission to the last finish. */
  double tokensPerSecond() {
    long first = finals.values().stream().mapToLong(x -> x.getSubmittedAt().toEpochMilli()).min().orElse(0);
    long last = finals.values().stream().mapToLong(x -> x.getFinishedAt().toEpochMilli()).max().orElse(0);
    return outputTokens() / (Math.max(1, last - first) / 1000.0);
  }

  /** From the first submission to the last finish (ms). */
  double makespanMs() {
    long first = finals.values().stream().mapToLong(x -> x.getSubmittedAt().toEpochMilli()).min().orElse(0);
    long last = finals.values().stream().mapToLong(x -> x.getFinishedAt().toEpochMilli()).max().orElse(0);
    return last - first;
  }

  /** Requests per second from the first submission to the last finish. */
  double requestsPerSecond() {
    long first = finals.values().stream().mapToLong(x -> x.getSubmittedAt().toEpochMilli()).min().orElse(0);
    long last = finals.values().stream().mapToLong(x -> x.getFinishedAt().toEpochMilli()).max().orElse(0);
    return finals.size() / (Math.max(1, last - first) / 1000.0);
  }

  /**
   * The engine's capacity on this workload (requests/s): the token rate while the batch was kept full — from the
   * first submission until the last request joined the batch (submission plus its queueing time; not its first
   * token, which a parked request gets before it joins), when nothing waited any more — over the mean output
   * length. Meaningful for a run whose requests all arrived at once (the bench's first pass).
   */
  double saturatedRequestsPerSecond() {
    long first = finals.values().stream().mapToLong(x -> x.getSubmittedAt().toEpochMilli()).min().orElse(0);
    long lastAdmitted = finals.values().stream().mapToLong(f -> f.getSubmittedAt().toEpochMilli() + f.getQueueingMs()).max()
        .orElse(0);
    long tokens = 0;
    for (EngineFeedback fb : feedback) {
      if (fb.getFinishedAtMs() <= lastAdmitted) {
        tokens += fb.getProgress().stream().mapToLong(p -> p.getNewTokenIds().size()).sum();
      }
    }
    double meanOutput = (double) outputTokens() / Math.max(1, finals.size());
    return tokens / (Math.max(1, lastAdmitted - first) / 1000.0) / Math.max(1, meanOutput);
  }

  int preemptions() {
    return finals.values().stream().mapToInt(FinalResponse::getPreemptions).sum();
  }

  int evictions() {
    return finals.values().stream().mapToInt(FinalResponse::getEvictions).sum();
  }

  int peakKvBlocks() {
    return feedback.stream().mapToInt(EngineFeedback::getBlocksUsed).max().orElse(0);
  }

  double busyFraction() {
    return DemoCommand.LoopFigures.of(feedback, depth).busyFraction();
  }

  long failed() {
    return finals.values().stream().filter(f -> f.getError() != null).count();
  }

  private int promptTokens(String id) {
    FinalResponse f = finals.get(id);
    return f == null ? 0 : f.getPromptTokens();
  }

  /**
   * Every command as a step-time sample. A row whose tokens are the request's first prefilled its prompt in that
   * command; a row with outcome PROBED embedded a waiting prompt.
   */
  List<StepTimeFit.Sample> stepSamples() {
    return steps().stream().map(Step::sample).toList();
  }

  /** A command's step-time sample with the feedback it came from (for its phase times). */
  record Step(StepTimeFit.Sample sample, EngineFeedback feedback) {}

  List<Step> steps() {
    List<Step> out = new ArrayList<>();
    for (EngineFeedback fb : feedback) {
      if (fb.getError() != null) {
        continue;
      }
      int iterations = 0;
      long seqSteps = 0;
      long context = 0;
      long prefill = 0;
      long probe = 0;
      for (RequestProgress p : fb.getProgress()) {
        if (io.trailflink.engine.StepExecutor.PROBED.equals(p.getOutcome())) {
          probe += promptTokens(p.getRequestId()); // a waiting prompt embedded for its initial prediction
          continue;
        }
        int n = p.getNewTokenIds().size();
        iterations = Math.max(iterations, n);
        seqSteps += n;
        long before = promptTokens(p.getRequestId()) + p.getGenerated() - n; // context before this command
        context += n * before + (long) n * (n - 1) / 2;
        if (n > 0 && p.getGenerated() == n) {
          prefill += promptTokens(p.getRequestId());
        }
      }
      if (iterations > 0 || probe > 0) {
        out.add(new Step(new StepTimeFit.Sample(iterations, seqSteps, context, prefill, probe, fb.getBusyMs()), fb));
      }
    }
    return out;
  }

  /**
   * Engine time around commands that is not compute, summed over a run (or several, {@link #plus}).
   *
   * @param loopGapMs where the next command was already issued when one finished, the engine could have started it
   *     at once, so the wait until its compute began is the loop's overhead (async hand-over, serialisation)
   * @param loopGapCommands the commands {@code loopGapMs} sums over
   * @param idleStartMs a command issued to an idle engine (the previous one had finished): from its issue to its
   *     end less its compute (the hand-over and the engine thread's wake-up)
   * @param idleStartCommands the commands {@code idleStartMs} sums over
   */
  record CommandGaps(double loopGapMs, long loopGapCommands, double idleStartMs, long idleStartCommands) {
    static final CommandGaps NONE = new CommandGaps(0, 0, 0, 0);

    CommandGaps plus(CommandGaps o) {
      return new CommandGaps(loopGapMs + o.loopGapMs, loopGapCommands + o.loopGapCommands,
          idleStartMs + o.idleStartMs, idleStartCommands + o.idleStartCommands);
    }

    double loopGapPerCommandMs() {
      return loopGapCommands == 0 ? 0 : loopGapMs / loopGapCommands;
    }

    double idleStartPerCommandMs() {
      return idleStartCommands == 0 ? 0 : idleStartMs / idleStartCommands;
    }
  }

  /** This run's {@link CommandGaps}, engine by engine in command order. */
  CommandGaps commandGaps() {
    Map<String, List<EngineFeedback>> byEngine = new HashMap<>();
    feedback.forEach(f -> byEngine.computeIfAbsent(f.getEngine(), k -> new ArrayList<>()).add(f));
    double loopGap = 0;
    long loopCommands = 0;
    double idle = 0;
    long idleCommands = 0;
    for (List<EngineFeedback> l : byEngine.values()) {
      l.sort(Comparator.comparingLong(EngineFeedback::getStepSeq));
      for (int i = 1; i < l.size(); i++) {
        EngineFeedback prev = l.get(i - 1);
        EngineFeedback next = l.get(i);
        if (next.getIssuedAtMs() > prev.getFinishedAtMs()) {
          idle += Math.max(0, next.getFinishedAtMs() - next.getIssuedAtMs() - next.getBusyMs());
          idleCommands++;
        } else if (next.getProgress().stream().anyMatch(p -> !p.getNewTokenIds().isEmpty())) {
          loopGap += Math.max(0, next.getFinishedAtMs() - prev.getFinishedAtMs() - next.getBusyMs());
          loopCommands++;
        }
      }
    }
    return new CommandGaps(loopGap, loopCommands, idle, idleCommands);
  }

  /** Engine time spent embedding prompts for their initial predictions, as a fraction of the run's makespan. */
  double probeTimeFraction() {
    double probeMs = feedback.stream().mapToDouble(EngineFeedback::getProbeMs).sum();
    return makespanMs() <= 0 ? Double.NaN : probeMs / makespanMs();
  }

  /**
   * Share of the decode slots of commands left empty by requests that finished inside the quantum: per command,
   * (iterations × requests decoded − tokens decoded) over iterations × requests decoded.
   */
  double slotsLostInQuantum() {
    long slots = 0;
    long used = 0;
    for (Step st : steps()) {
      StepTimeFit.Sample x = st.sample();
      long rows = st.feedback().getProgress().stream()
          .filter(p -> !p.getNewTokenIds().isEmpty()).count();
      slots += rows * x.iterations();
      used += x.sequenceSteps();
    }
    return slots == 0 ? Double.NaN : 1 - (double) used / slots;
  }

  /** Requests decoded per decode iteration, averaged over the run's iterations. */
  double meanBatch() {
    long iterations = 0;
    long seqSteps = 0;
    for (Step st : steps()) {
      iterations += st.sample().iterations();
      seqSteps += st.sample().sequenceSteps();
    }
    return iterations == 0 ? Double.NaN : (double) seqSteps / iterations;
  }

  /** The engine thread's CPU time over its busy (wall) time: below 1 when it waited for a core. */
  double cpuOverBusy() {
    double busy = feedback.stream().mapToDouble(EngineFeedback::getBusyMs).sum();
    return busy <= 0 ? Double.NaN : feedback.stream().mapToDouble(EngineFeedback::getCpuMs).sum() / busy;
  }

  /** The run's arrivals as the simulator's requests: same ids, arrival offsets, prompt and output lengths. */
  List<SimRequest> simRequests() {
    List<SimRequest> out = new ArrayList<>();
    for (FinalResponse f : finals.values()) {
      Long at = arrivalMs.get(f.getRequestId());
      if (at != null && f.getError() == null && f.getOutputTokens() > 0) {
        out.add(new SimRequest(f.getRequestId(), at, Math.max(1, f.getPromptTokens()), f.getOutputTokens())
            .withHop(hopMs.getOrDefault(f.getRequestId(), 0L)));
      }
    }
    out.sort(Comparator.comparingLong(SimRequest::arrivalMs));
    return out;
  }

  /**
   * The live predictor's estimates of remaining tokens, per request and per generated count, for the simulator
   * to replay: each as the scheduler took it under the request's cap ({@link PredictionUnderCap}, {@code capOf}
   * gives a request's max_new_tokens); between refreshes an estimate counts down with the tokens generated. Empty
   * without predictions.
   */
  Map<String, PredictionModel.Recorded> recordedPredictions(ToIntFunction<String> capOf) {
    Map<String, List<PredictionUpdate>> byId = new HashMap<>();
    for (EngineFeedback fb : feedback) {
      for (PredictionUpdate u : fb.getPredictions()) {
        byId.computeIfAbsent(u.getRequestId(), k -> new ArrayList<>()).add(u);
      }
    }
    Map<String, PredictionModel.Recorded> out = new HashMap<>();
    for (Map.Entry<String, List<PredictionUpdate>> e : byId.entrySet()) {
      FinalResponse f = finals.get(e.getKey());
      if (f == null || f.getOutputTokens() < 1) {
        continue;
      }
      List<PredictionUpdate> us = e.getValue();
      us.sort(Comparator.comparingInt(PredictionUpdate::getGenerated));
      int n = f.getOutputTokens();
      double[] est = new double[n];
      int k = 0;
      for (int g = 0; g < n; g++) {
        while (k + 1 < us.size() && us.get(k + 1).getGenerated() <= g) {
          k++;
        }
        PredictionUpdate u = us.get(k);
        est[g] = Math.max(0, PredictionUnderCap.remaining(u, capOf.applyAsInt(e.getKey())) - (g - u.getGenerated()));
      }
      out.put(e.getKey(), new PredictionModel.Recorded(n, est));
    }
    return out;
  }
}
