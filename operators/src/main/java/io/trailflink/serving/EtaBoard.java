package io.trailflink.serving;

import io.trailflink.scheduler.Request;
import io.trailflink.scheduler.RequestState;
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
  private static final double SMOOTHING = 0.2; // weight of the newest sample in the batch-size average
  /** Commands whose wall time and iterations make the iteration time (a sliding window). */
  static final int WINDOW = 32;
  /** Commands measured before any finish time is published (the first ones carry warm-up and parked prefills). */
  static final int WARM = 8;
  static final int ARRIVALS = 512;
  static final int LENGTHS = 256;
  /**
   * The arrival rate is counted over this much recent time (ms): short enough that a burst already queued is not
   * mistaken for a stream that keeps coming, long enough for a steady rate.
   */
  static final long ARRIVAL_WINDOW_MS = 2_000;

  private long everyMs; // 0 = no ETA stream
  private final int maxRunning;
  /** The last {@link #WINDOW} commands with decode iterations. */
  private final Command[] window = new Command[WINDOW];
  private long measured; // commands measured so far
  private double lastStepMs = Double.NaN; // the iteration time of the last published estimates (ms)

  /**
   * One command's timing, as its feedback tells it.
   *
   * @param issuedAtMs when the scheduler issued it (epoch ms)
   * @param finishedAtMs when the engine finished it (epoch ms)
   * @param busyMs engine compute time (ms)
   * @param decodeMs part of it in decode iterations (ms)
   * @param prefillMs part of it prefilling prompts (ms)
   * @param iterations decode iterations it ran
   * @param prefills prompts it prefilled
   */
  record Command(long issuedAtMs, long finishedAtMs, double busyMs, double decodeMs, double prefillMs,
      int iterations, int prefills) implements Serializable {}
  private double slots = Double.NaN; // the batch each command was planned with while others queued (moving average)
  /** Decode iterations a slot stays empty after its request ends (the quantum's rest, the pipeline's lag). */
  private final double slotGapIterations;
  private long lastFinishedAtMs = -1; // epoch ms of the previous command's end
  private double outputSum; // tokens, finished requests
  private long outputCount;
  private double predictionSum; // tokens, initial predictions
  private long predictionCount;
  private final Map<String, Mark> marks = new HashMap<>();
  /**
   * Submission times of the last accepted requests (epoch ms, a ring): the arrival rate that keeps coming; made on
   * first use ({@link #arrivals()}).
   */
  private long[] arrivals;
  private long arrivalCount;
  /** Output lengths of the last finished requests (tokens, a ring): the lengths arrivals will have; may be null. */
  private int[] lengths;
  private long lengthCount;
  private transient List<EtaUpdate> pending;

  /** When a request's ETA was last published, and whether it had a prediction then. */
  private record Mark(long atMs, boolean predicted) implements Serializable {}

  /**
   * @param decodeSteps decode iterations per command (the quantum)
   * @param pipelineDepth commands in flight: with 2, the command after next is the first planned with a finished
   *     request's slot free
   */
  EtaBoard(long everyMs, int maxRunning, int decodeSteps, int pipelineDepth) {
    this.everyMs = everyMs;
    this.maxRunning = maxRunning;
    // a request ends on average mid-quantum, then waits out the commands already planned with it
    this.slotGapIterations = (decodeSteps - 1) / 2.0 + decodeSteps * (pipelineDepth - 1);
  }

  void setEveryMs(long everyMs) {
    this.everyMs = everyMs;
  }

  boolean enabled() {
    return everyMs > 0;
  }

  /**
   * A command was planned with {@code running} requests in its batch and {@code queued} left waiting: the slots the
   * engine keeps filled (all of them unless KV binds). Counted when the command is planned, not after its answers,
   * when the requests that finished in it have left their slots.
   */
  void planned(int running, int queued) {
    if (queued > 0 && running > 0) {
      slots = average(slots, running);
    }
  }

  /** A command's feedback. */
  void commandDone(Command c) {
    if (c.iterations() > 0) {
      // wall time from the previous command's end (or its own start after an idle gap), so idle time is not its cost
      double wall = Math.max(0, c.finishedAtMs() - Math.max(lastFinishedAtMs, c.issuedAtMs()));
      window[(int) (measured++ % WINDOW)] = new Command(c.issuedAtMs(), c.issuedAtMs() + (long) wall, c.busyMs(),
          c.decodeMs(), c.prefillMs(), c.iterations(), c.prefills());
    }
    lastFinishedAtMs = Math.max(lastFinishedAtMs, c.finishedAtMs());
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
      lengths()[(int) (lengthCount++ % LENGTHS)] = outputTokens;
    }
  }

  /** A request submitted at {@code submittedAtMs} (epoch ms) was accepted. */
  void arrived(long submittedAtMs) {
    arrivals()[(int) (arrivalCount++ % ARRIVALS)] = submittedAtMs;
  }

  /** A request accepted at {@code submittedAtMs} was refused after all: it will not go ahead of anyone. */
  void withdrawn(long submittedAtMs) {
    long[] a = arrivals();
    for (int i = 0; i < Math.min(arrivalCount, ARRIVALS); i++) {
      if (a[i] == submittedAtMs) {
        a[i] = Long.MIN_VALUE; // outside every window
        return;
      }
    }
  }

  private long[] arrivals() {
    if (arrivals == null) {
      arrivals = new long[ARRIVALS];
      arrivalCount = 0;
    }
    return arrivals;
  }

  private int[] lengths() {
    if (lengths == null) {
      lengths = new int[LENGTHS];
      lengthCount = 0;
    }
    return lengths;
  }

  /**
   * How long the arrivals have kept coming without a pause of {@link #ARRIVAL_WINDOW_MS} (ms, as far back as the
   * ring remembers): the horizon over which they are expected to go on.
   */
  long arrivalStreamMs(long now) {
    int n = (int) Math.min(arrivalCount, ARRIVALS);
    long[] times = new long[n];
    for (int i = 0; i < n; i++) {
      times[i] = arrivals()[i];
    }
    java.util.Arrays.sort(times); // submission times need not come in order
    long newer = now;
    for (int k = n - 1; k >= 0; k--) {
      if (times[k] == Long.MIN_VALUE || newer - times[k] > ARRIVAL_WINDOW_MS) {
        break;
      }
      newer = times[k];
    }
    return now - newer;
  }

  /** Requests accepted per ms over the last {@link #ARRIVAL_WINDOW_MS}. */
  double arrivalRatePerMs(long now) {
    int n = 0;
    long[] a = arrivals();
    for (int i = 0; i < Math.min(arrivalCount, ARRIVALS); i++) {
      if (a[i] > now - ARRIVAL_WINDOW_MS && a[i] <= now) {
        n++;
      }
    }
    return n / (double) ARRIVAL_WINDOW_MS;
  }

  /**
   * Per queued request, the share of the engine's token rate that requests arriving from now on and ranked ahead of
   * it take: arrival rate × E[L · 1{L < its work}] ÷ token rate, L the output lengths of recently finished requests.
   * Null when nothing arrives or the policy does not rank by length (later arrivals then queue behind).
   */
  private double[] aheadLoad(List<Double> queuedWork, double stepMs, boolean byLength, long now) {
    double rate = arrivalRatePerMs(now);
    int known = (int) Math.min(lengthCount, LENGTHS);
    if (!byLength || rate <= 0 || known == 0 || Double.isNaN(stepMs)) {
      return null;
    }
    int[] sorted = java.util.Arrays.copyOf(lengths(), known);
    java.util.Arrays.sort(sorted);
    double[] prefix = new double[known + 1]; // prefix[k]: sum of the k shortest
    for (int i = 0; i < known; i++) {
      prefix[i + 1] = prefix[i] + sorted[i];
    }
    double tokensPerMs = slots() / stepMs;
    double[] load = new double[queuedWork.size()];
    for (int j = 0; j < load.length; j++) {
      int below = lowerBound(sorted, queuedWork.get(j)); // lengths shorter than its work
      load[j] = rate * (prefix[below] / known) / tokensPerMs;
    }
    return load;
  }

  private static int lowerBound(int[] sorted, double x) {
    int lo = 0;
    int hi = sorted.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (sorted[mid] < x) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /**
   * Wall time per decode iteration at steady state (ms): {@link #stepMs(double)} with {@code slots ÷ mean output}
   * admissions per iteration (the mean output of finished requests).
   */
  double stepMs(int maxNewTokens) {
    return stepMs(slots() / Math.max(1, priorOutputTokens(maxNewTokens)));
  }

  /**
   * Wall time per decode iteration to expect from now on (ms), NaN before {@link #WARM} commands are measured: the
   * window's decode time per iteration, plus a prompt's prefill time for each admission an iteration will bring
   * (given — not the window's own rate of prefills, which a burst of parked prompts inflates), scaled by the
   * command's wall time over engine time (the loop's overhead); each a median over the window's commands.
   *
   * @param admissionsPerIteration prompts prefilled per decode iteration from now on
   */
  double stepMs(double admissionsPerIteration) {
    if (measured < WARM) {
      return Double.NaN;
    }
    int n = (int) Math.min(measured, WINDOW);
    double wall = 0;
    double busy = 0;
    double decode = 0;
    long iterationsSum = 0;
    double[] overhead = new double[n]; // each command's wall time over its engine time
    double[] decodePerIteration = new double[n];
    double[] perPrefill = new double[n];
    int prefilling = 0;
    for (int i = 0; i < n; i++) {
      Command c = window[i];
      wall += c.finishedAtMs() - c.issuedAtMs();
      busy += c.busyMs();
      decode += c.decodeMs();
      iterationsSum += c.iterations();
      overhead[i] = c.busyMs() > 0 ? (c.finishedAtMs() - c.issuedAtMs()) / c.busyMs() : 1;
      decodePerIteration[i] = c.decodeMs() / c.iterations(); // the window holds commands with iterations only
      if (c.prefills() > 0) {
        perPrefill[prefilling++] = c.prefillMs() / c.prefills();
      }
    }
    if (decode <= 0 || busy <= 0) {
      return wall / iterationsSum; // a feedback without phase times: its wall time per iteration
    }
    // medians over the window's commands, not its totals: the first commands of a burst carry transients (the
    // scheduler's thread busy accepting thousands of requests, first-use costs in the engine) that must not be
    // extrapolated over the whole queue
    return (median(decodePerIteration, n) + median(perPrefill, prefilling) * admissionsPerIteration)
        * Math.max(1, median(overhead, n));
  }

  /** The median of the first {@code n} values (sorted in place); 0 when there are none. */
  private static double median(double[] values, int n) {
    if (n == 0) {
      return 0;
    }
    java.util.Arrays.sort(values, 0, n);
    return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  }

  /** The iteration time the last estimates used (ms); NaN before the first. */
  double lastStepMs() {
    return lastStepMs;
  }

  /** Requests assumed to decode side by side: the batch commands are planned with while others queue. */
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
    Plan plan = plan(scheduler, requests, now);
    double stepMs = plan.stepMs();
    lastStepMs = stepMs;
    double[] offsets = plan.offsets();
    for (int i = 0; i < plan.order().size(); i++) {
      boolean isRunning = i < plan.running();
      Request r = plan.order().get(i);
      ServedRequest s = requests.get(r.id());
      String cause = cause(r, accepted, now);
      if (s == null || cause == null) {
        continue;
      }
      marks.put(r.id(), new Mark(now, r.hasPrediction()));
      int position = isRunning ? 0 : i - plan.running() + 1;
      double p90 = s.predictedP90 == null ? Double.NaN : Math.min(s.predictedP90, r.maxNewTokens() - r.generated());
      pending().add(EtaUpdate.newBuilder().setRequestId(r.id()).setTenant(s.request.tenant()).setEngine(engine)
          .setPolicy(policy).setCause(cause).setState(r.state().name().toLowerCase(Locale.ROOT))
          .setSubmittedAt(Instant.ofEpochMilli(s.request.submittedAtMs())).setEmittedAt(Instant.ofEpochMilli(now))
          .setGenerated(r.generated()).setQueuePosition(position).setQueuedAhead(Math.max(0, position - 1))
          .setPredictedRemaining(r.hasPrediction() ? r.remainingEstimate() : null)
          .setPredictedRemainingP90(Double.isNaN(p90) ? null : p90)
          .setAssumedRemaining(plan.work().get(i))
          .setStepMs(Double.isNaN(stepMs) ? null : stepMs).setSlots(slots())
          .setPredictedFinishAt(offsets == null ? null : Instant.ofEpochMilli(now + Math.round(offsets[i])))
          .build());
    }
  }

  /**
   * When {@code id} (live) is predicted to finish, as its ETA would say now (epoch ms); NaN before the iteration
   * time is measured.
   */
  double predictedFinishAtMs(Scheduler scheduler, Map<String, ServedRequest> requests, String id, long now) {
    return predictedFinishAtMs(scheduler, requests, java.util.Set.of(id), now).getOrDefault(id, Double.NaN);
  }

  /** The same for several requests, from one plan; empty before the iteration time is measured. */
  Map<String, Double> predictedFinishAtMs(Scheduler scheduler, Map<String, ServedRequest> requests,
      java.util.Set<String> ids, long now) {
    Plan plan = plan(scheduler, requests, now);
    Map<String, Double> out = new HashMap<>();
    if (plan.offsets() != null) {
      for (int i = 0; i < plan.order().size(); i++) {
        if (ids.contains(plan.order().get(i).id())) {
          out.put(plan.order().get(i).id(), now + plan.offsets()[i]);
        }
      }
    }
    return out;
  }

  /** The running batch then the queue as the estimate plays them, with their work and finish offsets (ms). */
  private record Plan(List<Request> order, int running, List<Double> work, double stepMs, double[] offsets) {}

  private Plan plan(Scheduler scheduler, Map<String, ServedRequest> requests, long now) {
    List<Request> running = scheduler.runningRequests();
    List<Request> inQueue = scheduler.queuedInOrder();
    Integer[] byWork = new Integer[inQueue.size()];
    double[] assumed = new double[inQueue.size()];
    for (int i = 0; i < byWork.length; i++) {
      byWork[i] = i;
      assumed[i] = assumedRemaining(inQueue.get(i));
    }
    if (scheduler.policy().usesPredictions()) {
      // a policy that ranks by predicted length will rank a request not predicted yet once it is (it is parked or
      // probed soon): place it by the length assumed for it, not behind every predicted one as the queue does now
      java.util.Arrays.sort(byWork, java.util.Comparator.comparingDouble(i -> assumed[i])); // stable
    }
    List<Request> queued = new ArrayList<>(byWork.length);
    List<Double> queuedWork = new ArrayList<>(byWork.length);
    for (int i : byWork) {
      queued.add(inQueue.get(i));
      queuedWork.add(assumed[i]);
    }
    List<Double> runningWork = new ArrayList<>(running.size());
    running.forEach(r -> runningWork.add(assumedRemaining(r)));
    // over the plan, every queued request without KV is prefilled once while the work is decoded slots at a time:
    // prefills per iteration = slots × those requests ÷ the work (a burst's early finishers, the shortest under a
    // length-ranking policy, would make the mean output, and with it the prefill share, far off)
    double totalWork = 0;
    int prefillsAhead = 0;
    for (double w : runningWork) {
      totalWork += w;
    }
    for (int i = 0; i < queued.size(); i++) {
      totalWork += queuedWork.get(i);
      RequestState st = queued.get(i).state();
      prefillsAhead += st == RequestState.PREEMPTED ? 0 : 1; // a parked or preempted request resumes with its KV
    }
    double stepMs = stepMs(slots() * prefillsAhead / Math.max(1, totalWork));
    double[] offsets = Double.isNaN(stepMs) ? null : FinishTimes.offsetsMs(runningWork, queuedWork, slots(), stepMs,
        aheadLoad(queuedWork, stepMs, scheduler.policy().usesPredictions(), now), arrivalStreamMs(now),
        slotGapIterations);
    List<Request> order = new ArrayList<>(running);
    order.addAll(queued);
    List<Double> work = new ArrayList<>(runningWork);
    work.addAll(queuedWork);
    return new Plan(order, running.size(), work, stepMs, offsets);
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
      return "refresh"; // accepted before the stream was on (a restored snapshot)
    }
    if (!m.predicted() && r.hasPrediction()) {
      return "predicted";
    }
    return now - m.atMs() >= everyMs ? "refresh" : null;
  }

  private double assumedRemaining(Request r) {
    double cap = r.maxNewTokens() - r.generated();
    double work = r.hasPrediction() || !Double.isNaN(r.promptPrior()) ? r.remainingEstimate()
        : priorOutputTokens(r.maxNewTokens()) - r.generated();
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
