package io.trailflink.flink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trailflink.schema.EngineFeedback;
import io.trailflink.schema.InferenceRequest;
import io.trailflink.schema.RequestProgress;
import io.trailflink.schema.StepCommand;
import io.trailflink.serving.EngineLoop;
import io.trailflink.serving.RawRecord;
import io.trailflink.serving.ServingConfig;
import io.trailflink.serving.ValidatedRequest;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.Test;

/** The thin Flink wrappers in their operator test harnesses: outputs, side outputs, and state left empty. */
class FlinkFunctionsTest {
  static final ServingConfig CONFIG = new ServingConfig("trail", 1, 4, 64, 16, 4, 64, 1024, 60_000);

  static byte[] avro(InferenceRequest r) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
    new SpecificDatumWriter<>(InferenceRequest.class).write(r, enc);
    enc.flush();
    return out.toByteArray();
  }

  @Test
  void validatorSendsGoodRequestsOnAndBadOnesToTheDeadLetters() throws Exception {
    var fn = new ValidateRequestFunction(CONFIG, "../models/trail-tiny/tokenizer.json", false);
    try (var h = ProcessFunctionTestHarnesses.forProcessFunction(fn)) {
      byte[] good = avro(InferenceRequest.newBuilder().setId("a").setPrompt("List 3 fruits.").setMaxNewTokens(8)
          .setSubmittedAtMs(1).build());
      byte[] empty = avro(InferenceRequest.newBuilder().setId("b").setPrompt(" ").setMaxNewTokens(8)
          .setSubmittedAtMs(1).build());
      h.processElement(new RawRecord("t", 0, 0, good), 0);
      h.processElement(new RawRecord("t", 0, 1, empty), 0);
      h.processElement(new RawRecord("t", 0, 2, new byte[] {9, 9}), 0);
      assertEquals(List.of("a"), h.extractOutputValues().stream().map(ValidatedRequest::id).toList());
      var dead = new ArrayList<>(h.getSideOutput(DeadLetters.TAG));
      assertEquals(2, dead.size());
      assertEquals("empty prompt", dead.get(0).getValue().getReason());
      assertEquals(2, dead.get(1).getValue().getSourceOffset());
    }
  }

  @Test
  void schedulerIssuesCommandsEmitsOneFinalResponseAndLeavesNoRequestState() throws Exception {
    SchedulerFunction fn = new SchedulerFunction(CONFIG);
    try (var h = ProcessFunctionTestHarnesses.forKeyedBroadcastProcessFunction(fn, ValidatedRequest::engineIndex,
        Types.INT, SchedulerFunction.LAST_STEP)) {
      h.processElement(new ValidatedRequest("a", "", new int[] {1, 2}, 8, 0, 0f, 1f, 0, 0, 0, null), 0);
      h.processElement(new ValidatedRequest("a", "", new int[] {1, 2}, 8, 0, 0f, 1f, 0, 0, 0,
          new RawRecord("t", 0, 7, new byte[] {1})), 0);
      List<StepCommand> commands = h.extractOutputValues();
      assertEquals(1, commands.size(), "one command in flight");
      assertEquals("a", commands.get(0).getAdmit().get(0).getRequestId());
      assertEquals("duplicate id while the first is in flight",
          h.getSideOutput(DeadLetters.TAG).peek().getValue().getReason());

      RequestProgress done = RequestProgress.newBuilder().setRequestId("a").setOutcome("OK")
          .setNewTokenIds(List.of(5, 6, 7)).setTextDelta("xyz").setGenerated(3).setFinishReason("eos")
          .setBlocksHeld(0).build();
      EngineFeedback fb = EngineFeedback.newBuilder().setEngine("engine-0").setEngineIncarnation("i1")
          .setStepSeq(commands.get(0).getStepSeq()).setIssuedAtMs(0).setFinishedAtMs(10).setPublishedAtMs(11)
          .setBusyMs(10).setBlocksUsed(0).setBlockCapacity(64).setProgress(List.of(done)).setPredictions(List.of())
          .build();
      h.processBroadcastElement(fb, 0);
      h.processBroadcastElement(fb, 0); // the at-least-once loop may repeat it
      var finals = new ArrayList<>(h.getSideOutput(SchedulerFunction.FINAL));
      assertEquals(1, finals.size());
      assertEquals("xyz", finals.get(0).getValue().getText());
      assertEquals(3, finals.get(0).getValue().getOutputTokens());

      h.getOperator().setCurrentKey(0);
      EngineLoop loop = fn.getRuntimeContext().getState(fn.loopStateDescriptor()).value();
      assertTrue(loop.idle() && loop.liveRequests() == 0 && loop.kvBlocksUsed() == 0, "no request state left");
    }
  }
}
