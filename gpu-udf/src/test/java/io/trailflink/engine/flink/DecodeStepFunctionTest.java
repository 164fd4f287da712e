package io.trailflink.engine.flink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.trailflink.engine.EngineConfig;
import io.trailflink.engine.TinyCheckpoints;
import io.trailflink.schema.AdmitSpec;
import io.trailflink.schema.RequestProgress;
import io.trailflink.schema.Sampling;
import io.trailflink.schema.StepCommand;
import io.trailflink.schema.StepResult;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.apache.flink.api.common.ExecutionConfig;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.operators.async.AsyncWaitOperatorFactory;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The async decode UDF inside Flink's AsyncWaitOperator, driving the real engine on a tiny checkpoint. */
class DecodeStepFunctionTest {
  @TempDir Path tmp;

  static StepCommand command(long seq, int engine, List<AdmitSpec> admit, List<String> decode, int steps) {
    return StepCommand.newBuilder().setEngine("engine-" + engine).setEngineIndex(engine).setStepSeq(seq)
        .setIssuedAtMs(System.currentTimeMillis()).setAdmit(admit).setDecode(decode).setDecodeSteps(steps).build();
  }

  static AdmitSpec admit(String id, int[] prompt, int maxNew, int forced, List<Integer> generated) {
    return AdmitSpec.newBuilder().setRequestId(id).setPromptTokenIds(Arrays.stream(prompt).boxed().toList())
        .setGeneratedTokenIds(generated).setMaxNewTokens(maxNew).setForcedOutputTokens(forced)
        .setSampling(Sampling.newBuilder().build()).build();
  }

  @Test
  void commandsRunInOrderAndErrorsBecomeFailedResults() throws Exception {
    Path model = TinyCheckpoints.write(tmp.resolve("m"), TinyCheckpoints.MHA_TIED_F32, 3);
    DecodeStepFunction fn = new DecodeStepFunction(model.toString(), new EngineConfig(32, 16, 1, "cpu"));
    var factory = new AsyncWaitOperatorFactory<>(fn, 60_000, 4, AsyncDataStream.OutputMode.ORDERED);
    var serializer = TypeInformation.of(StepCommand.class).createSerializer(new ExecutionConfig().getSerializerConfig());
    int[] prompt = TinyCheckpoints.randomTokens(new Random(1), 5, 97);
    try (var harness = new OneInputStreamOperatorTestHarness<>(factory, serializer)) {
      harness.open();
      synchronized (harness.getCheckpointLock()) {
        harness.processElement(new StreamRecord<>(command(1, 0, List.of(admit("r1", prompt, 10, 10, List.of())), List.of(), 0), 1));
        harness.processElement(new StreamRecord<>(command(2, 0, List.of(), List.of("r1"), 4), 2));
        // decode steps of 0 is an invalid command: it must come back as a failed result, not fail the job
        harness.processElement(new StreamRecord<>(command(3, 0, List.of(), List.of("r1"), 0), 3));
        // a command for an engine this subtask does not own is refused, not executed
        harness.processElement(new StreamRecord<>(command(4, 1, List.of(), List.of("r1"), 4), 4));
        harness.processElement(new StreamRecord<>(command(5, 0, List.of(), List.of("r1"), 16), 5));
      }
      harness.endInput();
      List<StepResult> out = harness.extractOutputValues();
      assertEquals(List.of(1L, 2L, 3L, 4L, 5L), out.stream().map(StepResult::getStepSeq).toList());
      RequestProgress admitted = out.get(0).getProgress().get(0);
      assertEquals("OK", admitted.getOutcome());
      assertEquals(1, admitted.getNewTokenIds().size());
      assertEquals(admitted.getTapHidden() * 4, admitted.getTapStates().remaining(), "one tap row for the first token");
      assertEquals(4, out.get(1).getProgress().get(0).getNewTokenIds().size());
      assertNotNull(out.get(2).getError(), "invalid command reported as a failed result");
      assertNotNull(out.get(3).getError(), "misrouted command refused");
      assertNull(out.get(4).getError());
      RequestProgress last = out.get(4).getProgress().get(0);
      assertEquals(10, last.getGenerated(), "forced length reached after the failed command");
      assertEquals("length", last.getFinishReason());
      assertEquals(0, out.get(4).getBlocksUsed());
    }
  }

  @Test
  void adoptedRequestContinuesLikeAnUninterruptedOne() throws Exception {
    Path model = TinyCheckpoints.write(tmp.resolve("m"), TinyCheckpoints.MHA_TIED_F32, 3);
    int[] prompt = TinyCheckpoints.randomTokens(new Random(2), 6, 97);
    List<Integer> straight = run(model, List.of(command(1, 0, List.of(admit("a", prompt, 12, 12, List.of())), List.of(), 0),
        command(2, 0, List.of(), List.of("a"), 11)));
    // a fresh engine (as after a restart) adopts the first 5 tokens and recomputes them
    List<Integer> resumed = run(model, List.of(command(1, 0, List.of(admit("a", prompt, 12, 12, straight.subList(0, 5))), List.of(), 0),
        command(2, 0, List.of(), List.of("a"), 11)));
    assertEquals(straight.subList(5, 12), resumed);
  }

  private static List<Integer> run(Path model, List<StepCommand> commands) throws Exception {
    DecodeStepFunction fn = new DecodeStepFunction(model.toString(), new EngineConfig(32, 16, 1, "cpu"));
    var factory = new AsyncWaitOperatorFactory<>(fn, 60_000, 4, AsyncDataStream.OutputMode.ORDERED);
    var serializer = TypeInformation.of(StepCommand.class).createSerializer(new ExecutionConfig().getSerializerConfig());
    try (var harness = new OneInputStreamOperatorTestHarness<>(factory, serializer)) {
      harness.open();
      synchronized (harness.getCheckpointLock()) {
        long ts = 0;
        for (StepCommand c : commands) {
          harness.processElement(new StreamRecord<>(c, ts++));
        }
      }
      harness.endInput();
      return harness.extractOutputValues().stream().flatMap(r -> r.getProgress().stream())
          .flatMap(p -> p.getNewTokenIds().stream()).toList();
    }
  }

  @Test
  void closeIsSafeWhenOpenNeverRan() throws Exception {
    new DecodeStepFunction("/nonexistent", EngineConfig.defaults(8)).close();
  }
}
