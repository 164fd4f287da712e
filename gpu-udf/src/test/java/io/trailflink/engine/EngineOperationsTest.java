package io.trailflink.engine;

import static io.trailflink.engine.EngineVsReferenceTest.runToEnd;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.trailflink.engine.model.Checkpoint;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Batching, preemption, eviction/recompute, KV budget and bad input on a tiny GQA checkpoint. */
class EngineOperationsTest {
  @TempDir static Path tmp;
  static Checkpoint ckpt;

  @BeforeAll
  static void writeCheckpoint() throws Exception {
    ckpt = Checkpoint.load(TinyCheckpoints.write(tmp.resolve("m"), TinyCheckpoints.GQA_LLAMA3_BF16_SHARDED, 5));
  }

  private static LlamaEngine engine(int blocks) {
    return new LlamaEngine(ckpt, new EngineConfig(blocks, 4, 1, "cpu"), Device.cpu());
  }

  private static GenerationRequest forced(String id, int promptLen, int n, long seed) {
    int[] prompt = TinyCheckpoints.randomTokens(new Random(seed), promptLen, ckpt.config().vocabSize());
    return new GenerationRequest(id, prompt, n, n, SamplingParams.GREEDY);
  }

  @Test
  void noOperationLeavesAnArrayBehind() throws Exception {
    noOperationLeavesAnArrayBehind(ckpt);
    // a tied head (the bundled model's) too: its transposed embedding was once made, and leaked, per forward
    noOperationLeavesAnArrayBehind(Checkpoint.load(TinyCheckpoints.write(tmp.resolve("tied"),
        TinyCheckpoints.MHA_TIED_F32, 5)));
  }

  private static void noOperationLeavesAnArrayBehind(Checkpoint ckpt) {
    try (LlamaEngine e = new LlamaEngine(ckpt, new EngineConfig(64, 4, 1, "cpu"), Device.cpu())) {
      int before = e.managedArrays();
      for (int round = 0; round < 3; round++) {
        String a = "a" + round;
        String b = "b" + round;
        e.probe(List.of(forced("p" + round, 6, 4, round + 20)));
        e.admit(List.of(forced(a, 5, 12, round), forced(b, 9, 12, round + 7)));
        e.decode(List.of(a, b), 2);
        e.preempt(a);
        e.evict(b);
        e.resume(List.of(a, b)); // b is recomputed
        while (e.activeRequests() > 0) {
          e.decode(List.of(a, b).stream().filter(id -> e.blocksHeld(id) > 0).toList(), 4);
        }
        e.release(a);
        e.release(b);
      }
      assertEquals(before, e.managedArrays(), "arrays left behind in the engine's managers by its operations");
    }
  }

  @Test
  void batchedDecodeOfRaggedSequencesEqualsOneAtATime() {
    List<GenerationRequest> reqs = List.of(forced("a", 3, 30, 1), forced("b", 17, 30, 2), forced("c", 8, 30, 3),
        forced("d", 1, 30, 4));
    Map<String, int[]> alone = new HashMap<>();
    for (GenerationRequest r : reqs) {
      try (LlamaEngine e = engine(64)) {
        alone.put(r.id(), runToEnd(e, r, 5));
      }
    }
    try (LlamaEngine e = engine(64)) {
      Map<String, List<Integer>> got = new HashMap<>();
      for (SequenceUpdate u : e.admit(reqs)) {
        assertEquals(Outcome.OK, u.outcome(), u.message());
        got.computeIfAbsent(u.requestId(), k -> new ArrayList<>()).add(u.tokens()[0]);
      }
      List<String> ids = List.of("a", "b", "c", "d");
      while (e.activeRequests() > 0) {
        for (SequenceUpdate u : e.decode(ids.stream().filter(id -> e.blocksHeld(id) > 0).toList(), 7)) {
          for (int t : u.tokens()) {
            got.get(u.requestId()).add(t);
          }
        }
      }
      for (String id : ids) {
        assertArrayEquals(alone.get(id), got.get(id).stream().mapToInt(Integer::intValue).toArray(), id);
      }
    }
  }

  @Test
  void preemptEvictAndResumeGiveTheUninterruptedTokens() {
    GenerationRequest r = forced("x", 10, 40, 9);
    int[] expected;
    try (LlamaEngine e = engine(64)) {
      expected = runToEnd(e, r, 40);
    }
    try (LlamaEngine e = engine(64)) {
      List<Integer> got = new ArrayList<>();
      SequenceUpdate u = e.admit(List.of(r)).get(0);
      add(got, u);
      add(got, e.decode(List.of("x"), 6).get(0));
      int held = e.blocksHeld("x");
      assertEquals(Outcome.OK, e.preempt("x").outcome());
      assertEquals(held, e.blocksHeld("x"), "a preempted request keeps its KV blocks");
      add(got, e.decode(List.of("x"), 5).get(0));
      SequenceUpdate ev = e.evict("x");
      assertEquals(0, ev.blocksHeld());
      assertEquals(0, e.blocksUsed(), "eviction frees every block");
      assertEquals(Outcome.REJECTED, e.decode(List.of("x"), 1).get(0).outcome(), "evicted must be resumed first");
      SequenceUpdate res = e.resume(List.of("x")).get(0);
      assertEquals(Outcome.OK, res.outcome(), res.message());
      assertEquals(e.blocksHeld("x"), res.blocksHeld());
      while (true) {
        u = e.decode(List.of("x"), 8).get(0);
        add(got, u);
        if (u.finished()) {
          break;
        }
      }
      assertEquals(FinishReason.FORCED_LENGTH, u.finish());
      assertArrayEquals(expected, got.stream().mapToInt(Integer::intValue).toArray());
    }
  }

  @Test
  void kvBudgetIsEnforcedAndReported() {
    try (LlamaEngine e = engine(6)) { // 6 blocks × 4 tokens
      SequenceUpdate a = e.admit(List.of(forced("a", 7, 16, 1))).get(0); // 2 blocks
      assertEquals(2, a.blocksHeld());
      SequenceUpdate b = e.admit(List.of(forced("b", 12, 12, 2))).get(0); // 3 blocks
      assertEquals(5, e.blocksUsed());
      SequenceUpdate c = e.admit(List.of(forced("c", 8, 2, 3))).get(0); // needs 2, 1 free
      assertEquals(Outcome.KV_FULL, c.outcome());
      assertEquals(5, e.blocksUsed(), "a refused admit takes nothing");
      // decoding both: 'a' crosses into a third block first; 'b' then finds the pool empty
      List<SequenceUpdate> us = e.decode(List.of("a", "b"), 8);
      assertTrue(us.stream().anyMatch(u -> u.outcome() == Outcome.KV_FULL), "someone must hit the budget");
      assertEquals(6, e.blocksUsed());
      e.evict("b");
      assertEquals(e.blocksHeld("a"), e.blocksUsed());
    }
  }

  @Test
  void badRequestsAreRejectedWithReasonsAndTheEngineStaysUsable() {
    try (LlamaEngine e = engine(8)) {
      List<SequenceUpdate> us = e.admit(List.of(
          new GenerationRequest("empty", new int[0], 5, 0, SamplingParams.GREEDY),
          new GenerationRequest("long", new int[300], 5, 0, SamplingParams.GREEDY),
          new GenerationRequest("zero", new int[] {5}, 0, 0, SamplingParams.GREEDY),
          new GenerationRequest("vocab", new int[] {5, 1000}, 5, 0, SamplingParams.GREEDY),
          new GenerationRequest("huge", new int[] {5}, 200, 0, SamplingParams.GREEDY),
          new GenerationRequest("beyond", new int[] {5}, 100_000, 0, SamplingParams.GREEDY),
          forced("ok", 4, 3, 1),
          forced("ok", 4, 3, 1)));
      assertEquals(List.of(Outcome.REJECTED, Outcome.REJECTED, Outcome.REJECTED, Outcome.REJECTED,
          Outcome.REJECTED, Outcome.REJECTED, Outcome.OK, Outcome.REJECTED),
          us.stream().map(SequenceUpdate::outcome).toList());
      assertTrue(us.get(0).message().contains("empty prompt"));
      assertTrue(us.get(1).message().contains("context"), us.get(1).message());
      assertTrue(us.get(2).message().contains("max_new_tokens"));
      assertTrue(us.get(3).message().contains("vocabulary"));
      assertTrue(us.get(4).message().contains("capacity"), us.get(4).message());
      assertTrue(us.get(5).message().contains("max_new_tokens"), us.get(5).message());
      assertTrue(us.get(7).message().contains("duplicate"));
      assertEquals(Outcome.REJECTED, e.decode(List.of("nope"), 2).get(0).outcome());
      SequenceUpdate ok = e.decode(List.of("ok"), 5).get(0);
      assertEquals(FinishReason.FORCED_LENGTH, ok.finish());
      assertEquals(0, e.blocksUsed());
    }
  }

  @Test
  void stopsAtEosOrMaxTokensAndSeededSamplingIsReproducible() {
    int eos = ckpt.eosTokenIds().get(0);
    int[] prompt = TinyCheckpoints.randomTokens(new Random(3), 6, ckpt.config().vocabSize());
    SamplingParams hot = new SamplingParams(1.5, 0.95, 42);
    int[] first;
    int[] second;
    int[] other;
    try (LlamaEngine e = engine(64)) {
      first = runToEnd(e, new GenerationRequest("s1", prompt, 60, 0, hot), 9);
      second = runToEnd(e, new GenerationRequest("s2", prompt, 60, 0, hot), 4);
      other = runToEnd(e, new GenerationRequest("s3", prompt, 60, 0, new SamplingParams(1.5, 0.95, 43)), 9);
    }
    assertArrayEquals(first, second, "same seed, same text, whatever the quantum");
    assertNotEquals(java.util.Arrays.toString(first), java.util.Arrays.toString(other), "another seed differs");
    for (int[] run : List.of(first, other)) {
      boolean endsWithEos = run[run.length - 1] == eos;
      assertTrue(endsWithEos || run.length == 60, "stops at EOS or at max_new_tokens");
      for (int i = 0; i < run.length - 1; i++) {
        assertNotEquals(eos, run[i], "nothing is generated after EOS");
      }
    }
  }

  private static void add(List<Integer> got, SequenceUpdate u) {
    assertEquals(Outcome.OK, u.outcome(), u.message());
    for (int t : u.tokens()) {
      got.add(t);
    }
  }
}
