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
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The loop's checkpoint form ({@link EngineLoopState}), without Flink: a loop taken mid-run, through Avro bytes, and
 * restored under the same settings on a new engine (which knows none of its requests) finishes every request once,
 * with every token's text once, as the loop that never stopped would.
 */
class EngineLoopStateTest {

  @ParameterizedTest(name = "pipeline depth {0}, checkpoint before the first answer: {1}")
  @CsvSource({"1,false", "2,false", "1,true", "2,true"})
  void aLoopRestoredMidRunOnANewEngineFinishesEveryRequestOnceWithExactlyItsTokens(int depth, boolean beforeFirstAnswer)
      throws IOException {
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
    Map<String, List<Integer>> streamed = new HashMap<>(); // what a read_committed consumer of the chunks sees
    ArrayDeque<StepCommand> sent = new ArrayDeque<>();
    long now = 100;
    for (StepCommand c = loop.nextCommand(now); c != null; c = loop.nextCommand(now)) {
      sent.add(c);
    }
    int steps = 0;
    int restoredAt = 0;
    while (!sent.isEmpty()) {
      // the checkpoint catches a command that admits requests in flight: the new engine takes them on when it is
      // replayed, after the lost engine's answer settled it
      // (or before the first answer, when the state knows no engine incarnation yet)
      if (++steps >= (beforeFirstAnswer ? 1 : 3) && restoredAt == 0
          && sent.stream().anyMatch(c -> !c.getAdmit().isEmpty())) {
        restoredAt = steps;
        // a checkpoint is taken here; the old run goes on for a few commands (their feedback stays in the topic, their
        // chunks are rolled back), then fails; the job restores: state from its bytes, a new engine
        EngineLoopState taken = loop.toState();
        assertTrue(beforeFirstAnswer || taken.getRequests().stream().anyMatch(r -> r.getGeneratedTokenIds().size() > 1),
            "some request had decoded tokens when the state was taken");
        List<StepCommand> inFlightAtCheckpoint = List.copyOf(sent);
        List<EngineFeedback> oldRun = new ArrayList<>();
        for (int k = 0; k < 5 && !sent.isEmpty(); k++) {
          EngineFeedback fb = engine.run(sent.poll());
          oldRun.add(fb);
          loop.apply(fb, now);
          for (StepCommand next = loop.nextCommand(now); next != null; next = loop.nextCommand(now)) {
            sent.add(next);
          }
        }
        long preemptionsBefore = taken.getCounters().getSchedulerPreemptions();
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
          streamed.put(r.getId(), new ArrayList<>(r.getGeneratedTokenIds()));
        }
        assertEquals(0, loop.kvBlocksUsed(), "a new engine holds nothing");
        assertEquals(preemptionsBefore, loop.preemptions(), "counters survive");
        assertEquals(taken.getRequests().stream().map(r -> r.getId() + r.getGeneratedTokenIds() + r.getText()).toList(),
            loop.toState().getRequests().stream().map(r -> r.getId() + r.getGeneratedTokenIds() + r.getText()).toList(),
            "arrival order, tokens and text kept");
        sent = new ArrayDeque<>(inFlightAtCheckpoint); // the restored async operator replays what it held first
        for (EngineFeedback fb : oldRun) { // while the feedback source re-reads the old engine's answers
          assertEquals(List.of(), loop.apply(fb, now), "nothing of a lost engine is applied");
          assertEquals(List.of(), loop.drainChunks());
          for (StepCommand next = loop.nextCommand(now); next != null; next = loop.nextCommand(now)) {
            sent.add(next); // the operator issues commands as soon as it may: the old run's numbers come round again
          }
        }
      }
      StepCommand c = sent.poll();
      EngineFeedback fb = engine.run(c);
      for (FinalResponse f : loop.apply(fb, now)) {
        finals.computeIfAbsent(f.getRequestId(), k -> new ArrayList<>()).add(f);
      }
      loop.drainChunks().forEach(ch -> streamed.computeIfAbsent(ch.getRequestId(), k -> new ArrayList<>())
          .addAll(ch.getTokenIds()));
      loop.scheduler().checkInvariants();
      now += 10;
      for (StepCommand next = loop.nextCommand(now); next != null; next = loop.nextCommand(now)) {
        sent.add(next);
      }
      assertTrue(steps < 500, "loop does not converge");
    }
    assertTrue(restoredAt > 0 && steps > restoredAt, "the restore happened mid-run");
    assertEquals(10, finals.size());
    for (var e : finals.entrySet()) {
      assertEquals(1, e.getValue().size(), "one final response for " + e.getKey());
      FinalResponse f = e.getValue().get(0);
      assertNull(f.getError(), e.getKey());
      assertEquals(lengths.get(e.getKey()), f.getOutputTokens(), e.getKey());
      assertEquals(f.getOutputTokens(), f.getText().length(), "text of every token, once: " + e.getKey());
      List<Integer> expected = new ArrayList<>();
      for (int k = 0; k < lengths.get(e.getKey()); k++) {
        expected.add(1000 + k);
      }
      assertEquals(expected, streamed.get(e.getKey()), "every token once, in order, none from the lost engine: "
          + e.getKey());
    }
    assertTrue(loop.idle(), "no request state left behind");
    assertEquals(0, loop.kvBlocksUsed());
    assertTrue(engine.generated.isEmpty(), "the new engine holds nothing either: " + engine.generated.keySet());
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
