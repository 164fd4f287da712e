package io.trailflink.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trailflink.scheduler.Request;
import io.trailflink.scheduler.RequestState;
import io.trailflink.schema.EngineFeedback;
import io.trailflink.schema.EngineLoopState;
import io.trailflink.schema.FinalResponse;
import io.trailflink.schema.ServedRequestState;
import io.trailflink.schema.StepCommand;
import io.trailflink.serving.EngineLoopTest.ScriptedEngine;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The loop's checkpoint form ({@link EngineLoopState}), without Flink: a loop taken mid-run, through Avro bytes, and
 * restored under the same settings on a new engine (which knows none of its requests) finishes every request once,
 * with every token's text once, as the loop that never stopped would.
 */
class EngineLoopStateTest {

  @ParameterizedTest(name = "pipeline depth {0}")
  @ValueSource(ints = {1, 2})
  void aLoopRestoredMidRunOnANewEngineFinishesEveryRequestOnceWithAllItsTokens(int depth) throws IOException {
    ServingConfig config = new ServingConfig("trail", 1, 4, 64, 16, 4, 64, 1024, 60_000, 0, depth);
    Map<String, Integer> lengths = new HashMap<>();
    EngineLoop loop = new EngineLoop(0, config);
    for (int i = 0; i < 10; i++) {
      lengths.put("r" + i, 3 + 5 * i);
      loop.submit(EngineLoopTest.req("r" + i, 60), i);
      loop.scheduler().predict("r" + i, 60 - i, 0);
    }
    ScriptedEngine engine = new ScriptedEngine(lengths);
    Map<String, List<FinalResponse>> finals = new HashMap<>();
    ArrayDeque<StepCommand> sent = new ArrayDeque<>();
    long now = 100;
    for (StepCommand c = loop.nextCommand(now); c != null; c = loop.nextCommand(now)) {
      sent.add(c);
    }
    int steps = 0;
    long preemptionsBefore = -1;
    while (!sent.isEmpty()) {
      if (++steps == 7) {
        // the job restores from a checkpoint taken here: the state goes through its bytes, the engine is new, and
        // the commands in flight are replayed on it (the async operator's checkpointed inputs)
        EngineLoopState taken = loop.toState();
        assertTrue(taken.getRequests().stream().anyMatch(r -> r.getGeneratedTokenIds().size() > 1),
            "some request had decoded tokens when the state was taken");
        preemptionsBefore = loop.preemptions();
        loop = EngineLoop.restore(roundTrip(taken), config, now);
        engine = new ScriptedEngine(lengths);
        engine.incarnation = "b";
        for (ServedRequestState r : taken.getRequests()) {
          Request restored = loop.scheduler().request(r.getId());
          RequestState was = RequestState.valueOf(r.getState());
          assertEquals(was == RequestState.WAITING ? RequestState.WAITING : RequestState.EVICTED, restored.state(),
              r.getId() + " was " + was);
          assertEquals(r.getSchedulerGenerated(), restored.generated(), r.getId());
          assertTrue(restored.hasPrediction(), r.getId() + " keeps its prediction");
        }
        assertEquals(0, loop.kvBlocksUsed(), "a new engine holds nothing");
        assertEquals(preemptionsBefore, loop.preemptions(), "counters survive");
        assertEquals(taken.getRequests().stream().map(ServedRequestState::getId).toList(),
            loop.toState().getRequests().stream().map(ServedRequestState::getId).toList(), "arrival order kept");
        assertEquals(taken.getRequests().stream().map(r -> r.getGeneratedTokenIds() + r.getText()).toList(),
            loop.toState().getRequests().stream().map(r -> r.getGeneratedTokenIds() + r.getText()).toList(),
            "tokens and text kept: the new engine recomputes them, nothing is generated twice");
      }
      StepCommand c = sent.poll();
      EngineFeedback fb = engine.run(c);
      for (FinalResponse f : loop.apply(fb, now)) {
        finals.computeIfAbsent(f.getRequestId(), k -> new ArrayList<>()).add(f);
      }
      loop.scheduler().checkInvariants();
      now += 10;
      for (StepCommand next = loop.nextCommand(now); next != null; next = loop.nextCommand(now)) {
        sent.add(next);
      }
      assertTrue(steps < 500, "loop does not converge");
    }
    assertTrue(steps > 7, "the restore happened mid-run");
    assertEquals(10, finals.size());
    for (var e : finals.entrySet()) {
      assertEquals(1, e.getValue().size(), "one final response for " + e.getKey());
      FinalResponse f = e.getValue().get(0);
      assertNull(f.getError(), e.getKey());
      assertEquals(lengths.get(e.getKey()), f.getOutputTokens(), e.getKey());
      assertEquals(f.getOutputTokens(), f.getText().length(), "text of every token, once: " + e.getKey());
    }
    assertTrue(loop.idle(), "no request state left behind");
    assertEquals(0, loop.kvBlocksUsed());
  }

  @Test
  void tenantCountersAndRequestFieldsSurviveTheRoundTrip() throws IOException {
    ServingConfig fair = new ServingConfig("trail", 1, 2, 64, 16, 4, 64, 1024, 60_000, 0, 1, 0,
        ServingConfig.MODEL_PREDICTIONS, true, 1_000, false, ServingConfig.DEFAULT_PLACEMENT,
        io.trailflink.scheduler.TenantShares.equal(), 0);
    EngineLoop loop = new EngineLoop(0, fair);
    loop.submit(new ValidatedRequest("a", "alice", new int[] {5, 6}, 40, 0,
        io.trailflink.schema.Sampling.newBuilder().setTemperature(0.7f).setSeed(42).build(), List.of("END"), 7L, 0,
        null).withDeadline(90_000), 10);
    loop.submit(new ValidatedRequest("b", "bob", new int[] {7}, 30, 0, io.trailflink.schema.Sampling.newBuilder().build(),
        List.of(), 8L, 0, null), 11);
    ScriptedEngine engine = new ScriptedEngine(Map.of("a", 30, "b", 20));
    long now = 20;
    for (int i = 0; i < 3; i++) {
      loop.apply(engine.run(loop.nextCommand(now)), now);
      now += 10;
    }
    EngineLoopState taken = loop.toState();
    EngineLoop restored = EngineLoop.restore(roundTrip(taken), fair, now);
    assertEquals(loop.scheduler().shares().counters(), restored.scheduler().shares().counters());
    EngineLoopState again = restored.toState();
    for (int i = 0; i < 2; i++) {
      ServedRequestState before = taken.getRequests().get(i);
      ServedRequestState after = again.getRequests().get(i);
      assertEquals(before.getSampling(), after.getSampling());
      assertEquals(before.getStop(), after.getStop());
      assertEquals(before.getDeadlineAtMs(), after.getDeadlineAtMs());
      assertEquals(before.getGeneratedTokenIds(), after.getGeneratedTokenIds());
      assertEquals(before.getText(), after.getText());
      assertEquals(before.getFirstTokenAtMs(), after.getFirstTokenAtMs());
      assertEquals(before.getTenant(), after.getTenant());
    }
    assertEquals(taken.getNextSeq(), again.getNextSeq());
    assertEquals(taken.getInFlightSeqs(), again.getInFlightSeqs(), "commands in flight stay numbered (voided)");
    assertEquals(taken.getCounters().getCommands(), again.getCounters().getCommands());
  }

  /** The state through Avro's binary form, as a checkpoint stores it. */
  static EngineLoopState roundTrip(EngineLoopState state) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    BinaryEncoder out = EncoderFactory.get().binaryEncoder(bytes, null);
    new SpecificDatumWriter<>(EngineLoopState.class).write(state, out);
    out.flush();
    return new SpecificDatumReader<>(EngineLoopState.class)
        .read(null, DecoderFactory.get().binaryDecoder(bytes.toByteArray(), null));
  }
}
