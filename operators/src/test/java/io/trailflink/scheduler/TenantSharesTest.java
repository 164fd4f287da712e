package io.trailflink.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trailflink.scheduler.policy.TrailPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tenant-fair TRAIL and the starvation bound, on the scheduler with a fake clock. */
class TenantSharesTest {
  private long order;

  private Request req(String id, String tenant, int trueLen, double predicted) {
    Request r = new Request(id, 0, order++, 8, 512, trueLen, tenant);
    r.predict(predicted, true);
    return r;
  }

  /** Runs the batch one token per request, finishing those at their true length; returns tokens per tenant. */
  private static Map<String, Integer> run(Scheduler s, int rounds) {
    Map<String, Integer> tokens = new HashMap<>();
    for (int t = 0; t < rounds; t++) {
      s.schedule(t);
      s.checkInvariants();
      for (Request r : s.runningRequests()) {
        s.progress(r.id(), 1);
        tokens.merge(r.tenant(), 1, Integer::sum);
        if (r.generated() >= r.trueOutputTokens()) {
          s.finish(r.id());
        }
      }
      s.checkInvariants();
    }
    return tokens;
  }

  @Test
  void aFloodingTenantGetsItsShareNotEverySlot() {
    // the heavy tenant's 40 requests are all shorter than the light tenant's 4: TRAIL alone serves heavy first
    for (boolean fair : List.of(false, true)) {
      Scheduler s = new Scheduler(TrailPolicy.trail(0.8), new SchedulerConfig(2, 1000, 16, 1),
          fair ? TenantShares.equal() : null);
      for (int i = 0; i < 40; i++) {
        s.submit(req("h" + i, "heavy", 10, 10), 0);
      }
      for (int i = 0; i < 4; i++) {
        s.submit(req("l" + i, "light", 20, 20), 0);
      }
      Map<String, Integer> tokens = run(s, 40);
      int light = tokens.getOrDefault("light", 0);
      if (fair) {
        assertTrue(light >= 36 && light <= 44, "fair: light got " + light + " of 80 tokens: " + tokens);
      } else {
        assertEquals(0, light, "TRAIL alone runs the shorter heavy requests first: " + tokens);
      }
    }
  }

  @Test
  void weightsSplitTheTokensInTheirRatio() {
    Scheduler s = new Scheduler(TrailPolicy.trail(0.8), new SchedulerConfig(4, 1000, 16, 1),
        new TenantShares(Map.of("gold", 3.0), 1));
    for (int i = 0; i < 30; i++) {
      s.submit(req("g" + i, "gold", 10, 10), 0);
      s.submit(req("b" + i, "bronze", 10, 10), 0);
    }
    Map<String, Integer> tokens = run(s, 40);
    double ratio = tokens.get("gold") / (double) tokens.get("bronze");
    assertTrue(ratio > 2.3 && ratio < 3.7, "gold/bronze tokens " + tokens);
  }

  @Test
  void aTenantBackFromIdleDoesNotBankCredit() {
    TenantShares shares = TenantShares.equal();
    Scheduler s = new Scheduler(TrailPolicy.trail(0.8), new SchedulerConfig(1, 1000, 16, 1), shares);
    s.submit(req("a0", "a", 50, 50), 0);
    run(s, 50); // a alone: 50 tokens on its counter
    s.submit(req("a1", "a", 50, 50), 0);
    s.submit(req("b0", "b", 50, 50), 0); // b arrives while a is live: lifted to a's counter
    assertTrue(shares.counter("b") >= shares.counter("a") - 1e-9, "b lifted to " + shares.counter("b"));
    Map<String, Integer> tokens = run(s, 40);
    assertTrue(tokens.getOrDefault("a", 0) > 0, "a keeps its share: " + tokens);
  }

  @Test
  void anOverdueRequestGoesAheadOfShorterOnesAndPreemptsForIt() {
    overdueLongRequestIsRescuedAt60Ms(true);
  }

  @Test
  void aRequestQueuedBeforeTheEngineMeasuredItsTokenTimeGetsItsDeadlineWhenItDoes() {
    overdueLongRequestIsRescuedAt60Ms(false); // as live: the first requests arrive before any command has run
  }

  private void overdueLongRequestIsRescuedAt60Ms(boolean tokenTimeKnownFirst) {
    Scheduler s = new Scheduler(TrailPolicy.trail(0.8), new SchedulerConfig(1, 1000, 16, 1));
    s.setStarvationBound(2);
    if (tokenTimeKnownFirst) {
      s.setTokenMs(1); // one token per ms
    }
    s.submit(req("long", "", 30, 30), 0); // predicted 30 tokens: due after 2 × 30 ms of waiting
    s.submit(req("short0", "", 5, 5), 0);
    s.setTokenMs(1);
    int next = 1;
    long now = 0;
    String placedLong = null;
    for (; now < 200 && placedLong == null; now++) {
      if (s.runningCount() == 1 && s.queuedCount() < 3) { // shorter work keeps coming
        s.submit(req("short" + next++, "", 5, 5), now);
      }
      s.schedule(now);
      s.checkInvariants();
      for (Request r : s.runningRequests()) {
        if (r.id().equals("long")) {
          placedLong = "at " + now;
          break;
        }
        s.progress(r.id(), 1);
        if (r.generated() >= r.trueOutputTokens()) {
          s.finish(r.id());
        }
      }
    }
    assertTrue(placedLong != null && now <= 62 + 1, "the long request ran " + placedLong + " (due at 60 ms)");
    assertEquals(1, s.starvationRescues());
  }

  @Test
  void withoutTheBoundShorterWorkStarvesTheLongRequest() {
    Scheduler s = new Scheduler(TrailPolicy.trail(0.8), new SchedulerConfig(1, 1000, 16, 1));
    s.submit(req("long", "", 30, 30), 0);
    int next = 0;
    for (long now = 0; now < 200; now++) {
      if (s.queuedCount() < 3) {
        s.submit(req("short" + next++, "", 5, 5), now);
      }
      s.schedule(now);
      for (Request r : s.runningRequests()) {
        assertTrue(!r.id().equals("long"), "long ran at " + now);
        s.progress(r.id(), 1);
        if (r.generated() >= r.trueOutputTokens()) {
          s.finish(r.id());
        }
      }
    }
  }

  @Test
  void noRequestIsPlacedAndPreemptedInOneRoundWhateverTheTenantOrder() {
    // tied counters: the fill takes tenant "a" first by name, whose request ranks worse than "b"'s
    Scheduler s = new Scheduler(TrailPolicy.trail(0.8), new SchedulerConfig(1, 1000, 16, 1), TenantShares.equal());
    s.submit(req("a-long", "a", 100, 100), 0);
    s.submit(req("b-short", "b", 5, 5), 0);
    List<Decision> round = s.schedule(0);
    s.checkInvariants();
    assertEquals(List.of(Decision.Kind.ADMIT), round.stream().map(Decision::kind).toList(), round.toString());
  }

  @Test
  void anOverdueRequestThatKvBlocksDoesNotStallTheEngine() {
    // KV for one request at a time; a parked (prefilled) short request holds KV the overdue long one would need
    // 45 blocks of 16: big needs 38 (600 prompt tokens + a quantum), the parked small one holds 8 (120 + 1)
    Scheduler s = new Scheduler(TrailPolicy.trail(0.8), new SchedulerConfig(4, 45, 16, 1));
    s.setStarvationBound(1);
    s.setTokenMs(1);
    Request big = new Request("big", 0, order++, 600, 100, 100, "");
    big.predict(100, true);
    s.submit(big, 0);
    Request small = new Request("small", 140, order++, 120, 64, 5, "");
    small.predict(5, true);
    s.submit(small, 140); // due at 145
    assertTrue(s.park("small", 0));
    s.checkInvariants();
    List<Decision> d = s.schedule(142); // big is overdue since 100: it may evict the idle parked request
    s.checkInvariants();
    assertEquals(List.of("big"), s.runningRequests().stream().map(Request::id).toList(), d.toString());
    assertEquals(1, s.starvationRescues());
    // without the bound, the better-ranked parked request keeps its KV and runs; big waits, nothing stalls
    Scheduler plain = new Scheduler(TrailPolicy.trail(0.8), new SchedulerConfig(4, 45, 16, 1));
    Request big2 = new Request("big", 0, 0, 600, 100, 100, "");
    big2.predict(100, true);
    plain.submit(big2, 0);
    Request small2 = new Request("small", 140, 1, 120, 64, 5, "");
    small2.predict(5, true);
    plain.submit(small2, 140);
    assertTrue(plain.park("small", 0));
    plain.schedule(142);
    plain.checkInvariants();
    assertEquals(List.of("small"), plain.runningRequests().stream().map(Request::id).toList());
  }

  @Test
  void weightsParseFromFlagsAndFilesWithOneLineErrors(@TempDir Path dir) throws Exception {
    assertEquals(Map.of("a", 2.0, "b", 0.5), TenantWeights.parse("a:2, b:0.5"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> TenantWeights.parse("a:0")).getMessage()
        .contains("must be > 0"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> TenantWeights.parse("a=2")).getMessage()
        .contains("not NAME:NUMBER"));
    Path f = dir.resolve("weights.conf");
    Files.writeString(f, "# tenants\ngold = 3   # paying\nteam-b: 1\n\n");
    assertEquals(Map.of("gold", 3.0, "team-b", 1.0), TenantWeights.read(f));
    Files.writeString(f, "gold = 3\nsilver = lots\n");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TenantWeights.read(f));
    assertTrue(e.getMessage().startsWith(f + ":2: 'lots' is not a number"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new TenantShares(Map.of("x", -1.0), 1));
  }
}
