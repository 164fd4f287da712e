package io.trailflink.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trailflink.scheduler.Decision.Kind;
import io.trailflink.scheduler.policy.FcfsPolicy;
import io.trailflink.scheduler.policy.SjfPolicy;
import io.trailflink.scheduler.policy.StarvationGuard;
import io.trailflink.scheduler.policy.TrailPolicy;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Scenario tests of the scheduling core with a fake clock; invariants are checked after every step. */
class SchedulerTest {
  private long order;

  private Request req(String id, long at, int prompt, int trueLen, double predicted) {
    return req(id, at, prompt, trueLen, predicted, 512);
  }

  private Request req(String id, long at, int prompt, int trueLen, double predicted, int maxNew) {
    Request r = new Request(id, at, order++, prompt, maxNew, trueLen);
    if (!Double.isNaN(predicted)) {
      r.predict(predicted, true);
    }
    return r;
  }

  private static Scheduler scheduler(Policy p, int maxRunning, int blocks) {
    return new Scheduler(p, new SchedulerConfig(maxRunning, blocks, 16, 4));
  }

  private static List<Decision> round(Scheduler s, long now) {
    List<Decision> d = s.schedule(now);
    s.checkInvariants();
    return d;
  }

  /** Runs every running request {@code tokens} tokens, finishing those that reach their true length. */
  private static void step(Scheduler s, int tokens) {
    for (Request r : s.runningRequests()) {
      int n = Math.min(tokens, r.trueOutputTokens() - r.generated());
      s.progress(r.id(), n);
      if (r.generated() >= r.trueOutputTokens()) {
        s.finish(r.id());
      }
    }
    s.checkInvariants();
  }

  private static List<String> ids(List<Decision> ds, Kind kind) {
    return ds.stream().filter(d -> d.kind() == kind).map(Decision::requestId).toList();
  }

  @Test
  void fcfsAdmitsInArrivalOrderAndNeverPreempts() {
    Scheduler s = scheduler(new FcfsPolicy(), 1, 100);
    s.submit(req("long", 0, 10, 40, 40), 0);
    s.submit(req("short", 1, 10, 2, 2), 1);
    assertEquals(List.of("long"), ids(round(s, 2), Kind.ADMIT));
    step(s, 4);
    assertEquals(List.of(), round(s, 3), "the shorter one waits");
  }

  @Test
  void trailRanksRequestsNotPredictedYetByTheirPromptPriorWithoutMakingThemPreemptible() {
    Scheduler s = scheduler(TrailPolicy.trail(0.8), 1, 100);
    Request unguessed = new Request("unguessed", 0, 0, 10, 200, -1);
    Request longGuess = new Request("long-guess", 0, 1, 10, 200, -1);
    longGuess.setPromptPrior(150);
    Request shortGuess = new Request("short-guess", 0, 2, 10, 200, -1);
    shortGuess.setPromptPrior(12);
    s.submit(unguessed, 0);
    s.submit(longGuess, 0);
    s.submit(shortGuess, 0);
    assertEquals(List.of("short-guess", "long-guess", "unguessed"), s.queuedInOrder().stream().map(Request::id)
        .toList(), "by the prior, a request without one at its cap");
    assertEquals(12 + 150 + 200, s.predictedWork(), 1e-9);
    assertEquals(List.of("short-guess"), ids(round(s, 0), Kind.ADMIT));
    assertTrue(!s.policy().preemptible(shortGuess), "a guess from the prompt is no prediction");
    assertEquals(150, longGuess.initialEstimate(), 1e-9, "SJF ranks by the guess too");
    assertEquals(200, unguessed.initialEstimate(), 1e-9);
    s.predict("short-guess", 40); // the model's own prediction replaces the guess
    assertEquals(40, shortGuess.remainingEstimate(), 1e-9);
  }

  @Test
  void aGuessFromThePromptNeverPreemptsAPredictedRequest() {
    Scheduler s = scheduler(TrailPolicy.trail(0.8), 1, 100);
    s.submit(req("long", 0, 20, 100, 100), 0);
    round(s, 0);
    step(s, 4); // a = 4 < 0.8 · 100: preemptible
    Request guessed = new Request("guessed", 1, order++, 10, 200, -1);
    guessed.setPromptPrior(5);
    s.submit(guessed, 1);
    assertEquals(List.of(), ids(round(s, 1), Kind.PREEMPT), "it waits for a slot, or for its prediction");
    s.predict("guessed", 5, 0); // the model agrees: now it preempts
    assertEquals(List.of("long"), ids(round(s, 2), Kind.PREEMPT));
  }

  @Test
  void sjfPicksTheShortestInitialPredictionWithoutPreempting() {
    Scheduler s = scheduler(new SjfPolicy(), 1, 100);
    s.submit(req("a", 0, 10, 30, 30), 0);
    s.submit(req("b", 0, 10, 5, 5), 0);
    s.submit(req("c", 0, 10, 20, 20), 0);
    assertEquals(List.of("b"), ids(round(s, 0), Kind.ADMIT));
    s.submit(req("d", 1, 10, 1, 1), 1);
    assertEquals(List.of(), ids(round(s, 1), Kind.PREEMPT));
  }

  @Test
  void trailPreemptsAYoungLongRequestWhichKeepsItsKvAndResumesInPlace() {
    Scheduler s = scheduler(TrailPolicy.trail(0.8), 1, 100);
    s.submit(req("long", 0, 20, 100, 100), 0);
    round(s, 0);
    step(s, 4); // a = 4 < 0.8 · 100
    s.submit(req("short", 1, 10, 6, 6), 1);
    List<Decision> d = round(s, 1);
    assertEquals(List.of("long"), ids(d, Kind.PREEMPT));
    assertEquals(List.of("short"), ids(d, Kind.ADMIT));
    assertEquals(RequestState.PREEMPTED, s.request("long").state());
    assertTrue(s.ledger().held("long") >= s.ledger().blocksFor(24), "a preempted request keeps its KV");
    step(s, 4);
    step(s, 4); // short finishes
    List<Decision> back = round(s, 2);
    assertEquals(List.of(new Decision(Kind.RESUME, "long", "KV resident")), back);
  }

  @Test
  void trailNeverPreemptsPastTheCutoff() {
    Scheduler s = scheduler(TrailPolicy.trail(0.8), 1, 100);
    s.submit(req("long", 0, 20, 100, 10), 0); // predicted 10: cut-off at 8 generated tokens
    round(s, 0);
    step(s, 4);
    step(s, 4); // a = 8 = 0.8 · 10: no longer preemptible
    s.predict("long", 92); // the refined prediction grows; still no preemption
    s.submit(req("short", 1, 10, 3, 3), 1);
    assertEquals(List.of(), ids(round(s, 1), Kind.PREEMPT));
  }

  @Test
  void anInitialPredictionAboveTheCapIsClampedSoTheCutoffStillBinds() {
    Scheduler s = scheduler(TrailPolicy.trail(0.8), 1, 100);
    s.submit(req("capped", 0, 20, 40, 400, 40), 0); // predicted 400 but capped at 40: cut-off at 32, not 320
    assertEquals(40, s.request("capped").initialPrediction());
    round(s, 0);
    for (int i = 0; i < 8; i++) {
      step(s, 4); // a = 32 = 0.8 · 40
    }
    s.submit(req("short", 1, 10, 3, 3), 1);
    assertEquals(List.of(), ids(round(s, 1), Kind.PREEMPT), "past C · min(r, max_new_tokens): not preemptible");
  }

  @Test
  void aRequestWithoutAPredictionIsNotPreemptible() {
    Scheduler s = scheduler(TrailPolicy.trail(0.8), 1, 100);
    s.submit(req("unknown", 0, 20, 100, Double.NaN), 0); // ranked by max_new_tokens, but nothing says it is long
    round(s, 0);
    step(s, 4);
    s.submit(req("short", 1, 10, 3, 3), 1);
    assertEquals(List.of(), ids(round(s, 1), Kind.PREEMPT));
    s.predict("unknown", 90); // a prediction made after output is not an initial one: still no r
    assertEquals(List.of(), ids(round(s, 2), Kind.PREEMPT));
  }

  @Test
  void cZeroIsNonPreemptiveShortestPredictedFirst() {
    Scheduler s = scheduler(TrailPolicy.trail(0), 1, 100);
    s.submit(req("a", 0, 10, 50, 50), 0);
    s.submit(req("b", 0, 10, 9, 9), 0);
    assertEquals(List.of("b"), ids(round(s, 0), Kind.ADMIT));
    s.submit(req("c", 1, 10, 1, 1), 1);
    assertEquals(List.of(), ids(round(s, 1), Kind.PREEMPT));
  }

  @Test
  void marginAndPreemptionCapAreHonoured() {
    Scheduler s = scheduler(new TrailPolicy("trail", 1.0, 10, 1, false), 1, 100);
    s.submit(req("v", 0, 10, 100, 30), 0);
    round(s, 0);
    s.submit(req("close", 1, 10, 25, 25), 1); // 25 + 10 is not below 30
    assertEquals(List.of(), ids(round(s, 1), Kind.PREEMPT));
    s.submit(req("far", 2, 10, 5, 5), 2);
    assertEquals(List.of("v"), ids(round(s, 2), Kind.PREEMPT));
    step(s, 8); // far finishes
    List<Decision> d = round(s, 3); // close (25) runs before v (30)
    assertEquals(List.of("close"), ids(d, Kind.ADMIT));
    s.cancel("close");
    assertEquals(List.of("v"), ids(round(s, 4), Kind.RESUME));
    s.submit(req("tiny", 5, 10, 1, 1), 5);
    assertEquals(List.of(), ids(round(s, 5), Kind.PREEMPT), "v was preempted once: the cap is reached");
  }

  @Test
  void kvPressureEvictsIdlePreemptedRequestsFirstAndTheyRecomputeLater() {
    // 6 blocks of 16 tokens; quantum 4
    Scheduler s = scheduler(TrailPolicy.trail(1.0), 1, 6);
    s.submit(req("old", 0, 40, 50, 50, 50), 0); // 40 + 4 tokens → 3 blocks
    round(s, 0);
    s.submit(req("mid", 1, 40, 20, 20, 50), 1); // preempts old; its 3 blocks fit beside old's
    assertEquals(List.of("old"), ids(round(s, 1), Kind.PREEMPT));
    step(s, 4);
    step(s, 4);
    List<Decision> d = round(s, 2); // mid grows to 48 + 4 tokens: a 4th block, only by evicting idle old
    assertEquals(List.of("old"), ids(d, Kind.EVICT));
    assertEquals(0, s.ledger().held("old"));
    assertEquals(RequestState.EVICTED, s.request("old").state());
    while (s.request("mid") != null) {
      step(s, 4);
      if (s.request("mid") != null) {
        round(s, 3);
      }
    }
    List<Decision> back = round(s, 4);
    assertEquals(List.of(new Decision(Kind.RESUME, "old", "recompute 40 tokens")), back);
    assertEquals(1, s.request("old").evictions());
  }

  @Test
  void impossibleAndDuplicateRequestsAreRejected() {
    Scheduler s = scheduler(new FcfsPolicy(), 4, 10); // 160 tokens
    assertEquals(Kind.REJECT, s.submit(new Request("huge", 0, order++, 100, 512, -1), 0).kind());
    assertEquals(Kind.ACCEPT, s.submit(new Request("a", 0, order++, 10, 100, -1), 0).kind());
    assertEquals(Kind.REJECT, s.submit(new Request("a", 0, order++, 10, 100, -1), 0).kind());
    s.checkInvariants();
  }

  @Test
  void starvationGuardBoundsTheWaitOfALongRequest() {
    for (boolean guard : new boolean[] {false, true}) {
      Policy p = guard ? new StarvationGuard(TrailPolicy.trail(0), 20) : TrailPolicy.trail(0);
      Scheduler s = scheduler(p, 1, 1000);
      s.submit(req("long", 0, 10, 50, 50), 0);
      s.submit(req("s0", 0, 10, 4, 4), 0);
      long admittedAt = -1;
      for (int t = 1; t <= 400 && admittedAt < 0; t++) {
        s.submit(req("s" + t, t * 100L, 10, 4, 4), t * 100L); // a new short request every 100 ms
        if (ids(round(s, t * 100L), Kind.ADMIT).contains("long")) {
          admittedAt = t;
        }
        step(s, 4);
      }
      if (guard) {
        assertTrue(admittedAt > 0 && admittedAt < 50, "guard: admitted at round " + admittedAt);
      } else {
        assertEquals(-1, admittedAt, "without the guard, a stream of shorter requests starves it");
      }
    }
  }

  @Test
  void randomWorkloadsKeepEveryInvariantAndFinishEveryRequestOnce() {
    List<Policy> policies = List.of(new FcfsPolicy(), new SjfPolicy(), TrailPolicy.trail(0.8), TrailPolicy.trail(0),
        TrailPolicy.sprpt(), TrailPolicy.oracle(0.8), new StarvationGuard(TrailPolicy.trail(0.8), 5));
    for (Policy p : policies) {
      Random rnd = new Random(p.name().hashCode());
      Scheduler s = scheduler(p, 8, 60);
      Map<String, Integer> finished = new HashMap<>();
      List<String> all = new ArrayList<>();
      long now = 0;
      for (int round = 0; round < 3000 && (round < 600 || s.liveCount() > 0); round++) {
        now += 10;
        if (round < 600 && rnd.nextInt(3) == 0) {
          int trueLen = 1 + rnd.nextInt(200);
          String id = "r" + round;
          Request r = new Request(id, now, order++, 1 + rnd.nextInt(100), 300, trueLen);
          if (s.submit(r, now).kind() == Kind.ACCEPT) {
            all.add(id);
            s.predict(id, Math.max(1, trueLen + rnd.nextGaussian() * 40));
          }
        }
        round(s, now);
        for (Request r : s.runningRequests()) {
          int n = Math.min(4, r.trueOutputTokens() - r.generated());
          s.progress(r.id(), n);
          if (rnd.nextInt(4) == 0) {
            s.predict(r.id(), Math.max(0, r.trueOutputTokens() - r.generated() + rnd.nextGaussian() * 20));
          }
          if (r.generated() >= r.trueOutputTokens()) {
            s.finish(r.id());
            finished.merge(r.id(), 1, Integer::sum);
          }
        }
        s.checkInvariants();
      }
      assertEquals(0, s.liveCount(), p.name() + ": everything finishes");
      for (String id : all) {
        assertEquals(1, finished.getOrDefault(id, 0), p.name() + ": " + id + " finished exactly once");
      }
      assertEquals(0, s.ledger().used(), p.name());
    }
  }

  @Test
  void aWaitingRequestMovesToAnotherEngineWithItsPredictionAndItsTimeInTheQueue() {
    Scheduler crowded = scheduler(TrailPolicy.trail(0.8), 1, 100);
    Scheduler quiet = scheduler(TrailPolicy.trail(0.8), 1, 100);
    crowded.submit(req("first", 0, 10, 40, 40), 0);
    assertEquals(List.of("first"), ids(round(crowded, 0), Kind.ADMIT));
    crowded.submit(req("short", 1, 10, 5, 5), 1);
    crowded.submit(req("long", 2, 10, 90, 90), 2);
    assertEquals(List.of("short"), ids(round(crowded, 3), Kind.ADMIT), "the shorter preempts (40 > 5)");
    assertEquals(null, crowded.withdraw("short"), "a running request holds KV: it does not move");
    assertEquals(null, crowded.withdraw("first"), "nor does a preempted one");
    assertEquals("long", crowded.lastWaiting().id(), "the one TRAIL would run last moves first");
    Request moved = crowded.withdraw("long");
    crowded.checkInvariants();
    assertEquals(2, crowded.liveCount());
    assertEquals(2, crowded.submitted(), "counted where it is served");
    assertEquals(Kind.ACCEPT, quiet.adopt(moved).kind());
    quiet.checkInvariants();
    assertEquals(2, moved.queuedSinceMs(), "its wait so far is kept");
    assertEquals(90, moved.remainingEstimate(), 1e-9);
    assertEquals(List.of("long"), ids(round(quiet, 4), Kind.ADMIT));
    assertEquals(null, crowded.lastWaiting(), "only the preempted request is left queued there");
  }

  @Test
  void aMovedRequestOfAnUnknownTenantIsCountedOnce() {
    TenantShares weights = new TenantShares(Map.of("gold", 2.0), 1);
    SchedulerConfig config = new SchedulerConfig(1, 100, 16, 4);
    Scheduler a = new Scheduler(TrailPolicy.trail(0.8), config, weights.fresh());
    Scheduler b = new Scheduler(TrailPolicy.trail(0.8), config, weights.fresh());
    a.submit(new Request("r", 0, order++, 10, 512, 20, "stranger"), 0);
    b.adopt(a.withdraw("r"));
    b.checkInvariants();
    assertEquals(1, a.shares().unknownTenantRequests() + b.shares().unknownTenantRequests());
    assertEquals(1, b.liveCount());
    assertEquals(0, a.liveCount());
  }
}
