package io.trailflink.serving;

import io.trailflink.scheduler.Request;
import io.trailflink.scheduler.Scheduler;
import io.trailflink.schema.EtaUpdate;
import java.io.Serializable;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One engine's ETA stream: measures the engine's wall time per decode iteration and the batch it keeps running,
 * keeps a prior for requests without a prediction (the mean output of finished requests, else the mean initial
 * prediction), and decides which requests get a fresh {@link EtaUpdate}: on acceptance, on the first prediction,
 * and then at most once per {@code everyMs}. The finish times come from {@link FinishTimes} over the scheduler's
 * running batch and its queue in policy order, so they follow the active policy. Kept in the engine loop's state.
 */
final class EtaBoard implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final double SMOOTHING = 0.2; // weight of the newest command in the moving averages

  private final long everyMs; // 0 = no ETA stream
  private final int maxRunning;
  // moving averages over commands: wall time (ms) and decode iterations, so their ratio is ms per iteration
  private double wallMs = Double.NaN;
  private double iterations = Double.NaN;
  private double slots = Double.NaN; // running requests while others queued
  private long lastFinishedAtMs = -1; // epoch ms of the previous command's end
  private double outputSum; // tokens, finished requests
  private long outputCount;
  private double predictionSum; // tokens, initial predictions
  private long predictionCount;
  private final Map<String, Mark> marks = new HashMap<>();
  private transient List<EtaUpdate> pending;

  /** When a request's ETA was last published, and whether it had a prediction then. */
  private record Mark(long atMs, boolean predicted) implements Serializable {}

  EtaBoard(long everyMs, int maxRunning) {
    this.everyMs = everyMs;
    this.maxRunning = maxRunning;
  }

  boolean enabled() {
    return everyMs > 0;
  }

  /** A command's feedback: {@code iterations} decode iterations, issued and finished at these epoch ms. */
  void commandDone(long issuedAtMs, long finishedAtMs, int decodeIterations, int running, int queued) {
    if (decodeIterations > 0) {
      double wall = finishedAtMs - Math.max(lastFinishedAtMs, issuedAtMs); // idle time before it is not its cost
      wallMs = average(wallMs, Math.max(0, wall));
      iterations = average(iterations, decodeIterations);
    }
    if (queued > 0 && running > 0) {
      slots = average(slots, running);
    }
    lastFinishedAtMs = Math.max(lastFinishedAtMs, finishedAtMs);
  }

  void initialPrediction(double tokens) {
    predictionSum += tokens;
    predictionCount++;
  }

  void finished(String id, int outputTokens, boolean served) {
    marks.remove(id);
    if (served) {
      outputSum += outputTokens;
      outputCount++;
    }
  }

  /** Measured wall time per decode iteration (ms), NaN before the first measurement. */
  double stepMs() {
    return wallMs / iterations;
  }

  /** Requests assumed to decode side by side. */
  int slots() {
    return Double.isNaN(slots) ? maxRunning : Math.max(1, (int) Math.round(slots));
  }

  /** Mean output length to assume for a request without a prediction (tokens). */
  double priorOutputTokens(int maxNewTokens) {
    if (outputCount > 0) {
      return outputSum / outputCount;
    }
    return predictionCount > 0 ? predictionSum / predictionCount : maxNewTokens;
  }

  /**
   * Publishes the ETAs that are due: {@code accepted} names a request just accepted (or null); every other live
   * request is due on its first prediction or when its last ETA is {@code everyMs} old.
   */
  void publish(Scheduler scheduler, Map<String, ServedRequest> requests, String accepted, String engine,
      String policy, long now) {
    if (!enabled() || requests.isEmpty() || !anyDue(scheduler, requests, accepted, now)) {
      return;
    }
    List<Request> running = scheduler.runningRequests();
    List<Request> queued = scheduler.queuedInOrder();
    List<Double> runningWork = new ArrayList<>(running.size());
    running.forEach(r -> runningWork.add(assumedRemaining(r)));
    List<Double> queuedWork = new ArrayList<>(queued.size());
    queued.forEach(r -> queuedWork.add(assumedRemaining(r)));
    double stepMs = stepMs();
    double[] offsets = Double.isNaN(stepMs) ? null
        : FinishTimes.offsetsMs(runningWork, queuedWork, slots(), stepMs);
    for (int i = 0; i < running.size() + queued.size(); i++) {
      boolean isRunning = i < running.size();
      Request r = isRunning ? running.get(i) : queued.get(i - running.size());
      ServedRequest s = requests.get(r.id());
      String cause = cause(r, accepted, now);
      if (s == null || cause == null) {
        continue;
      }
      marks.put(r.id(), new Mark(now, r.hasPrediction()));
      int position = isRunning ? 0 : i - running.size() + 1;
      double p90 = Math.min(s.predictedP90, r.maxNewTokens() - r.generated());
      pending().add(EtaUpdate.newBuilder().setRequestId(r.id()).setTenant(s.request.tenant()).setEngine(engine)
          .setPolicy(policy).setCause(cause).setState(r.state().name().toLowerCase(Locale.ROOT))
          .setSubmittedAt(Instant.ofEpochMilli(s.request.submittedAtMs())).setEmittedAt(Instant.ofEpochMilli(now))
          .setGenerated(r.generated()).setQueuePosition(position).setQueuedAhead(Math.max(0, position - 1))
          .setPredictedRemaining(r.hasPrediction() ? r.remainingEstimate() : null)
          .setPredictedRemainingP90(Double.isNaN(p90) ? null : p90)
          .setAssumedRemaining(isRunning ? runningWork.get(i) : queuedWork.get(i - running.size()))
          .setStepMs(Double.isNaN(stepMs) ? null : stepMs).setSlots(slots())
          .setPredictedFinishAt(offsets == null ? null : Instant.ofEpochMilli(now + Math.round(offsets[i])))
          .build());
    }
  }

  /** The updates published since the last call. */
  List<EtaUpdate> drain() {
    List<EtaUpdate> out = pending == null ? List.of() : pending;
    pending = null;
    return out;
  }

  private boolean anyDue(Scheduler scheduler, Map<String, ServedRequest> requests, String accepted, long now) {
    if (accepted != null) {
      return true;
    }
    for (String id : requests.keySet()) {
      Request r = scheduler.request(id);
      if (r != null && cause(r, null, now) != null) {
        return true;
      }
    }
    return false;
  }

  private String cause(Request r, String accepted, long now) {
    if (r.id().equals(accepted)) {
      return "accepted";
    }
    Mark m = marks.get(r.id());
    if (m == null) {
      return null; // accepted before the stream was on (a restored snapshot): waits for its next acceptance
    }
    if (!m.predicted() && r.hasPrediction()) {
      return "predicted";
    }
    return now - m.atMs() >= everyMs ? "refresh" : null;
  }

  private double assumedRemaining(Request r) {
    double cap = r.maxNewTokens() - r.generated();
    double work = r.hasPrediction() ? r.remainingEstimate() : priorOutputTokens(r.maxNewTokens()) - r.generated();
    return Math.max(1, Math.min(cap, work));
  }

  private List<EtaUpdate> pending() {
    if (pending == null) {
      pending = new ArrayList<>();
    }
    return pending;
  }

  private static double average(double current, double sample) {
    return Double.isNaN(current) ? sample : current + SMOOTHING * (sample - current);
  }
}
