package io.trailflink.engine.flink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trailflink.engine.EngineCommand;
import io.trailflink.engine.EngineConfig;
import io.trailflink.engine.EngineResult;
import io.trailflink.engine.GenerationRequest;
import io.trailflink.engine.Outcome;
import io.trailflink.engine.SamplingParams;
import io.trailflink.engine.SequenceUpdate;
import io.trailflink.engine.TinyCheckpoints;
import java.nio.file.Path;
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

  @Test
  void commandsRunInOrderAndErrorsBecomeFailedResults() throws Exception {
    Path model = TinyCheckpoints.write(tmp.resolve("m"), TinyCheckpoints.MHA_TIED_F32, 3);
    DecodeStepFunction fn = new DecodeStepFunction(model.toString(), new EngineConfig(32, 16, 1, "cpu"));
    var factory = new AsyncWaitOperatorFactory<>(fn, 60_000, 4, AsyncDataStream.OutputMode.ORDERED);
    var serializer = TypeInformation.of(EngineCommand.class)
        .createSerializer(new ExecutionConfig().getSerializerConfig());
    int[] prompt = TinyCheckpoints.randomTokens(new Random(1), 5, 97);
    GenerationRequest req = new GenerationRequest("r1", prompt, 10, 10, SamplingParams.GREEDY);
    try (var harness = new OneInputStreamOperatorTestHarness<>(factory, serializer)) {
      harness.open();
      synchronized (harness.getCheckpointLock()) {
        harness.processElement(new StreamRecord<>(EngineCommand.admitAndDecode("engine-0", 1, List.of(req), List.of(), 0), 1));
        harness.processElement(new StreamRecord<>(EngineCommand.admitAndDecode("engine-0", 2, List.of(), List.of("r1"), 4), 2));
        // decode steps of 0 is an invalid command: it must come back as a failed result, not fail the job
        harness.processElement(new StreamRecord<>(EngineCommand.admitAndDecode("engine-0", 3, List.of(), List.of("r1"), 0), 3));
        harness.processElement(new StreamRecord<>(EngineCommand.admitAndDecode("engine-0", 4, List.of(), List.of("r1"), 16), 4));
      }
      harness.endInput();
      List<EngineResult> out = harness.extractOutputValues();
      assertEquals(List.of(1L, 2L, 3L, 4L), out.stream().map(EngineResult::sequence).toList());
      SequenceUpdate admitted = out.get(0).updates().get(0);
      assertEquals(Outcome.OK, admitted.outcome());
      assertEquals(1, admitted.tokens().length);
      assertEquals(4, out.get(1).updates().get(0).tokens().length);
      assertTrue(out.get(2).failed(), "invalid command reported as a failed result");
      assertNull(out.get(3).error());
      SequenceUpdate last = out.get(3).updates().get(0);
      assertEquals(10, last.generated(), "forced length reached after the failed command");
      assertTrue(last.finished());
      assertEquals(0, out.get(3).blocksUsed());
    }
  }

  @Test
  void closeIsSafeWhenOpenNeverRan() throws Exception {
    new DecodeStepFunction("/nonexistent", EngineConfig.defaults(8)).close();
  }
}
