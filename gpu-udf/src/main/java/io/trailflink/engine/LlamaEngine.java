package io.trailflink.engine;

import ai.djl.Device;
import io.trailflink.engine.djl.DjlForward;
import io.trailflink.engine.djl.SequenceChunk;
import io.trailflink.engine.model.Checkpoint;
import io.trailflink.engine.model.ComputeType;
import io.trailflink.engine.model.MemoryBudget;
import io.trailflink.engine.model.LlamaConfig;
import io.trailflink.engine.text.TextCodec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A decode engine: one model replica with a paged KV cache of fixed capacity, executing what the scheduler decides.
 *
 * <pre>
 *   admit ──► RUNNING ──decode(k)──► RUNNING ──► finished (blocks freed, request forgotten)
 *                │  ▲                  │
 *        preempt │  │ decode/resume    │ evict (blocks freed; tokens kept)
 *                ▼  │                  ▼
 *             PREEMPTED ──evict──►  EVICTED ──resume──► RUNNING (recomputed from prompt + generated tokens)
 * </pre>
 *
 * <p>Contract: every operation answers one {@link SequenceUpdate} per request it was given, in order; a bad request
 * is {@link Outcome#REJECTED} and a native failure {@link Outcome#FAILED} for the requests of that batch only — the
 * engine stays usable. Blocks are allocated lazily as tokens are written; when none is free the request stops with
 * {@link Outcome#KV_FULL} and keeps what it holds. Not thread-safe: one thread drives an engine.
 */
public final class LlamaEngine implements AutoCloseable {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(LlamaEngine.class);
  private final LlamaConfig model;
  private final Set<Integer> eos;
  private final int tapLayer;
  private final BlockAllocator blocks;
  private final DjlForward forward;
  private final Map<String, SequenceState> sequences = new LinkedHashMap<>();
  private final Path tokenizerFile; // for stop strings; may not exist
  private TextCodec stopText; // opened for the first request with stop strings
  private long forwardCalls;

  /** The width weights, activations and KV are held in. */
  public ComputeType computeType() {
    return forward.computeType();
  }

  public LlamaEngine(Checkpoint checkpoint, EngineConfig config, Device device) {
    this.model = checkpoint.config();
    this.eos = new HashSet<>(checkpoint.eosTokenIds());
    this.tapLayer = config.resolveTapLayer(model.numLayers());
    this.blocks = new BlockAllocator(config.kvBlocks(), config.blockSize());
    ComputeType type = ComputeType.parse(config.dtype(), checkpoint.weights());
    if (Device.Type.CPU.equals(device.getDeviceType())) {
      long kvBytes = 2L * model.numLayers() * config.kvBlocks() * config.blockSize() * model.kvDim()
          * (type == ComputeType.F16 ? 2 : 4);
      MemoryBudget.requireFits(checkpoint.dir().toString(), MemoryBudget.weightBytes(checkpoint.weights(), type),
          kvBytes, type);
    }
    this.forward = new DjlForward(checkpoint.weights(), device, config.kvBlocks(), config.blockSize(), tapLayer,
        type);
    if (forward.clampedToF16() > 0) {
      LOG.warn("{}: {} BF16 weights beyond F16's range were clamped to ±65504 (use --dtype f32 to keep them)",
          checkpoint.dir(), forward.clampedToF16());
    }
    this.tokenizerFile = checkpoint.dir().resolve(Checkpoint.TOKENIZER_FILE);
  }

  /** Prefills the given requests as one batch and samples each one's first token. */
  public List<SequenceUpdate> admit(List<GenerationRequest> requests) {
    SequenceUpdate[] out = new SequenceUpdate[requests.size()];
    List<Integer> batch = new ArrayList<>();
    List<SequenceState> states = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < requests.size(); i++) {
      GenerationRequest r = requests.get(i);
      String problem = validate(r);
      if (problem == null && !seen.add(r.id())) {
        problem = "duplicate request id '" + r.id() + "' in one admit";
      }
      if (problem != null) {
        out[i] = SequenceUpdate.rejected(r.id(), problem);
        continue;
      }
      int need = blocks.blocksFor(r.promptTokens().length);
      if (need > blocks.free()) {
        out[i] = SequenceUpdate.kvFull(r.id(), "prompt needs " + need + " KV blocks, " + blocks.free() + " free");
        continue;
      }
      SequenceState s = new SequenceState(r);
      reserve(s, r.promptTokens().length);
      batch.add(i);
      states.add(s);
    }
    for (List<Integer> group : lengthGroups(states)) {
      List<SequenceState> part = group.stream().map(states::get).toList();
      try {
        StepResult res = run(promptChunks(part), part, true);
        for (int j = 0; j < part.size(); j++) {
          SequenceState s = part.get(j);
          s.kvLength = s.promptLength();
          s.append(res.tokens()[j]);
          sequences.put(s.request.id(), s);
          // the first token's tap row is the prompt mean: TRAIL's initial prediction reads it
          out[batch.get(group.get(j))] = afterToken(s, new int[] {res.tokens()[j]},
              new float[][] {res.tapMean()[j]}, new int[] {0}, res.tapMean()[j], Outcome.OK, null);
        }
      } catch (RuntimeException e) {
        for (int j = 0; j < part.size(); j++) {
          blocks.release(part.get(j).blocks);
          out[batch.get(group.get(j))] = failed(part.get(j).request.id(), e);
        }
      }
    }
    return List.of(out);
  }

  /**
   * Splits a prefill batch (indices into {@code states}) into groups of similar prompt length: the forward pads
   * every row to the group's longest prompt, so one long prompt among short ones would multiply the work (measured:
   * prefill time per token 2.5× higher for a policy whose admissions mixed lengths). Prompts sorted by length are
   * cut into a new group when padding the next one in would make the group's padded tokens exceed 1.5× its real
   * tokens (plus 64 tokens of slack, so that short prompts still go together).
   */
  static List<List<Integer>> lengthGroups(List<SequenceState> states) {
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < states.size(); i++) {
      order.add(i);
    }
    order.sort(java.util.Comparator.comparingInt(i -> states.get(i).promptLength()));
    List<List<Integer>> groups = new ArrayList<>();
    List<Integer> current = new ArrayList<>();
    long real = 0;
    for (int i : order) {
      int len = states.get(i).promptLength();
      long padded = (long) (current.size() + 1) * len; // sorted: this one is the longest so far
      if (!current.isEmpty() && padded > 1.5 * (real + len) + 64) {
        groups.add(current);
        current = new ArrayList<>();
        real = 0;
      }
      current.add(i);
      real += len;
    }
    if (!current.isEmpty()) {
      groups.add(current);
    }
    return groups;
  }

  /** Runs up to {@code steps} batched decode steps for the given resident requests (a decode quantum). */
  public List<SequenceUpdate> decode(List<String> ids, int steps) {
    if (steps <= 0) {
      throw new IllegalArgumentException("decode steps must be > 0, got " + steps);
    }
    Map<String, Progress> progress = new LinkedHashMap<>();
    List<SequenceUpdate> rejected = new ArrayList<>();
    for (String id : ids) {
      SequenceState s = sequences.get(id);
      if (s == null || !s.resident() || progress.containsKey(id)) {
        rejected.add(SequenceUpdate.rejected(id, s == null ? "unknown or finished request '" + id + "'"
            : !s.resident() ? "request '" + id + "' is evicted: resume it first" : "listed twice"));
        continue;
      }
      s.residency = SequenceState.Residency.RUNNING;
      progress.put(id, new Progress(s));
    }
    List<Progress> active = new ArrayList<>(progress.values());
    for (int step = 0; step < steps && !active.isEmpty(); step++) {
      List<SequenceChunk> chunks = new ArrayList<>();
      List<SequenceState> states = new ArrayList<>();
      for (Progress p : List.copyOf(active)) {
        SequenceState s = p.state;
        if (!reserve(s, s.kvLength + 1)) {
          p.outcome = Outcome.KV_FULL;
          p.message = "no free KV block for position " + s.kvLength;
          active.remove(p);
          continue;
        }
        chunks.add(new SequenceChunk(s.kvLength, new int[] {s.lastToken()}, s.slots()));
        states.add(s);
      }
      if (states.isEmpty()) {
        break;
      }
      StepResult res;
      try {
        res = run(chunks, states, false);
      } catch (RuntimeException e) {
        for (Progress p : active) {
          p.outcome = Outcome.FAILED;
          p.message = "engine error: " + e;
          free(p.state);
        }
        active.clear();
        break;
      }
      for (int j = 0; j < states.size(); j++) {
        SequenceState s = states.get(j);
        Progress p = progress.get(s.request.id());
        p.tapGenerated.add(s.generatedCount());
        s.kvLength++;
        s.append(res.tokens()[j]);
        p.tokens.add(res.tokens()[j]);
        p.states.add(res.tapLast()[j]);
        s.finish = finishReason(s);
        if (s.finish != null) {
          active.remove(p);
        }
      }
    }
    List<SequenceUpdate> out = new ArrayList<>(rejected);
    for (Progress p : progress.values()) {
      if (p.outcome == Outcome.FAILED) {
        out.add(new SequenceUpdate(p.state.request.id(), Outcome.FAILED, p.message, p.tokenArray(),
            p.states.toArray(new float[0][]), p.tapGeneratedArray(), null, null, p.state.generatedCount(), 0));
        continue;
      }
      out.add(afterToken(p.state, p.tokenArray(), p.states.toArray(new float[0][]), p.tapGeneratedArray(), null,
          p.outcome, p.message));
    }
    return out;
  }

  /**
   * Embeds waiting requests' prompts for their initial length prediction: one batched prefill into borrowed KV
   * blocks that are given back at once; nothing about the requests is kept. Answers one update per request with
   * the prompt mean as its only tap row (0 tokens generated), {@link Outcome#KV_FULL} when no blocks are free for
   * it now, {@link Outcome#REJECTED} for a bad prompt.
   */
  public List<SequenceUpdate> probe(List<GenerationRequest> requests) {
    SequenceUpdate[] out = new SequenceUpdate[requests.size()];
    List<Integer> batch = new ArrayList<>();
    List<SequenceState> states = new ArrayList<>();
    for (int i = 0; i < requests.size(); i++) {
      GenerationRequest r = requests.get(i);
      String problem = r.promptTokens().length == 0 || r.promptTokens().length > model.maxPositions()
          ? "prompt of " + r.promptTokens().length + " tokens; the model takes 1.." + model.maxPositions() : null;
      if (problem != null) {
        out[i] = SequenceUpdate.rejected(r.id(), problem);
        continue;
      }
      SequenceState s = new SequenceState(r);
      if (!reserve(s, r.promptTokens().length)) {
        out[i] = SequenceUpdate.kvFull(r.id(), "no free KV blocks to embed the prompt");
        continue;
      }
      batch.add(i);
      states.add(s);
    }
    if (!states.isEmpty()) {
      List<SequenceChunk> chunks = promptChunks(states);
      try {
        forwardCalls++;
        DjlForward.Result res = forward.step(chunks, true, true);
        for (int j = 0; j < states.size(); j++) {
          float[] mean = res.tapMean()[j];
          out[batch.get(j)] = new SequenceUpdate(states.get(j).request.id(), Outcome.OK, null, new int[0],
              new float[][] {mean}, new int[] {0}, mean, null, 0, 0);
        }
      } catch (RuntimeException e) {
        for (int j = 0; j < states.size(); j++) {
          out[batch.get(j)] = failed(states.get(j).request.id(), e);
        }
      } finally {
        for (SequenceState s : states) {
          blocks.release(s.blocks);
        }
      }
    }
    return List.of(out);
  }

  /** Stops decoding a request but keeps its KV cache (TRAIL's preemption). */
  public SequenceUpdate preempt(String id) {
    SequenceState s = sequences.get(id);
    if (s == null || !s.resident()) {
      return SequenceUpdate.rejected(id, s == null ? "unknown or finished request '" + id + "'" : "already evicted");
    }
    s.residency = SequenceState.Residency.PREEMPTED;
    return status(s);
  }

  /** Frees a request's KV cache; it keeps its tokens and can be {@link #resume resumed} by recomputation. */
  public SequenceUpdate evict(String id) {
    SequenceState s = sequences.get(id);
    if (s == null) {
      return SequenceUpdate.rejected(id, "unknown or finished request '" + id + "'");
    }
    blocks.release(s.blocks);
    s.clearBlocks();
    s.residency = SequenceState.Residency.EVICTED;
    return status(s);
  }

  /** Makes requests runnable again: preempted ones at no cost, evicted ones by one batched recompute. */
  public List<SequenceUpdate> resume(List<String> ids) {
    SequenceUpdate[] out = new SequenceUpdate[ids.size()];
    List<Integer> batch = new ArrayList<>();
    List<SequenceState> states = new ArrayList<>();
    for (int i = 0; i < ids.size(); i++) {
      SequenceState s = sequences.get(ids.get(i));
      if (s == null) {
        out[i] = SequenceUpdate.rejected(ids.get(i), "unknown or finished request '" + ids.get(i) + "'");
      } else if (s.resident()) {
        s.residency = SequenceState.Residency.RUNNING;
        out[i] = status(s);
      } else {
        int[] tokens = s.recomputeTokens();
        if (blocks.blocksFor(tokens.length) > blocks.free()) {
          out[i] = new SequenceUpdate(s.request.id(), Outcome.KV_FULL,
              "recompute needs " + blocks.blocksFor(tokens.length) + " KV blocks, " + blocks.free() + " free",
              new int[0], new float[0][], new int[0], null, null, s.generatedCount(), 0);
          continue;
        }
        reserve(s, tokens.length);
        batch.add(i);
        states.add(s);
      }
    }
    if (!states.isEmpty()) {
      List<SequenceChunk> chunks = new ArrayList<>();
      for (SequenceState s : states) {
        chunks.add(new SequenceChunk(0, s.recomputeTokens(), s.slots()));
      }
      try {
        forward.recompute(chunks);
        forwardCalls++;
        for (int j = 0; j < states.size(); j++) {
          SequenceState s = states.get(j);
          s.kvLength = s.promptLength() + s.generatedCount() - 1;
          s.residency = SequenceState.Residency.RUNNING;
          out[batch.get(j)] = status(s);
        }
      } catch (RuntimeException e) {
        for (int j = 0; j < states.size(); j++) {
          free(states.get(j));
          out[batch.get(j)] = failed(states.get(j).request.id(), e);
        }
      }
    }
    return List.of(out);
  }

  /**
   * Takes over a request that was generating elsewhere (before a restart): it enters the engine evicted, with the
   * tokens it had generated, and a {@link #resume} recomputes its cache. A sampled request continues with a fresh
   * sampler, so its remaining text may differ from an uninterrupted run; a greedy one continues identically.
   */
  public SequenceUpdate adopt(GenerationRequest r, int[] generated) {
    String problem = validate(r);
    if (problem == null && (generated.length == 0 || generated.length >= r.tokenBudget())) {
      problem = "adopted request needs 1 .. " + (r.tokenBudget() - 1) + " generated tokens, got " + generated.length;
    }
    if (problem != null) {
      return SequenceUpdate.rejected(r.id(), problem);
    }
    SequenceState s = new SequenceState(r);
    for (int t : generated) {
      s.append(t);
    }
    s.residency = SequenceState.Residency.EVICTED;
    sequences.put(r.id(), s);
    return status(s);
  }

  /** Forgets a request (cancelled, or the scheduler is done with it) and frees its blocks. */
  public SequenceUpdate release(String id) {
    SequenceState s = sequences.get(id);
    if (s == null) {
      return SequenceUpdate.rejected(id, "unknown or finished request '" + id + "'");
    }
    free(s);
    return new SequenceUpdate(id, Outcome.OK, null, new int[0], new float[0][], new int[0], null, null,
        s.generatedCount(), 0);
  }

  public int blocksUsed() {
    return blocks.used();
  }

  public int blockCapacity() {
    return blocks.capacity();
  }

  public int blockSize() {
    return blocks.blockSize();
  }

  /** KV blocks {@code id} holds now (0 when unknown, finished or evicted). */
  public int blocksHeld(String id) {
    SequenceState s = sequences.get(id);
    return s == null ? 0 : s.blocks.size();
  }

  /** Generated tokens of a request the engine still holds (running, preempted or evicted). */
  public int[] generatedTokens(String id) {
    SequenceState s = sequences.get(id);
    return s == null ? new int[0] : s.generatedTokens();
  }

  public int activeRequests() {
    return sequences.size();
  }

  /** Arrays the engine's DJL managers hold (weights, KV pool): constant from start to end. */
  public int managedArrays() {
    return forward.managedArrays();
  }

  public LlamaConfig modelConfig() {
    return model;
  }

  public int tapLayer() {
    return tapLayer;
  }

  public long forwardCalls() {
    return forwardCalls;
  }

  public Device device() {
    return forward.device();
  }

  /** Native bytes of the KV pool. */
  public long kvPoolBytes() {
    return forward.kvPoolBytes();
  }

  @Override
  public void close() {
    sequences.clear();
    forward.close();
    if (stopText != null) {
      stopText.close();
    }
  }

  // -- internals

  private String validate(GenerationRequest r) {
    int p = r.promptTokens() == null ? 0 : r.promptTokens().length;
    if (r.id() == null || r.id().isEmpty()) {
      return "request id is empty";
    }
    if (sequences.containsKey(r.id())) {
      return "request id '" + r.id() + "' is already in the engine";
    }
    if (p == 0) {
      return "empty prompt";
    }
    if (!r.stop().isEmpty() && stopText == null) {
      if (!Files.isRegularFile(tokenizerFile)) {
        return "stop strings need the model's " + tokenizerFile;
      }
      stopText = new TextCodec(tokenizerFile);
    }
    if (r.stop().stream().anyMatch(String::isEmpty)) {
      return "a stop string is empty";
    }
    if (p >= model.maxPositions()) {
      return "prompt of " + p + " tokens does not fit the context of " + model.maxPositions() + " tokens";
    }
    for (int t : r.promptTokens()) {
      if (t < 0 || t >= model.vocabSize()) {
        return "prompt token id " + t + " outside the vocabulary [0, " + model.vocabSize() + ")";
      }
    }
    if (r.maxNewTokens() < 1 || r.maxNewTokens() > model.maxPositions()) {
      return "max_new_tokens must be in [1, " + model.maxPositions() + "] (the model's context), got "
          + r.maxNewTokens();
    }
    if (r.forcedLength() < 0) {
      return "forced length must be >= 0, got " + r.forcedLength();
    }
    int peakTokens = Math.min(p + r.tokenBudget() - 1, model.maxPositions());
    if (blocks.blocksFor(peakTokens) > blocks.capacity()) {
      return "needs up to " + blocks.blocksFor(peakTokens) + " KV blocks (" + peakTokens
          + " tokens) but the engine's whole capacity is " + blocks.capacity() + " blocks";
    }
    return null;
  }

  /** Grows the request's blocks to cover {@code tokens} positions; false (nothing taken) when the pool is short. */
  private boolean reserve(SequenceState s, int tokens) {
    int need = blocks.blocksFor(tokens) - s.blocks.size();
    if (need > blocks.free()) {
      return false;
    }
    for (int i = 0; i < need; i++) {
      s.addBlock(blocks.allocate(), blocks.blockSize());
    }
    return true;
  }

  /** One chunk per sequence feeding its whole prompt at positions 0.. (a prefill). */
  private static List<SequenceChunk> promptChunks(List<SequenceState> states) {
    List<SequenceChunk> chunks = new ArrayList<>(states.size());
    for (SequenceState s : states) {
      chunks.add(new SequenceChunk(0, s.request.promptTokens(), s.slots()));
    }
    return chunks;
  }

  /** Tokens and tap states of one batched forward. */
  private record StepResult(int[] tokens, float[][] tapLast, float[][] tapMean) {}

  private StepResult run(List<SequenceChunk> chunks, List<SequenceState> states, boolean prefill) {
    boolean allGreedy = states.stream().allMatch(s -> s.sampler.plainArgmax());
    forwardCalls++;
    DjlForward.Result r = forward.step(chunks, allGreedy, prefill);
    int[] tokens = r.argmax();
    if (tokens == null) {
      tokens = new int[states.size()];
      for (int j = 0; j < states.size(); j++) {
        tokens[j] = states.get(j).sampleNext(r.logits(), j * forward.vocab(), forward.vocab());
      }
    }
    return new StepResult(tokens, r.tapLast(), r.tapMean());
  }

  private FinishReason finishReason(SequenceState s) {
    int g = s.generatedCount();
    GenerationRequest r = s.request;
    if (r.forcedLength() > 0) {
      if (g >= r.forcedLength()) {
        return FinishReason.FORCED_LENGTH;
      }
    } else if (eos.contains(s.lastToken())) {
      return FinishReason.EOS;
    } else if (!r.stop().isEmpty() && StopStrings.reached(stopText, s.generatedTokens(), r.stop())) {
      return FinishReason.STOP_STRING;
    } else if (g >= r.maxNewTokens()) {
      return FinishReason.MAX_TOKENS;
    }
    // the last generated token will be fed at position prompt + g - 1
    return s.promptLength() + g > model.maxPositions() ? FinishReason.CONTEXT_FULL : null;
  }

  private SequenceUpdate afterToken(SequenceState s, int[] tokens, float[][] states, int[] tapGenerated,
      float[] promptMean, Outcome outcome, String message) {
    if (s.finish == null) {
      s.finish = finishReason(s);
    }
    FinishReason finish = s.finish;
    if (finish != null) {
      free(s);
    }
    return new SequenceUpdate(s.request.id(), outcome, message, tokens, states, tapGenerated, promptMean, finish,
        s.generatedCount(), s.blocks.size());
  }

  private SequenceUpdate status(SequenceState s) {
    return new SequenceUpdate(s.request.id(), Outcome.OK, null, new int[0], new float[0][], new int[0], null, null,
        s.generatedCount(), s.blocks.size());
  }

  private SequenceUpdate failed(String id, RuntimeException e) {
    return new SequenceUpdate(id, Outcome.FAILED, "engine error: " + e, new int[0], new float[0][], new int[0],
        null, null, 0, 0);
  }

  private void free(SequenceState s) {
    blocks.release(s.blocks);
    s.clearBlocks();
    sequences.remove(s.request.id());
  }

  /** Per-request accumulation over a decode quantum. */
  private static final class Progress {
    final SequenceState state;
    final List<Integer> tokens = new ArrayList<>();
    final List<float[]> states = new ArrayList<>();
    final List<Integer> tapGenerated = new ArrayList<>();
    Outcome outcome = Outcome.OK;
    String message;

    Progress(SequenceState state) {
      this.state = state;
    }

    int[] tokenArray() {
      return tokens.stream().mapToInt(Integer::intValue).toArray();
    }

    int[] tapGeneratedArray() {
      return tapGenerated.stream().mapToInt(Integer::intValue).toArray();
    }
  }
}
