package io.trailflink.flink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trailflink.schema.EngineFeedback;
import io.trailflink.schema.InferenceRequest;
import io.trailflink.schema.RequestProgress;
import io.trailflink.schema.Sampling;
import io.trailflink.schema.StepCommand;
import io.trailflink.schema.StepResult;
import io.trailflink.predictor.LengthMlp;
import io.trailflink.predictor.TrailPredictor;
import io.trailflink.serving.EngineId;
import io.trailflink.serving.EngineLoop;
import io.trailflink.serving.RawRecord;
import io.trailflink.serving.ServingConfig;
import io.trailflink.serving.ValidatedRequest;
import io.trailflink.serving.records.RecordLimits;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
    var fn = new ValidateRequestFunction(CONFIG, RecordLimits.DEFAULT, "../models/trail-tiny", false);
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
  void aRequestBeyondMaxWaitingIsAnsweredRejectedNotDeadLettered() throws Exception {
    ServingConfig bounded = new ServingConfig("trail", 1, 4, 64, 16, 4, 64, 1024, 60_000, 0, 1, 1);
    SchedulerFunction fn = new SchedulerFunction(bounded);
    try (var h = ProcessFunctionTestHarnesses.forKeyedCoProcessFunction(fn, ValidatedRequest::engineIndex,
        (EngineFeedback f) -> EngineId.keyOf(f.getEngine()), Types.INT)) {
      for (String id : List.of("a", "b", "c")) { // a is admitted, b waits, c finds the queue full
        h.processElement1(new ValidatedRequest(id, "", new int[] {1, 2}, 8, 0, Sampling.newBuilder().build(),
            List.of(), 0, 0, null), 0);
      }
      var responses = List.copyOf(h.getSideOutput(SchedulerFunction.RESPONSES));
      assertEquals(1, responses.size(), responses.toString());
      var f = responses.get(0).getValue();
      assertEquals("c", f.getRequestId());
      assertEquals("rejected", f.getFinishReason());
      assertEquals(null, h.getSideOutput(DeadLetters.TAG), "shed requests are answered, not dead-lettered");
    }
  }

  @Test
  void placementSpreadsRequestsByTheEnginesStatusesAndKeepsItsBoardAcrossASnapshot() throws Exception {
    ServingConfig two = new ServingConfig("trail", 2, 4, 64, 16, 4, 64, 1024, 60_000, 0, 1, 0, "model", true, 1000,
        false, "least-requests", null, 0);
    PlaceRequestFunction fn = new PlaceRequestFunction(two);
    org.apache.flink.runtime.checkpoint.OperatorSubtaskState snapshot;
    try (var h = ProcessFunctionTestHarnesses.forKeyedCoProcessFunction(fn, r -> PlaceRequestFunction.KEY,
        s -> PlaceRequestFunction.KEY, Types.INT)) {
      // engine-0 reports 5 requests: the next three go to engine-1
      h.processElement2(io.trailflink.schema.EngineStatus.newBuilder().setEngine("engine-0").setPolicy("trail")
          .setAt(java.time.Instant.EPOCH).setStepSeq(1).setRunning(4).setWaiting(1).setPreempted(0)
          .setKvBlocksUsed(40).setKvBlocksCapacity(64).setNewTokens(4).setBusyMs(1).build(), 0);
      for (String id : List.of("a", "b", "c")) {
        h.processElement1(new ValidatedRequest(id, "", new int[] {1}, 8, 0, Sampling.newBuilder().build(), List.of(),
            0, 0, null), 0);
      }
      List<ValidatedRequest> placed = h.extractOutputValues();
      assertEquals(List.of(1, 1, 1), placed.stream().map(ValidatedRequest::engineIndex).toList());
      assertEquals(List.of(1L, 2L, 3L), placed.stream().map(ValidatedRequest::placementSeq).toList());
      snapshot = h.snapshot(1, 1);
    }
    var restored = new org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness<Integer,
        ValidatedRequest, io.trailflink.schema.EngineStatus, ValidatedRequest>(
        new org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator<>(new PlaceRequestFunction(two)),
        r -> PlaceRequestFunction.KEY, s -> PlaceRequestFunction.KEY, Types.INT);
    try (restored) {
      restored.setup();
      restored.initializeState(snapshot);
      restored.open();
      restored.processElement1(new ValidatedRequest("c", "", new int[] {1}, 8, 0, Sampling.newBuilder().build(),
          List.of(), 0, 0, null), 0);
      assertEquals(1, restored.extractOutputValues().get(0).engineIndex(), "the repeated id goes where c went");
      assertEquals(4L, restored.extractOutputValues().get(0).placementSeq(), "numbering goes on after a restore");
    }
  }

  @Test
  void schedulerIssuesCommandsEmitsOneFinalResponseAndLeavesNoRequestState() throws Exception {
    SchedulerFunction fn = new SchedulerFunction(CONFIG);
    try (var h = ProcessFunctionTestHarnesses.forKeyedCoProcessFunction(fn, ValidatedRequest::engineIndex,
        (EngineFeedback f) -> EngineId.keyOf(f.getEngine()), Types.INT)) {
      h.processElement1(new ValidatedRequest("a", "", new int[] {1, 2}, 8, 0, Sampling.newBuilder().build(), List.of(), 0, 0, null), 0);
      h.processElement1(new ValidatedRequest("a", "", new int[] {1, 2}, 8, 0, Sampling.newBuilder().build(), List.of(), 0, 0,
          new RawRecord("t", 0, 7, new byte[] {1})), 0);
      List<StepCommand> commands = h.extractOutputValues();
      assertEquals(1, commands.size(), "one command in flight");
      assertEquals("a", commands.get(0).getAdmit().get(0).getRequestId());
      assertEquals("duplicate id while the first is in flight",
          h.getSideOutput(DeadLetters.TAG).peek().getValue().getReason());

      RequestProgress done = RequestProgress.newBuilder().setRequestId("a").setOutcome("OK")
          .setNewTokenIds(List.of(5, 6, 7)).setTextDelta("xyz").setGenerated(3).setFinishReason("stop")
          .setBlocksHeld(0).build();
      EngineFeedback fb = EngineFeedback.newBuilder().setEngine("engine-0").setEngineIncarnation("i1")
          .setStepSeq(commands.get(0).getStepSeq()).setIssuedAtMs(0).setFinishedAtMs(10).setPublishedAtMs(11)
          .setBusyMs(10).setBlocksUsed(0).setBlockCapacity(64).setProgress(List.of(done)).setPredictions(List.of())
          .build();
      h.processElement2(fb, 0);
      h.processElement2(fb, 0); // the at-least-once loop may repeat it
      var finals = h.getSideOutput(SchedulerFunction.RESPONSES).stream().map(e -> e.getValue()).toList();
      assertEquals(1, finals.size());
      assertEquals("xyz", finals.get(0).getText());
      assertEquals(3, finals.get(0).getOutputTokens());
      assertEquals(1, h.getSideOutput(SchedulerFunction.CHUNKS).size(), "one chunk: the repeated feedback adds none");
      var status = List.copyOf(h.getSideOutput(SchedulerFunction.STATUS));
      assertEquals(1, status.size(), "one status per applied feedback");
      assertEquals(0, status.get(0).getValue().getRunning());
      assertEquals(3, status.get(0).getValue().getNewTokens());
      var etas = h.getSideOutput(SchedulerFunction.ETAS).stream().map(e -> e.getValue()).toList();
      assertEquals(1, etas.size(), "one ETA: at acceptance (the duplicate is refused)");
      assertEquals("accepted", etas.get(0).getCause());
      assertEquals(1, etas.get(0).getQueuePosition(), "accepted into the queue, first in line");
      assertEquals(null, etas.get(0).getPredictedFinishAt(), "no step time measured yet");

      h.getOperator().setCurrentKey(0);
      EngineLoop loop = fn.getRuntimeContext().getState(fn.loopStateDescriptor()).value().liveLoop();
      assertTrue(loop.idle() && loop.liveRequests() == 0 && loop.kvBlocksUsed() == 0, "no request state left");
    }
  }

  @Test
  void predictorPublishesInitialAndRefreshedPredictionsAndClearsStateOnFinish(@TempDir Path dir) throws Exception {
    int hidden = 8;
    float[] zero = new float[hidden];
    float[] one = new float[hidden];
    java.util.Arrays.fill(one, 1f);
    TrailPredictor predictor = new TrailPredictor(new TrailPredictor.Spec(2, hidden, 16, 10, 512, 1, "t", "trail-mlp-l2"),
        LengthMlp.initialise(hidden, 16, 10, zero, one, 3));
    predictor.save(dir, null);
    FeedbackFunction fn = new FeedbackFunction(dir.toString(), hidden, 0, true);
    try (var h = ProcessFunctionTestHarnesses.forKeyedProcessFunction(fn, StepResult::getEngine, Types.STRING)) {
      float[] mean = new float[hidden];
      float[] s1 = new float[hidden];
      for (int i = 0; i < hidden; i++) {
        mean[i] = i;
        s1[i] = -i;
      }
      h.processElement(step(1, progress("a", 2, null, List.of(0, 1), mean, s1)), 0);
      EngineFeedback fb = h.extractOutputValues().get(0);
      assertEquals(0, fb.getProgress().get(0).getTapStates().remaining(), "hidden states are not published");
      var updates = fb.getPredictions();
      assertEquals(2, updates.size());
      assertEquals(0, updates.get(0).getGenerated());
      assertEquals(predictor.initial(mean).estimate(0, 512), updates.get(0).getPredictedRemaining(), 1e-6);
      assertEquals(2, updates.get(1).getGenerated());
      assertEquals(10, updates.get(1).getBinProbabilities().size());
      assertEquals("trail-mlp-l2", updates.get(1).getPredictorVersion());
      assertEquals(512, updates.get(1).getBinsCapTokens(), "the bins' range, for --capped-ranking");
      h.processElement(step(2, progress("a", 3, "stop", List.of(2), s1)), 0);
      assertEquals(0, h.extractOutputValues().get(1).getPredictions().size(), "no prediction for a finished request");
      assertEquals(0, h.numKeyedStateEntries(), "predictor state cleared on finish");
    }
  }

  static StepResult step(long seq, RequestProgress p) {
    return StepResult.newBuilder().setEngine("engine-0").setEngineIncarnation("i").setStepSeq(seq).setIssuedAtMs(0)
        .setStartedAtMs(0).setFinishedAtMs(1).setBusyMs(1).setBlocksUsed(1).setBlockCapacity(64)
        .setProgress(List.of(p)).build();
  }

  static RequestProgress progress(String id, int generated, String finish, List<Integer> tapGenerated, float[]... rows) {
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(rows.length * rows[0].length * 4)
        .order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (float[] r : rows) {
      for (float v : r) {
        b.putFloat(v);
      }
    }
    b.flip();
    return RequestProgress.newBuilder().setRequestId(id).setOutcome("OK").setNewTokenIds(List.of(5))
        .setTextDelta("x").setGenerated(generated).setFinishReason(finish).setBlocksHeld(1)
        .setTapHidden(rows[0].length).setTapStates(b).setTapGenerated(tapGenerated).build();
  }
}
