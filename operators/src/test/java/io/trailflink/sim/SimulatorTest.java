package io.trailflink.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trailflink.scheduler.placement.HashPlacement;
import io.trailflink.scheduler.placement.LeastRequests;
import io.trailflink.scheduler.placement.Rebalance;
import io.trailflink.scheduler.policy.FcfsPolicy;
import io.trailflink.scheduler.policy.Policies;
import io.trailflink.scheduler.policy.TrailPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The simulator's timing model, policy effects and workload readers. */
class SimulatorTest {
  @TempDir Path tmp;

  private static Simulator sim(int maxRunning, String predictions) {
    return new Simulator(new Simulator.Config(maxRunning, 10_000, 16, 512, new StepTimeModel(10, 0, 0),
        PredictionModel.parse(predictions, 1), 1));
  }

  @Test
  void oneAtATimeFcfsMatchesHandComputedTimes() {
    // 10 ms per token, one request at a time: A (3 tokens) then B (2 tokens), both arriving at 0
    List<SimRequest> w = List.of(new SimRequest("A", 0, 5, 3), new SimRequest("B", 0, 5, 2));
    SimResult r = sim(1, "oracle").run(new FcfsPolicy(), w, n -> { });
    assertEquals(List.of(30.0, 50.0), List.of(r.latencyMs()[0], r.latencyMs()[1]));
    assertEquals(List.of(10.0, 40.0), List.of(r.ttftMs()[0], r.ttftMs()[1]));
    assertEquals(50.0, r.makespanMs());
  }

  @Test
  void commandsOfSeveralTokensAndAPipelineDelayAnArrivalAsTheLiveJobDoes() {
    // 10 ms per iteration, batch of 2: A (20 tokens) runs from 0; B (2 tokens) arrives at 15 ms
    List<SimRequest> w = List.of(new SimRequest("A", 0, 5, 20), new SimRequest("B", 15, 5, 2));
    // every token: B joins at 20 ms, its first token at 30 ms; A's first at 10 ms
    assertEquals(List.of(10.0, 15.0), sortedTtft(w, 1, 1));
    // commands of 8: tokens are seen when a command ends; B joins the command planned at 80 ms, which ends at 160
    assertEquals(List.of(80.0, 145.0), sortedTtft(w, 8, 1));
    // two in flight: at 80 ms the next command is already running, so B's is the one after it (160-200 ms)
    assertEquals(List.of(80.0, 185.0), sortedTtft(w, 8, 2));
  }

  @Test
  void theLoopsGapIsChargedOncePerCommandSoASmallerQuantumPaysItMoreOften() {
    // 10 ms per iteration + 5 ms per command, one request of 8 tokens, one command in flight
    List<SimRequest> w = List.of(new SimRequest("A", 0, 5, 8));
    StepTimeModel gap = new StepTimeModel(10, 0, 0, 0, 5);
    // quantum 8: one command, 80 + 5 ms; quantum 2: four commands, 80 + 4 x 5 ms
    assertEquals(85.0, run(gap, 8, w).latencyMs()[0]);
    assertEquals(100.0, run(gap, 2, w).latencyMs()[0]);
  }

  @Test
  void aRequestsHopDelaysWhenTheSchedulerSeesItButItsTimesCountFromItsArrival() {
    // 10 ms per iteration, one slot: A (3 tokens) arrives at 0 and reaches the scheduler at 5; B (2 tokens) arrives
    // at 1 with no hop, so the scheduler sees B first
    StepTimeModel step = new StepTimeModel(10, 0, 0);
    List<SimRequest> w = List.of(new SimRequest("A", 0, 5, 3).withHop(5), new SimRequest("B", 1, 5, 2));
    SimResult r = run(step, 1, w);
    // B runs 1-21 (latency 20); A starts at 21 and ends at 51, 51 ms after its arrival, its first token at 31
    assertEquals(List.of(20.0, 51.0), sorted(r.latencyMs()));
    assertEquals(List.of(10.0, 31.0), sorted(r.ttftMs()));
  }

  private static SimResult run(StepTimeModel step, int quantum, List<SimRequest> w) {
    return new Simulator(new Simulator.Config(1, 10_000, 16, 512, step, PredictionModel.parse("oracle", 1), 1,
        quantum, 1)).run(new FcfsPolicy(), w, n -> { });
  }

  private static List<Double> sortedTtft(List<SimRequest> w, int quantum, int depth) {
    Simulator sim = new Simulator(new Simulator.Config(2, 10_000, 16, 512, new StepTimeModel(10, 0, 0),
        PredictionModel.parse("oracle", 1), 1, quantum, depth));
    double[] t = sim.run(new FcfsPolicy(), w, n -> { }).ttftMs().clone();
    java.util.Arrays.sort(t);
    return java.util.Arrays.stream(t).boxed().toList();
  }

  @Test
  void parkingGivesAWaitingRequestItsFirstTokenEarlyAndItsAdmissionNoSecondPrefill() {
    // one slot, 10 ms per iteration + 1 ms per prefilled token; A (prompt 5, 3 tokens) and B (prompt 5, 2) at 0
    List<SimRequest> w = List.of(new SimRequest("A", 0, 5, 3), new SimRequest("B", 0, 5, 2));
    // without parking: A 0-15 (prefill), 25, 35; B admitted at 35 with its prefill, 50, 60
    SimResult plain = parkingSim(Simulator.Waiting.NONE).run(new FcfsPolicy(), w, n -> { });
    assertEquals(List.of(35.0, 60.0), sorted(plain.latencyMs()));
    assertEquals(List.of(15.0, 50.0), sorted(plain.ttftMs()));
    // parking: the first command prefills A and B (20 ms) and gives both a first token; B resumes at 40 without a
    // prefill and finishes at 50
    SimResult parked = parkingSim(new Simulator.Waiting(4, 1024, false)).run(new FcfsPolicy(), w, n -> { });
    assertEquals(List.of(40.0, 50.0), sorted(parked.latencyMs()));
    assertEquals(List.of(20.0, 20.0), sorted(parked.ttftMs()));
  }

  @Test
  void aRequestPredictedAtItsPrefillRanksByItsPromptPriorUntilThen() {
    // one slot, 10 ms per iteration; A (1 token) runs; Y (10 tokens, prior 2) and Z (2 tokens, prior 50) wait
    List<SimRequest> w = List.of(new SimRequest("A", 0, 5, 1), new SimRequest("Y", 1, 5, 10).withPromptPrior(2),
        new SimRequest("Z", 1, 5, 2).withPromptPrior(50));
    Simulator.Config atArrival = new Simulator.Config(1, 10_000, 16, 512, new StepTimeModel(10, 0, 0),
        PredictionModel.parse("oracle", 1), 1, 1, 1);
    Simulator.Config atPrefill = new Simulator.Config(1, 10_000, 16, 512, new StepTimeModel(10, 0, 0),
        PredictionModel.parse("oracle", 1), 1, 1, 1, new Simulator.Waiting(0, 0, true));
    // predicted on arrival: Z (truly shorter) goes first, 10-30 ms, then Y 30-130
    assertEquals(List.of(10.0, 29.0, 129.0), sorted(new Simulator(atArrival).run(Policies.parse("sjf", 0.8), w,
        n -> { }).latencyMs()));
    // predicted at prefill: the priors rank them, Y 10-110, then Z 110-130
    assertEquals(List.of(10.0, 109.0, 129.0), sorted(new Simulator(atPrefill).run(Policies.parse("sjf", 0.8), w,
        n -> { }).latencyMs()));
  }

  private static Simulator parkingSim(Simulator.Waiting waiting) {
    return new Simulator(new Simulator.Config(1, 10_000, 16, 512, new StepTimeModel(10, 0, 1),
        PredictionModel.parse("oracle", 1), 1, 1, 1, waiting));
  }

  private static List<Double> sorted(double[] values) {
    double[] t = values.clone();
    java.util.Arrays.sort(t);
    return java.util.Arrays.stream(t).boxed().toList();
  }

  @Test
  void twoEnginesRunTwiceTheWorkSideBySideAndPlacementReadsTheirLoads() {
    // one request at a time per engine, 10 ms per token: A (5 tokens) and B (5 tokens) at 0, C (1 token) at 1 ms
    List<SimRequest> w = List.of(new SimRequest("A", 0, 5, 5), new SimRequest("B", 0, 5, 5),
        new SimRequest("C", 1, 5, 1));
    Simulator sim = sim(1, "oracle");
    SimResult one = sim.run(new FcfsPolicy(), w, n -> { });
    assertEquals(110.0, one.makespanMs(), "one engine: 50 + 50 + 10 ms");
    SimResult two = sim.run(new FcfsPolicy(), Simulator.Cluster.of(2, new LeastRequests()), w, n -> { });
    assertEquals(3, two.latencyMs().length);
    assertEquals(2, two.engines());
    assertEquals(60.0, two.makespanMs(), "A and B side by side; C behind the first to finish");
    double[] hashed = sim.run(new FcfsPolicy(), Simulator.Cluster.of(2, new HashPlacement()), w, n -> { }).latencyMs();
    assertEquals(3, hashed.length);
  }

  @Test
  void leastRequestsPlacementOrMovingWaitingRequestsCutsQueueingAgainstHashOnManyEngines() {
    Random rnd = new Random(5);
    List<SimRequest> base = new ArrayList<>();
    for (int i = 0; i < 4000; i++) {
      base.add(new SimRequest("r" + i, 0, 20, 20 + rnd.nextInt(200)));
    }
    // 16 engines × 4 slots, 10 ms per token, mean 120 tokens: 53 requests/s at capacity; 0.9 of it
    List<SimRequest> w = Workloads.poisson(base, 48, 7);
    Simulator sim = sim(4, "oracle");
    SimResult hash = sim.run(TrailPolicy.trail(0.8), Simulator.Cluster.of(16, new HashPlacement()), w, n -> { });
    SimResult least = sim.run(TrailPolicy.trail(0.8), Simulator.Cluster.of(16, new LeastRequests()), w, n -> { });
    assertEquals(4000, hash.latencyMs().length);
    assertEquals(4000, least.latencyMs().length);
    assertTrue(least.meanTtft() * 3 < hash.meanTtft(), "TTFT " + least.meanTtft() + " vs hash " + hash.meanTtft());
    assertTrue(least.meanLatency() < hash.meanLatency());

    SimResult moved = sim.run(TrailPolicy.trail(0.8), new Simulator.Cluster(16, new HashPlacement(), null, 0,
        new Rebalance(1)), w, n -> { });
    assertEquals(4000, moved.latencyMs().length);
    assertEquals(hash.outputTokens(), moved.outputTokens(), "the same work, elsewhere");
    assertTrue(moved.moves() > 0);
    assertEquals(0, hash.moves());
    assertEquals("hash+rebalance:1", moved.placement());
    assertTrue(moved.meanTtft() * 3 < hash.meanTtft(), "TTFT " + moved.meanTtft() + " vs hash " + hash.meanTtft());
  }

  @Test
  void tenantSharesProtectALightTenantFromAFloodingOne() {
    Random rnd = new Random(9);
    List<SimRequest> base = new ArrayList<>();
    for (int i = 0; i < 3000; i++) {
      base.add(new SimRequest("r" + i, 0, 20, 20 + rnd.nextInt(300)));
    }
    // 2 engines × 4 slots at 10 ms per token hold ~4.9 requests/s; heavy sends 10× light, 1.2× capacity in all
    List<SimRequest> w = Workloads.assignTenants(Workloads.poisson(base, 6, 3),
        new java.util.LinkedHashMap<>(java.util.Map.of("heavy", 10.0, "light", 1.0)), 3);
    Simulator sim = sim(4, "oracle");
    SimResult unfair = sim.run(TrailPolicy.trail(0.8), new Simulator.Cluster(2, new LeastRequests(), null, 0), w,
        n -> { });
    SimResult fair = sim.run(TrailPolicy.trail(0.8), new Simulator.Cluster(2, new LeastRequests(),
        io.trailflink.scheduler.TenantShares.equal(), 0), w, n -> { });
    double unfairLight = SimResult.percentile(unfair.latencyOf("light"), 99);
    double fairLight = SimResult.percentile(fair.latencyOf("light"), 99);
    assertTrue(fairLight * 2 < unfairLight, "light p99 " + fairLight + " fair vs " + unfairLight + " unfair");
    assertEquals(w.size(), fair.latencyMs().length);
  }

  @Test
  void shortestFirstBeatsFcfsOnABurstOfMixedLengths() {
    Random rnd = new Random(3);
    List<SimRequest> w = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      w.add(new SimRequest("r" + i, 0, 20, rnd.nextBoolean() ? 1 + rnd.nextInt(20) : 200 + rnd.nextInt(300)));
    }
    Simulator s = sim(8, "oracle");
    SimResult fcfs = s.run(new FcfsPolicy(), w, n -> { });
    SimResult trail = s.run(TrailPolicy.trail(0.8), w, n -> { });
    SimResult oracle = s.run(TrailPolicy.oracle(1.0), w, n -> { });
    assertEquals(300, fcfs.latencyMs().length);
    assertEquals(300, trail.latencyMs().length);
    assertTrue(trail.meanLatency() < 0.8 * fcfs.meanLatency(), trail.meanLatency() + " vs " + fcfs.meanLatency());
    assertTrue(oracle.meanLatency() <= trail.meanLatency() * 1.01);
    assertEquals(fcfs.outputTokens(), trail.outputTokens(), "same work, different order");
  }

  @Test
  void noisyPredictionsHaveTheirStatedMeanAbsoluteError() {
    PredictionModel m = PredictionModel.parse("noisy:40,20", 9);
    double initialErr = 0;
    double refinedErr = 0;
    int n = 5_000;
    int refinedSamples = 0;
    for (int i = 0; i < n; i++) {
      SimRequest r = new SimRequest("r", 0, 10, 400);
      PredictionModel.Noise noise = m.noiseFor(i);
      initialErr += Math.abs(m.initial(r, noise, 100_000) - 400);
      for (int g = 0; g < 400; g++) {
        refinedErr += Math.abs(m.remaining(r, noise, g, 100_000) - (400 - g));
        refinedSamples++;
      }
    }
    assertEquals(40, initialErr / n, 1.5);
    assertEquals(20, refinedErr / refinedSamples, 1.5);
  }

  @Test
  void malformedLinesAreReportedWithFileAndLineOrRejectedWhenStrict() throws Exception {
    Path f = tmp.resolve("w.jsonl");
    Files.writeString(f, "{\"prompt\": \"hi there\", \"out_tokens\": 5}\n{broken\n{\"prompt\": \"x\"}\n"
        + "{\"prompt\": \"y\", \"out_tokens\": 0}\n{\"prompt_tokens\": 7, \"out_tokens\": 3}\n");
    List<String> bad = new ArrayList<>();
    List<SimRequest> w = Workloads.readJsonl(f, false, bad::add);
    assertEquals(2, w.size());
    assertEquals(2, w.get(0).promptTokens(), "⌈8 chars / 4⌉");
    assertEquals(7, w.get(1).promptTokens());
    assertEquals(3, bad.size());
    assertTrue(bad.get(0).contains("w.jsonl:2"), bad.toString());
    assertTrue(bad.get(1).contains(":3") && bad.get(1).contains("out_tokens"), bad.toString());
    assertTrue(bad.get(2).contains(":4") && bad.get(2).contains(">= 1"), bad.toString());
    WorkloadException e = assertThrows(WorkloadException.class, () -> Workloads.readJsonl(f, true, m -> { }));
    assertTrue(e.getMessage().contains("w.jsonl:2"));
  }

  @Test
  void azureTraceArrivalsComeFromTimestamps() throws Exception {
    Path f = tmp.resolve("t.csv");
    Files.writeString(f, "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6805900,374,44\n"
        + "2023-11-16 18:15:50.9951690,396,109\nnonsense\n2023-11-16 18:15:51.5,10,0\n");
    List<String> bad = new ArrayList<>();
    List<SimRequest> w = Workloads.readAzureCsv(f, 2.0, false, bad::add);
    assertEquals(2, w.size());
    assertEquals(0, w.get(0).arrivalMs());
    assertEquals(Math.round(4314.579 / 2), w.get(1).arrivalMs());
    assertEquals(396, w.get(1).promptTokens());
    assertEquals(2, bad.size());
  }

  @Test
  void poissonArrivalsHaveTheRequestedRate() {
    List<SimRequest> base = new ArrayList<>();
    for (int i = 0; i < 20_000; i++) {
      base.add(new SimRequest("r" + i, 0, 1, 1));
    }
    List<SimRequest> p = Workloads.poisson(base, 25, 4);
    double seconds = p.get(p.size() - 1).arrivalMs() / 1000.0;
    assertEquals(25, p.size() / seconds, 0.6);
    assertThrows(IllegalArgumentException.class, () -> Workloads.poisson(base, 0, 1));
  }

  @Test
  void resamplingKeepsTheLengthsAndGivesFreshIds() {
    List<SimRequest> base = List.of(new SimRequest("a", 0, 5, 10), new SimRequest("b", 0, 7, 300));
    List<SimRequest> r = Workloads.resample(base, 1_000, 3);
    assertEquals(1_000, r.size());
    assertEquals(1_000, r.stream().map(SimRequest::id).distinct().count());
    long longOnes = r.stream().filter(x -> x.outputTokens() == 300).count();
    assertTrue(longOnes > 400 && longOnes < 600, "draws both, about evenly: " + longOnes);
    assertTrue(r.stream().allMatch(x -> x.outputTokens() == (x.promptTokens() == 5 ? 10 : 300)));
    assertEquals(r, Workloads.resample(base, 1_000, 3));
    assertThrows(IllegalArgumentException.class, () -> Workloads.resample(base, 0, 3));
  }

  @Test
  void policyNamesParseAndUnknownOnesAreRefused() {
    assertEquals("trail", Policies.parse("trail", 0.8).name());
    assertEquals(0.0, ((TrailPolicy) Policies.parse("trail:0", 0.8)).c());
    assertEquals("trail:0", Policies.parse("trail:0", 0.8).name());
    assertTrue(assertThrows(IllegalArgumentException.class, () -> Policies.parse("lifo", 0.8)).getMessage()
        .contains("unknown policy 'lifo'"));
    assertThrows(IllegalArgumentException.class, () -> Policies.parse("trail:-1", 0.8));
  }

  @Test
  void recordedPredictionsReplayTheTrajectoryForTheSameLengthAndCarryTheErrorToOthers() throws Exception {
    Path file = tmp.resolve("recorded.jsonl");
    // one recorded request of 4 tokens whose estimates were 10, 6, 1, 0 (truth 4, 3, 2, 1)
    Files.writeString(file, "{\"output_tokens\": 4, \"estimates\": [10, 6, 1, 0]}\n");
    PredictionModel m = PredictionModel.parse("recorded:" + file, 1);
    PredictionModel.Noise n = m.noiseFor(0);
    SimRequest same = new SimRequest("a", 0, 5, 4);
    assertEquals(10, m.initial(same, n, 512), 1e-9);
    assertEquals(6, m.remaining(same, n, 1, 512), 1e-9);
    assertEquals(1, m.remaining(same, n, 2, 512), 1e-9);
    // a request twice as long inherits the error at the same fraction: g = 2 ↔ recorded g = 1 (error +3)
    SimRequest longer = new SimRequest("b", 0, 5, 8);
    assertEquals(8 + 6, m.initial(longer, n, 512), 1e-9);
    assertEquals(8 - 2 + 3, m.remaining(longer, n, 2, 512), 1e-9);
    Files.writeString(file, "{\"output_tokens\": 3, \"estimates\": [1]}\n");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> PredictionModel.parse("recorded:" + file, 1));
    assertTrue(e.getMessage().contains("line 1"), e.getMessage());
  }
}
