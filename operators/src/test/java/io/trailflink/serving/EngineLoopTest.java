package io.trailflink.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trailflink.scheduler.Decision;
import io.trailflink.schema.AdmitSpec;
import io.trailflink.schema.EngineFeedback;
import io.trailflink.schema.FinalResponse;
import io.trailflink.schema.RequestProgress;
import io.trailflink.schema.Sampling;
import io.trailflink.schema.StepCommand;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The serving side of one engine, driven without Flink by a scripted engine: request i generates token i+1000+k
 * at step k and stops after its scripted length. Checks exactly one final response per request, idempotent
 * feedback, recovery after an engine restart, and that nothing is left behind.
 */
class EngineLoopTest {
  static final ServingConfig CONFIG = new ServingConfig("trail", 1, 4, 64, 16, 4, 64, 1024, 60_000);

  /** A stand-in engine that knows only what the commands told it (so a "restart" really forgets). */
  static final class ScriptedEngine {
    final Map<String, Integer> lengths;
    final Map<String, List<Integer>> generated = new HashMap<>();
    String incarnation = "a";

    ScriptedEngine(Map<String, Integer> lengths) {
      this.lengths = lengths;
    }

    EngineFeedback run(StepCommand c) {
      List<RequestProgress> out = new ArrayList<>();
      c.getRelease().forEach(generated::remove);
      for (AdmitSpec a : c.getAdmit()) {
        if (generated.containsKey(a.getRequestId())) { // as LlamaEngine: an id it holds cannot be admitted again
          out.add(RequestProgress.newBuilder().setRequestId(a.getRequestId()).setOutcome("REJECTED")
              .setMessage("already in the engine").setGenerated(0).setBlocksHeld(0).build());
          continue;
        }
        List<Integer> g = new ArrayList<>(a.getGeneratedTokenIds());
        generated.put(a.getRequestId(), g);
        List<Integer> fresh = new ArrayList<>();
        if (g.isEmpty()) {
          g.add(1000);
          fresh.add(1000);
        }
        out.add(progress(a.getRequestId(), fresh, g));
      }
      for (String id : c.getDecode()) {
        List<Integer> g = generated.get(id);
        if (g == null) {
          out.add(RequestProgress.newBuilder().setRequestId(id).setOutcome("REJECTED").setMessage("unknown")
              .setGenerated(0).setBlocksHeld(0).build());
          continue;
        }
        List<Integer> fresh = new ArrayList<>();
        for (int k = 0; k < c.getDecodeSteps() && g.size() < lengths.get(id); k++) {
          g.add(1000 + g.size());
          fresh.add(1000 + g.size() - 1);
        }
        if (out.stream().anyMatch(p -> p.getRequestId().equals(id) && "REJECTED".equals(p.getOutcome()))) {
          continue; // its admission was refused
        }
        out.removeIf(p -> p.getRequestId().equals(id) && p.getNewTokenIds().isEmpty());
        out.add(progress(id, fresh, g));
      }
      out.stream().filter(p -> p.getFinishReason() != null).forEach(p -> generated.remove(p.getRequestId()));
      return EngineFeedback.newBuilder().setEngine(c.getEngine()).setEngineIncarnation(incarnation)
          .setStepSeq(c.getStepSeq()).setIssuedAtMs(c.getIssuedAtMs()).setIssuedAtUs(c.getIssuedAtUs())
          .setFinishedAtMs(c.getIssuedAtMs() + 5)
          .setPublishedAtMs(c.getIssuedAtMs() + 6).setBusyMs(5).setBlocksUsed(0).setBlockCapacity(64)
          .setProgress(out).setPredictions(List.of()).build();
    }

    private RequestProgress progress(String id, List<Integer> fresh, List<Integer> all) {
      boolean done = all.size() >= lengths.get(id);
      return RequestProgress.newBuilder().setRequestId(id).setOutcome("OK").setNewTokenIds(fresh)
          .setTextDelta("x".repeat(fresh.size())).setGenerated(all.size()).setFinishReason(done ? "stop" : null)
          .setBlocksHeld(done ? 0 : 1).build();
    }
  }

  static ValidatedRequest req(String id, int maxNew) {
    return new ValidatedRequest(id, "t", new int[] {1, 2, 3}, maxNew, 0, Sampling.newBuilder().build(), List.of(), 0L, 0,
        null);
  }

  @org.junit.jupiter.api.Test
  void aPromptPriorRanksAndTimesRequestsBeforeTheirPrediction(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
    // a prior that learnt token 7 asks for ~400 tokens and token 9 for ~20
    java.util.Random rnd = new java.util.Random(5);
    List<int[]> prompts = new java.util.ArrayList<>();
    int[] lengths = new int[400];
    for (int i = 0; i < lengths.length; i++) {
      boolean longOne = i % 2 == 0;
      prompts.add(new int[] {100 + rnd.nextInt(20), longOne ? 7 : 9, 100 + rnd.nextInt(20)});
      lengths[i] = longOne ? 380 + rnd.nextInt(60) : 10 + rnd.nextInt(20);
    }
    io.trailflink.predictor.PromptPrior.trainOnTokens(prompts, lengths, io.trailflink.predictor.LengthBins.PAPER,
        1 << 10, 10, 1).save(dir, null);
    ServingConfig config = new ServingConfig("trail", 1, 1, 64, 16, 4, 512, 1024, 60_000, 1, 1, 0, "model", true,
        1_000, false, null, null, 0, dir.toString());
    EngineLoop loop = new EngineLoop(0, config);
    loop.submit(new ValidatedRequest("long", "t", new int[] {101, 7, 102}, 512, 0, Sampling.newBuilder().build(),
        List.of(), 0L, 0, null), 0);
    loop.submit(new ValidatedRequest("short", "t", new int[] {101, 9, 102}, 512, 0, Sampling.newBuilder().build(),
        List.of(), 0L, 0, null), 0);
    assertEquals(List.of("short", "long"), loop.scheduler().queuedInOrder().stream()
        .map(io.trailflink.scheduler.Request::id).toList());
    Map<String, Double> assumed = new HashMap<>();
    loop.drainEtas(0).forEach(e -> assumed.put(e.getRequestId(), e.getAssumedRemaining()));
    assertTrue(assumed.get("short") < 60 && assumed.get("long") > 300, "the ETA's work is the prior's: " + assumed);
    assertFalse(loop.scheduler().request("short").hasPrediction(), "a guess is no prediction");
    loop.submit(new ValidatedRequest("short2", "t", new int[] {103, 9, 104}, 512, 0, Sampling.newBuilder().build(),
        List.of(), 0L, 0, null), 0);
    StepCommand first = loop.nextCommand(0);
    assertEquals(List.of("short"), first.getDecode(), "one slot: the shortest guess runs");
    assertEquals(List.of("short2"), first.getPark(), "the KV window takes the next shortest guess, not the oldest");

    ServingConfig without = new ServingConfig("trail", 1, 1, 64, 16, 4, 512, 1024, 60_000, 1, 1, 0, "model", true,
        1_000, false, null, null, 0, null);
    EngineLoop plain = new EngineLoop(0, without);
    plain.submit(new ValidatedRequest("long", "t", new int[] {101, 7, 102}, 512, 0, Sampling.newBuilder().build(),
        List.of(), 0L, 0, null), 0);
    plain.submit(new ValidatedRequest("short", "t", new int[] {101, 9, 102}, 512, 0, Sampling.newBuilder().build(),
        List.of(), 0L, 0, null), 0);
    assertEquals(List.of("long", "short"), plain.scheduler().queuedInOrder().stream()
        .map(io.trailflink.scheduler.Request::id).toList(), "without a prior: arrival order at the cap");
  }

  @org.junit.jupiter.api.Test
  void predictiveAdmissionRefusesADeadlineTheQueueCannotMeetAndAdmitsOneItCan() {
    ServingConfig config = new ServingConfig("trail", 1, 1, 64, 16, 4, 64, 1024, 60_000, 0, 1, 0, "oracle", true, 1_000,
        true);
    EngineLoop loop = new EngineLoop(0, config);
    Map<String, Integer> lengths = new HashMap<>(Map.of("busy", 120));
    loop.submit(new ValidatedRequest("busy", "t", new int[] {1, 2, 3}, 128, 120, Sampling.newBuilder().build(),
        List.of(), 0L, 0, null), 0);
    ScriptedEngine engine = new ScriptedEngine(lengths);
    long now = 0;
    for (int i = 0; i < 10; i++) { // 10 commands of 5 ms, 4 iterations each: the iteration time is measured
      StepCommand c = loop.nextCommand(now);
      EngineFeedback fb = engine.run(c);
      now = fb.getFinishedAtMs();
      loop.apply(fb, now);
    }
    // "busy" has ~80 tokens left on the only slot, at ~1.25 ms per token: a 40-token request finishes ~150 ms from now
    ValidatedRequest tight = new ValidatedRequest("tight", "t", new int[] {1, 2, 3}, 64, 40,
        Sampling.newBuilder().build(), List.of(), now, 0, null).withDeadline(now + 60);
    Decision refused = loop.submit(tight, now);
    assertEquals(Decision.Kind.SHED, refused.kind());
    assertTrue(refused.reason().startsWith("deadline-unreachable: predicted to finish "), refused.reason());
    assertEquals(1, loop.stats().unreachable());
    assertNull(loop.scheduler().request("tight"), "a refused request leaves nothing behind");
    ValidatedRequest roomy = new ValidatedRequest("roomy", "t", new int[] {1, 2, 3}, 64, 40,
        Sampling.newBuilder().build(), List.of(), now, 0, null).withDeadline(now + 5_000);
    assertEquals(Decision.Kind.ACCEPT, loop.submit(roomy, now).kind());
  }

  @org.junit.jupiter.api.Test
  void etasFollowThePolicysOrderAndLandNearTheRealFinish() {
    // one slot, oracle predictions: the shortest goes first; ETAs refreshed on every feedback
    ServingConfig oracle = new ServingConfig("trail", 1, 1, 64, 16, 4, 64, 1024, 60_000, 0, 1, 0, "oracle", true, 1);
    EngineLoop loop = new EngineLoop(0, oracle);
    Map<String, Integer> lengths = Map.of("long", 120, "short", 40, "mid", 80); // the first estimates wait 8 commands
    for (String id : List.of("long", "short", "mid")) {
      loop.submit(new ValidatedRequest(id, "t", new int[] {1, 2, 3}, 128, lengths.get(id), Sampling.newBuilder().build(),
          List.of(), 0L, 0, null), 0);
    }
    assertEquals(List.of("accepted", "accepted", "accepted"), loop.drainEtas(0).stream().map(e -> e.getCause()).toList());
    ScriptedEngine engine = new ScriptedEngine(lengths);
    Map<String, Long> finished = new HashMap<>();
    Map<String, Long> firstEta = new HashMap<>();
    long now = 0;
    for (StepCommand c = loop.nextCommand(now); c != null; c = loop.nextCommand(now)) {
      EngineFeedback fb = engine.run(c);
      now = fb.getFinishedAtMs(); // each command takes 5 ms
      for (FinalResponse f : loop.apply(fb, now)) {
        finished.put(f.getRequestId(), f.getFinishedAt().toEpochMilli());
      }
      for (var e : loop.drainEtas(now)) {
        if (e.getPredictedFinishAt() != null) {
          firstEta.putIfAbsent(e.getRequestId(), e.getPredictedFinishAt().toEpochMilli());
        }
      }
      assertTrue(loop.drainStatus() != null, "a status after every applied feedback");
    }
    assertEquals(3, finished.size());
    assertTrue(firstEta.get("short") < firstEta.get("mid")
        && firstEta.get("mid") < firstEta.get("long"), firstEta.toString());
    for (String id : lengths.keySet()) {
      double error = Math.abs(firstEta.get(id) - finished.get(id));
      assertTrue(error <= 0.25 * finished.get(id), id + ": ETA " + firstEta.get(id) + " vs finish "
          + finished.get(id));
    }
  }

  @org.junit.jupiter.api.Test
  void injectedPredictionsComeFromForcedLengthsAndTheForcedLengthIsNoCap() {
    ServingConfig oracle = new ServingConfig("trail", 1, 4, 64, 16, 4, 64, 1024, 60_000, 0, 1, 0, "oracle");
    EngineLoop loop = new EngineLoop(0, oracle);
    loop.submit(new ValidatedRequest("f", "t", new int[] {1, 2, 3}, 60, 25, Sampling.newBuilder().build(),
        List.of(), 0L, 0, null), 0);
    loop.submit(req("natural", 60), 0);
    var f = loop.scheduler().request("f");
    assertEquals(25, f.initialPrediction(), "oracle: the forced length is the prediction");
    assertEquals(60, f.maxNewTokens(), "the scheduler's cap stays max_new_tokens, so predictions are not clamped to the truth");
    assertTrue(Double.isNaN(loop.scheduler().request("natural").initialPrediction()), "no forced length, no prediction");

    ServingConfig noisy = new ServingConfig("trail", 1, 4, 64, 16, 4, 64, 1024, 60_000, 0, 1, 0, "noisy:40,20");
    double sum = 0;
    for (int i = 0; i < 50; i++) {
      EngineLoop l = new EngineLoop(0, noisy);
      for (int k = 0; k <= i; k++) { // the i-th arrival draws the i-th noise, as in the simulator
        l.submit(new ValidatedRequest("n" + k, "t", new int[] {1, 2, 3}, 64, 30, Sampling.newBuilder().build(),
            List.of(), 0L, 0, null), 0);
      }
      sum += Math.abs(l.scheduler().request("n" + i).initialPrediction() - 30);
    }
    assertTrue(sum / 50 > 10, "noisy predictions are noisy: mean error " + sum / 50);
    assertThrows(IllegalArgumentException.class,
        () -> new ServingConfig("trail", 1, 4, 64, 16, 4, 64, 1024, 60_000, 0, 1, 0, "noisy:x"));
  }

  @org.junit.jupiter.api.Test
  void aCancelledRequestGetsOneCancelledFinalResponseFreesItsKvAndIsReleasedOnTheEngine() {
    EngineLoop loop = new EngineLoop(0, CONFIG);
    loop.submit(req("run", 32), 0);
    loop.submit(req("wait-1", 32), 0);
    StepCommand first = loop.nextCommand(1);
    assertTrue(first.getAdmit().stream().anyMatch(a -> a.getRequestId().equals("run")), first.toString());
    assertTrue(loop.kvBlocksUsed() > 0);
    FinalResponse running = loop.cancel("run", "cancelled by the client", 2);
    FinalResponse waiting = loop.cancel("wait-1", "cancelled by the client", 2);
    assertEquals("cancelled", running.getFinishReason());
    assertEquals("cancelled", waiting.getFinishReason());
    assertNull(loop.cancel("run", "again", 3), "a second cancel finds nothing: counted, no second final response");
    assertNull(loop.cancel("never-seen", "x", 3));
    assertEquals(2, loop.stats().cancelled());
    assertEquals(2, loop.stats().cancelsUnknown());
    assertEquals(0, loop.kvBlocksUsed(), "the KV ledger is back to zero in the cancel's round");
    assertEquals(0, loop.queued());
    // the engine forgets the running one in the next command; tokens of commands already in flight are ignored
    ScriptedEngine engine = new ScriptedEngine(Map.of("run", 32, "wait-1", 32));
    EngineFeedback late = engine.run(first); // the command in flight still decoded "run"
    assertEquals(List.of(), loop.apply(late, 4), "no response for a cancelled request's late tokens");
    assertTrue(loop.drainChunks().isEmpty(), "no chunk after the cancel");
    StepCommand next = loop.nextCommand(5);
    assertTrue(next != null && next.getRelease().contains("run"), String.valueOf(next));
    assertTrue(next.getDecode().isEmpty() && next.getAdmit().isEmpty(), next.toString());
  }

  @org.junit.jupiter.api.Test
  void aRequestPastItsDeadlineIsCancelledWithReasonDeadline() {
    EngineLoop loop = new EngineLoop(0, CONFIG);
    loop.submit(req("soon", 32).withDeadline(1_000), 0);
    loop.submit(req("later", 32).withDeadline(5_000), 0);
    loop.submit(req("none", 32), 0);
    assertEquals(List.of(), loop.expire(999));
    List<FinalResponse> expired = loop.expire(1_000);
    assertEquals(1, expired.size());
    assertEquals("soon", expired.get(0).getRequestId());
    assertEquals("cancelled", expired.get(0).getFinishReason());
    assertTrue(expired.get(0).getError().startsWith("deadline: not finished within 1000 ms"), expired.get(0).getError());
    assertEquals(List.of("later"), loop.expire(60_000).stream().map(FinalResponse::getRequestId).toList());
    assertEquals(2, loop.stats().deadlines());
    assertEquals(1, loop.liveRequests(), "only the request without a deadline is left");
  }

  @org.junit.jupiter.api.Test
  void beyondMaxWaitingARequestIsShedWithOneRejectedFinalResponseAndTheQueueStaysBounded() {
    ServingConfig bounded = new ServingConfig("trail", 1, 4, 64, 16, 4, 64, 1024, 60_000, 0, 1, 3);
    EngineLoop loop = new EngineLoop(0, bounded);
    for (int i = 0; i < 3; i++) {
      assertEquals(Decision.Kind.ACCEPT, loop.submit(req("w" + i, 8), 0).kind());
    }
    for (int i = 0; i < 100; i++) {
      Decision d = loop.submit(req("x" + i, 8), 5);
      assertEquals(Decision.Kind.SHED, d.kind());
      FinalResponse f = loop.shed(req("x" + i, 8), d.reason(), 5);
      assertEquals("rejected", f.getFinishReason());
      assertTrue(f.getError().startsWith("overloaded: 3 requests wait on engine-0"), f.getError());
    }
    assertEquals(3, loop.queued(), "the queue never grows past --max-waiting");
    assertEquals(100, loop.stats().shed());
  }

  @org.junit.jupiter.api.Test
  void aPromptTooLongToParkIsProbedAndDoesNotStopTheOthersFromParking() {
    // 64 blocks of 16 with a quarter kept free: a prompt of 800 tokens can never be parked
    ServingConfig config = new ServingConfig("trail", 1, 1, 64, 16, 4, 64, 1024, 60_000, 4, 1, 0, "model");
    EngineLoop loop = new EngineLoop(0, config);
    loop.submit(req("first", 60), 0);
    loop.submit(new ValidatedRequest("long-prompt", "t", new int[800], 60, 0, Sampling.newBuilder().build(),
        List.of(), 0L, 0, null), 0);
    loop.submit(req("a", 60), 0);
    loop.submit(req("b", 60), 0);
    StepCommand c = loop.nextCommand(1);
    assertEquals(List.of("first"), c.getDecode());
    assertEquals(List.of("long-prompt"), c.getProbe().stream().map(p -> p.getRequestId()).toList());
    assertEquals(List.of("a", "b"), c.getPark());
    loop.scheduler().checkInvariants();
  }

  @ParameterizedTest(name = "pipeline depth {0}")
  @ValueSource(ints = {1, 2})
  void waitingRequestsAreParkedPrefilledOnceAndAdmittedLaterWithoutASecondPrefill(int depth) {
    // probes on (4 per command), 2 running at most: the other waiting requests are parked
    ServingConfig config = new ServingConfig("trail", 1, 2, 64, 16, 4, 64, 1024, 60_000, 4, depth, 0, "model");
    EngineLoop loop = new EngineLoop(0, config);
    Map<String, Integer> lengths = new HashMap<>();
    for (int i = 0; i < 8; i++) {
      lengths.put("p" + i, i == 5 ? 1 : 3 + 2 * i); // p5 is done at its first token, while parked
      loop.submit(req("p" + i, 60), i);
    }
    ScriptedEngine engine = new ScriptedEngine(lengths);
    Map<String, Integer> prefills = new HashMap<>();
    Map<String, List<FinalResponse>> finals = new HashMap<>();
    java.util.ArrayDeque<StepCommand> sent = new java.util.ArrayDeque<>();
    long now = 100;
    for (StepCommand c = loop.nextCommand(now); c != null; c = loop.nextCommand(now)) {
      sent.add(c);
    }
    int steps = 0;
    while (!sent.isEmpty()) {
      StepCommand c = sent.poll();
      c.getAdmit().forEach(a -> prefills.merge(a.getRequestId(), 1, Integer::sum));
      assertTrue(c.getDecode().size() <= 2, "at most max-running decode");
      assertTrue(c.getAdmit().stream().map(AdmitSpec::getRequestId).toList().containsAll(c.getPark()),
          "parked requests are prefilled in the same command");
      for (FinalResponse f : loop.apply(engine.run(c), now)) {
        finals.computeIfAbsent(f.getRequestId(), k -> new ArrayList<>()).add(f);
      }
      loop.scheduler().checkInvariants();
      now += 10;
      for (StepCommand next = loop.nextCommand(now); next != null; next = loop.nextCommand(now)) {
        sent.add(next);
      }
      assertTrue(++steps < 500, "loop does not converge");
    }
    assertTrue(loop.stats().parked() >= 4, "parked: " + loop.stats().parked());
    assertEquals(8, finals.size());
    for (var e : finals.entrySet()) {
      assertEquals(1, e.getValue().size(), e.getKey());
      assertNull(e.getValue().get(0).getError(), e.getKey());
      assertEquals(lengths.get(e.getKey()), e.getValue().get(0).getOutputTokens(), e.getKey());
      assertEquals(1, prefills.get(e.getKey()), "one prefill for " + e.getKey());
    }
    assertTrue(loop.idle());
    assertEquals(0, loop.kvBlocksUsed());
  }

  @ParameterizedTest(name = "pipeline depth {0}")
  @ValueSource(ints = {1, 2})
  void everyRequestFinishesOnceEvenWithDuplicateFeedbackAndAnEngineRestart(int depth) {
    ServingConfig config = new ServingConfig("trail", 1, 4, 64, 16, 4, 64, 1024, 60_000, 0, depth);
    Map<String, Integer> lengths = new HashMap<>();
    EngineLoop loop = new EngineLoop(0, config);
    for (int i = 0; i < 10; i++) {
      lengths.put("r" + i, 3 + 5 * i);
      assertEquals(Decision.Kind.ACCEPT, loop.submit(req("r" + i, 60), i).kind());
      loop.scheduler().predict("r" + i, 60, 0); // predicted long: preemptible (a request with no prediction is not)
    }
    assertEquals(Decision.Kind.REJECT, loop.submit(req("r3", 60), 10).kind(), "duplicate id in flight");
    ScriptedEngine engine = new ScriptedEngine(lengths);
    Map<String, List<FinalResponse>> finals = new HashMap<>();
    long now = 100;
    int steps = 0;
    int maxInFlight = 0;
    java.util.ArrayDeque<StepCommand> sent = new java.util.ArrayDeque<>();
    for (StepCommand c = loop.nextCommand(now); c != null; c = loop.nextCommand(now)) {
      sent.add(c);
    }
    while (!sent.isEmpty()) {
      maxInFlight = Math.max(maxInFlight, sent.size());
      StepCommand c = sent.poll(); // the engine runs commands in the order they were sent
      if (++steps == 6) {
        engine = new ScriptedEngine(lengths); // the engine restarts and forgets everything
        engine.incarnation = "b";
      }
      if (steps == 9) {
        // late arrivals predicted short: TRAIL pauses long running requests for them, mid-pipeline
        for (int i = 10; i < 13; i++) {
          lengths.put("r" + i, 2);
          loop.submit(req("r" + i, 60), now);
          loop.scheduler().predict("r" + i, 2, 0);
        }
      }
      EngineFeedback fb = engine.run(c);
      for (FinalResponse f : loop.apply(fb, now)) {
        finals.computeIfAbsent(f.getRequestId(), k -> new ArrayList<>()).add(f);
      }
      assertEquals(List.of(), loop.apply(fb, now), "a duplicate of the same feedback changes nothing");
      loop.scheduler().checkInvariants();
      now += 10;
      for (StepCommand next = loop.nextCommand(now); next != null; next = loop.nextCommand(now)) {
        sent.add(next);
      }
      assertTrue(steps < 500, "loop does not converge");
    }
    assertEquals(depth, maxInFlight, "commands in flight");
    assertEquals(13, finals.size());
    for (var e : finals.entrySet()) {
      assertEquals(1, e.getValue().size(), "one final response for " + e.getKey());
      FinalResponse f = e.getValue().get(0);
      assertNull(f.getError(), e.getKey());
      assertEquals(lengths.get(e.getKey()), f.getOutputTokens(), e.getKey());
      assertEquals(f.getOutputTokens(), f.getText().length(), "text of every token, once");
    }
    assertTrue(loop.preemptions() > 0, "the short late arrivals preempted someone");
    assertEquals(1, loop.stats().engineRestarts());
    assertTrue(loop.stats().staleFeedback() >= steps - 1);
    assertTrue(loop.idle(), "no request state left behind");
    assertEquals(0, loop.kvBlocksUsed());
  }
}
