package io.trailflink.serving;

import io.trailflink.scheduler.Request;
import io.trailflink.schema.ServedRequestState;
import java.io.Serializable;
import java.util.Arrays;
import java.util.List;

/** What the serving side keeps about one in-flight request beyond the scheduler's view: tokens, text, timings. */
final class ServedRequest implements Serializable {
  private static final long serialVersionUID = 1L;

  final ValidatedRequest request;
  private int[] generated = new int[32];
  int generatedCount; // tokens
  final StringBuilder text = new StringBuilder();
  long firstAdmittedAtMs = -1; // epoch ms
  long firstTokenAtMs = -1; // epoch ms
  /** Whether the engine holds this request's KV (false after an eviction or an engine restart). */
  boolean kvResident;
  /** Whether the engine knows this request at all (false before admission and after an engine restart). */
  boolean inEngine;
  /** Whether its prompt was sent to be embedded for the initial prediction (once, while waiting). */
  boolean probed;
  /** 90th percentile of its remaining output from the predictor's last bins (tokens); null when none. */
  Double predictedP90;
  /** Its 1-based place among the engine's arrivals: the seed of its synthetic prediction error. */
  final int arrivalNumber;

  ServedRequest(ValidatedRequest request, int arrivalNumber) {
    this.request = request;
    this.arrivalNumber = arrivalNumber;
  }

  void append(List<Integer> tokens, String delta) {
    if (generatedCount + tokens.size() > generated.length) {
      generated = Arrays.copyOf(generated, Math.max(generated.length * 2, generatedCount + tokens.size()));
    }
    for (int t : tokens) {
      generated[generatedCount++] = t;
    }
    text.append(delta);
  }

  List<Integer> generatedTokens() {
    return Arrays.stream(generated, 0, generatedCount).boxed().toList();
  }

  /** Its checkpoint form, with the scheduler's view {@code r} of it. */
  ServedRequestState toState(Request r) {
    ValidatedRequest v = request;
    return ServedRequestState.newBuilder().setId(v.id()).setTenant(v.tenant())
        .setPromptTokenIds(Arrays.stream(v.promptTokenIds()).boxed().toList()).setMaxNewTokens(v.maxNewTokens())
        .setForcedOutputTokens(v.forcedOutputTokens()).setSampling(v.sampling()).setStop(List.copyOf(v.stop()))
        .setSubmittedAtMs(v.submittedAtMs()).setDeadlineAtMs(v.deadlineAtMs()).setPlacementSeq(v.placementSeq())
        .setArrivalNumber(arrivalNumber).setArrivalOrder(r.arrivalOrder()).setState(r.state().name())
        .setSchedulerGenerated(r.generated()).setInitialPrediction(orNull(r.initialPrediction()))
        .setPredictedRemaining(orNull(r.predictedRemaining())).setPredictedP90(predictedP90)
        .setPreemptions(r.preemptions()).setEvictions(r.evictions()).setRescued(r.rescued())
        .setQueuedSinceMs(r.queuedSinceMs()).setGeneratedTokenIds(generatedTokens()).setText(text.toString())
        .setFirstAdmittedAtMs(firstAdmittedAtMs).setFirstTokenAtMs(firstTokenAtMs).setProbed(probed).build();
  }

  /** The request a checkpoint kept, on engine {@code engineIndex}; the engine holds none of it (a new engine). */
  static ServedRequest restored(ServedRequestState st, int engineIndex) {
    ValidatedRequest v = new ValidatedRequest(st.getId(), st.getTenant(),
        st.getPromptTokenIds().stream().mapToInt(Integer::intValue).toArray(), st.getMaxNewTokens(),
        st.getForcedOutputTokens(), st.getSampling(), List.copyOf(st.getStop()), st.getSubmittedAtMs(), engineIndex,
        null, false, st.getDeadlineAtMs(), st.getPlacementSeq());
    ServedRequest s = new ServedRequest(v, st.getArrivalNumber());
    s.append(st.getGeneratedTokenIds(), st.getText());
    s.firstAdmittedAtMs = st.getFirstAdmittedAtMs();
    s.firstTokenAtMs = st.getFirstTokenAtMs();
    s.probed = st.getProbed();
    s.predictedP90 = st.getPredictedP90();
    return s;
  }

  /** The scheduler's view of a request a checkpoint kept, as {@code EngineLoop} made it at acceptance. */
  Request restoredRequest(ServedRequestState st) {
    ValidatedRequest v = request;
    int cap = Math.max(v.maxNewTokens(), v.forcedOutputTokens());
    return Request.restored(v.id(), v.submittedAtMs(), st.getArrivalOrder(), v.promptTokenIds().length, cap,
        v.forcedOutputTokens() > 0 ? v.forcedOutputTokens() : -1, v.tenant(), st.getSchedulerGenerated(),
        nanIfNull(st.getInitialPrediction()), nanIfNull(st.getPredictedRemaining()), st.getPreemptions(),
        st.getEvictions(), st.getRescued(), st.getQueuedSinceMs());
  }

  private static Double orNull(double v) {
    return Double.isNaN(v) ? null : v;
  }

  private static double nanIfNull(Double v) {
    return v == null ? Double.NaN : v;
  }
}
