package io.trailflink.engine;

import io.trailflink.engine.text.TextCodec;
import io.trailflink.schema.AdmitSpec;
import io.trailflink.schema.ProbeSpec;
import io.trailflink.schema.RequestProgress;
import io.trailflink.schema.StepCommand;
import io.trailflink.schema.StepResult;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Executes the Avro {@link StepCommand} contract on one {@link LlamaEngine}: release, evict, preempt, resume, admit (new
 * requests are prefilled; requests carrying generated tokens are adopted and recomputed), then a decode quantum.
 * Every request touched gets one {@link RequestProgress} with its new tokens, their text and the tap states.
 * Exceptions never escape: a command that fails as a whole comes back with {@code error} set.
 *
 * <p>Not thread-safe: one executor per engine, driven from the engine's decode thread.
 */
public final class StepExecutor {
  private final LlamaEngine engine;
  private final TextCodec text;
  private final String incarnation = UUID.randomUUID().toString();
  private final Map<String, TextStream> texts = new HashMap<>();
  private final Map<String, List<String>> stops = new HashMap<>(); // requests with stop strings

  /** Outcome of a probe's progress entry: an embedding only, no change to the request. */
  public static final String PROBED = "PROBED";

  public StepExecutor(LlamaEngine engine, TextCodec text) {
    this.engine = engine;
    this.text = text;
  }

  private static final java.lang.management.ThreadMXBean THREADS =
      java.lang.management.ManagementFactory.getThreadMXBean();

  /** Random id of this engine process: changes when the engine (and its KV caches) are recreated. */
  public String incarnation() {
    return incarnation;
  }

  public StepResult execute(StepCommand cmd) {
    long startedAt = System.currentTimeMillis();
    long t0 = System.nanoTime();
    long cpu0 = THREADS.getCurrentThreadCpuTime();
    long probeEnd = t0;
    long prefillEnd = t0;
    Map<String, Acc> touched = new LinkedHashMap<>();
    String error = null;
    List<RequestProgress> progress = new ArrayList<>();
    try {
      probe(cmd, progress);
      probeEnd = System.nanoTime();
      prefillEnd = probeEnd;
      // releases are not answered: forgetting is idempotent, and an "unknown request" answer must not merge
      // into the same command's re-admission of that id (after an engine restart)
      cmd.getRelease().forEach(id -> {
        engine.release(id);
        texts.remove(id);
        stops.remove(id);
      });
      cmd.getEvict().forEach(id -> acc(touched, engine.evict(id)));
      cmd.getPreempt().forEach(id -> acc(touched, engine.preempt(id)));
      if (!cmd.getResume().isEmpty()) {
        engine.resume(cmd.getResume()).forEach(u -> acc(touched, u));
      }
      admit(cmd.getAdmit(), touched);
      for (String id : cmd.getPark()) { // prefilled ahead of their turn: paused, unless already done or refused
        Acc a = touched.get(id);
        if (a != null && a.last.outcome() == Outcome.OK && a.last.finish() == null) {
          acc(touched, engine.preempt(id));
        }
      }
      prefillEnd = System.nanoTime();
      if (!cmd.getDecode().isEmpty()) {
        engine.decode(cmd.getDecode(), cmd.getDecodeSteps()).forEach(u -> acc(touched, u));
      }
    } catch (RuntimeException e) {
      error = "step " + cmd.getStepSeq() + " failed: " + e;
    }
    long end = System.nanoTime();
    double cpuMs = (THREADS.getCurrentThreadCpuTime() - cpu0) / 1e6;
    for (Acc a : touched.values()) {
      progress.add(a.toProgress());
    }
    return StepResult.newBuilder()
        .setEngine(cmd.getEngine())
        .setEngineIncarnation(incarnation)
        .setStepSeq(cmd.getStepSeq())
        .setIssuedAtMs(cmd.getIssuedAtMs()).setIssuedAtUs(cmd.getIssuedAtUs())
        .setStartedAtMs(startedAt)
        .setFinishedAtMs(System.currentTimeMillis())
        .setBusyMs((end - t0) / 1e6)
        .setProbeMs((probeEnd - t0) / 1e6)
        .setPrefillMs((Math.max(prefillEnd, probeEnd) - probeEnd) / 1e6)
        .setDecodeMs((end - Math.max(prefillEnd, probeEnd)) / 1e6)
        .setCpuMs(cpuMs)
        .setDecisionUs(cmd.getDecisionUs())
        .setDecisionCpuUs(cmd.getDecisionCpuUs())
        .setBlocksUsed(engine.blocksUsed())
        .setBlockCapacity(engine.blockCapacity())
        .setProgress(progress)
        .setError(error)
        .build();
  }

  /** Embeds the probed prompts; each success is a progress entry with outcome PROBED and its prompt-mean row. */
  private void probe(StepCommand cmd, List<RequestProgress> progress) {
    if (cmd.getProbe().isEmpty()) {
      return;
    }
    List<GenerationRequest> reqs = new ArrayList<>();
    for (ProbeSpec p : cmd.getProbe()) {
      reqs.add(new GenerationRequest(p.getRequestId(), toArray(p.getPromptTokenIds()), 1, 0, SamplingParams.GREEDY));
    }
    for (SequenceUpdate u : engine.probe(reqs)) {
      if (u.outcome() != Outcome.OK) {
        continue; // not embedded now: the request keeps its fallback rank
      }
      float[] mean = u.tapStates()[0];
      progress.add(RequestProgress.newBuilder().setRequestId(u.requestId()).setOutcome(PROBED).setGenerated(0)
          .setBlocksHeld(0).setTapHidden(mean.length).setTapStates(littleEndian(List.of(mean)))
          .setTapGenerated(List.of(0)).build());
    }
  }

  private void admit(List<AdmitSpec> specs, Map<String, Acc> touched) {
    List<GenerationRequest> fresh = new ArrayList<>();
    List<String> adopted = new ArrayList<>();
    for (AdmitSpec a : specs) {
      GenerationRequest r = toRequest(a);
      if (!r.stop().isEmpty()) {
        stops.put(r.id(), r.stop());
      }
      if (a.getGeneratedTokenIds().isEmpty()) {
        fresh.add(r);
        continue;
      }
      int[] generated = toArray(a.getGeneratedTokenIds());
      SequenceUpdate u = engine.adopt(r, generated);
      if (u.outcome() == Outcome.OK) {
        adopted.add(r.id());
        texts.put(r.id(), new TextStream(generated, text, r.stop()));
      } else {
        acc(touched, u);
      }
    }
    if (!adopted.isEmpty()) {
      engine.resume(adopted).forEach(u -> acc(touched, u));
    }
    if (!fresh.isEmpty()) {
      engine.admit(fresh).forEach(u -> acc(touched, u));
    }
  }

  private static GenerationRequest toRequest(AdmitSpec a) {
    var s = a.getSampling();
    return new GenerationRequest(a.getRequestId(), toArray(a.getPromptTokenIds()), a.getMaxNewTokens(),
        a.getForcedOutputTokens(), new SamplingParams(s.getTemperature(), s.getTopP(), s.getSeed(), s.getTopK(),
            s.getRepetitionPenalty()), a.getStop());
  }

  private void acc(Map<String, Acc> touched, SequenceUpdate u) {
    touched.computeIfAbsent(u.requestId(), id -> new Acc(id)).add(u);
  }

  /** Merges the updates one command made to one request (e.g. an admit followed by a decode quantum). */
  private final class Acc {
    final String id;
    SequenceUpdate last;
    final List<Integer> tokens = new ArrayList<>();
    final List<float[]> states = new ArrayList<>();
    final List<Integer> tapGenerated = new ArrayList<>();

    Acc(String id) {
      this.id = id;
    }

    void add(SequenceUpdate u) {
      if (last == null || u.outcome() != Outcome.OK || last.outcome() == Outcome.OK) {
        last = u;
      }
      for (int i = 0; i < u.tokens().length; i++) {
        tokens.add(u.tokens()[i]);
      }
      for (int i = 0; i < u.tapStates().length; i++) {
        states.add(u.tapStates()[i]);
        tapGenerated.add(u.tapGenerated()[i]);
      }
    }

    RequestProgress toProgress() {
      int[] newTokens = tokens.stream().mapToInt(Integer::intValue).toArray();
      String delta = "";
      boolean done = last.finish() != null || last.outcome() == Outcome.FAILED;
      if (newTokens.length > 0 || (done && texts.containsKey(id))) { // the end flushes what was held back
        delta = texts.computeIfAbsent(id, k -> new TextStream(new int[0], text, stops.getOrDefault(id, List.of())))
            .append(newTokens, done);
      }
      if (done) {
        texts.remove(id);
        stops.remove(id);
      }
      int hidden = states.isEmpty() ? 0 : states.get(0).length;
      ByteBuffer buf = littleEndian(states);
      return RequestProgress.newBuilder()
          .setRequestId(id)
          .setOutcome(last.outcome().name())
          .setMessage(last.message())
          .setNewTokenIds(tokens)
          .setTextDelta(delta)
          .setGenerated(last.generated())
          .setFinishReason(last.finish() == null ? null : last.finish().wireName())
          .setBlocksHeld(last.blocksHeld())
          .setTapHidden(hidden)
          .setTapStates(buf)
          .setTapGenerated(tapGenerated)
          .build();
    }
  }

  /** Rows of floats as the float32 little-endian bytes of {@code RequestProgress.tap_states}. */
  private static ByteBuffer littleEndian(List<float[]> rows) {
    int n = rows.stream().mapToInt(r -> r.length).sum();
    ByteBuffer buf = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
    for (float[] row : rows) {
      for (float v : row) {
        buf.putFloat(v);
      }
    }
    return buf.flip();
  }

  private static int[] toArray(List<Integer> l) {
    int[] a = new int[l.size()];
    for (int i = 0; i < a.length; i++) {
      a[i] = l.get(i);
    }
    return a;
  }
}
