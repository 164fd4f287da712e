package io.trailflink.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.trailflink.engine.djl.DjlForward;
import io.trailflink.engine.djl.SequenceChunk;
import io.trailflink.engine.model.Checkpoint;
import io.trailflink.engine.model.ComputeType;
import io.trailflink.engine.reference.ReferenceLlama;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The DJL engine against the plain-Java reference on tiny random checkpoints of every supported family and shape. */
class EngineVsReferenceTest {
  @TempDir Path tmp;

  static List<Arguments> specs() {
    return List.of(
        Arguments.of("gqa-llama3rope-bf16-sharded-untied", TinyCheckpoints.GQA_LLAMA3_BF16_SHARDED),
        Arguments.of("mha-default-rope-f32-tied", TinyCheckpoints.MHA_TIED_F32),
        Arguments.of("qwen2-qkv-bias-f32-tied", TinyCheckpoints.QWEN2_BIAS_TIED_F32),
        Arguments.of("mistral-gqa-bf16-sharded", TinyCheckpoints.MISTRAL_GQA_BF16));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("specs")
  void logitsAndTapMatchReferenceThroughPrefillAndDecodeInF32(String name, TinyCheckpoints.Spec spec) throws Exception {
    Checkpoint ckpt = Checkpoint.load(TinyCheckpoints.write(tmp.resolve(name), spec, 7));
    compareWithReference(ckpt, ComputeType.F32, 1e-4);
  }

  @org.junit.jupiter.api.Test
  void aBf16CheckpointAtItsOwnSizeComputesInF16CloseToTheReference() throws Exception {
    Checkpoint ckpt = Checkpoint.load(TinyCheckpoints.write(tmp.resolve("bf16"), TinyCheckpoints.GQA_LLAMA3_BF16_SHARDED, 7));
    assertEquals(ComputeType.F16, ComputeType.parse("auto", ckpt.weights()), "auto keeps 16-bit weights at 16 bits");
    assertEquals(ComputeType.F32, ComputeType.parse("auto", Checkpoint.load(
        TinyCheckpoints.write(tmp.resolve("f32"), TinyCheckpoints.MHA_TIED_F32, 7)).weights()));
    // half precision (11-bit mantissa) through 3 layers: within 1 % of the float32 reference's largest logit
    compareWithReference(ckpt, ComputeType.F16, 1e-2);
    int[] prompt = TinyCheckpoints.randomTokens(new Random(2), 9, ckpt.config().vocabSize());
    try (LlamaEngine engine = new LlamaEngine(ckpt, new EngineConfig(16, 16, 1, "cpu", "f16"), Device.cpu())) {
      assertEquals(ComputeType.F16, engine.computeType());
      int[] got = runToEnd(engine, new GenerationRequest("r", prompt, 16, 16, SamplingParams.GREEDY), 8);
      assertArrayEquals(referenceGreedy(ckpt, prompt, 16), got, "greedy tokens in f16 equal the reference's");
    }
  }

  private static void compareWithReference(Checkpoint ckpt, ComputeType type, double tol) {
    ReferenceLlama ref = new ReferenceLlama(ckpt.weights());
    int tap = 1;
    int[] prompt = TinyCheckpoints.randomTokens(new Random(1), 11, ckpt.config().vocabSize());
    int[] slots = new int[64];
    for (int i = 0; i < slots.length; i++) {
      slots[i] = 63 - i; // scrambled slots: positions must not depend on slot order
    }
    try (DjlForward fwd = new DjlForward(ckpt.weights(), Device.cpu(), 4, 16, tap, type)) {
      ReferenceLlama.Sequence seq = ref.newSequence();
      ReferenceLlama.Output refOut = null;
      float[] refMean = new float[ckpt.config().hiddenSize()];
      for (int t : prompt) {
        refOut = ref.forward(seq, t);
        for (int i = 0; i < refMean.length; i++) {
          refMean[i] += refOut.hidden()[tap][i] / prompt.length;
        }
      }
      DjlForward.Result r = fwd.step(List.of(new SequenceChunk(0, prompt, slots)), false, true);
      assertClose(refOut.logits(), r.logits(), tol, "prefill logits");
      assertClose(refOut.hidden()[tap], r.tapLast()[0], tol, "prefill tap (last)");
      assertClose(refMean, r.tapMean()[0], tol, "prefill tap (mean)");
      int next = Sampler.argmax(refOut.logits(), 0, refOut.logits().length);
      for (int step = 0; step < 20; step++) {
        refOut = ref.forward(seq, next);
        r = fwd.step(List.of(new SequenceChunk(prompt.length + step, new int[] {next}, slots)), false, false);
        assertClose(refOut.logits(), r.logits(), tol, "decode logits at step " + step);
        assertClose(refOut.hidden()[tap], r.tapLast()[0], tol, "decode tap at step " + step);
        next = Sampler.argmax(refOut.logits(), 0, refOut.logits().length);
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("specs")
  void greedyTokensMatchReferenceFor64Steps(String name, TinyCheckpoints.Spec spec) throws Exception {
    Checkpoint ckpt = Checkpoint.load(TinyCheckpoints.write(tmp.resolve(name), spec, 11));
    int[] prompt = TinyCheckpoints.randomTokens(new Random(2), 9, ckpt.config().vocabSize());
    int[] expected = referenceGreedy(ckpt, prompt, 64);
    try (LlamaEngine engine = new LlamaEngine(ckpt, new EngineConfig(16, 16, 1, "cpu", "f32"), Device.cpu())) {
      int[] got = runToEnd(engine, new GenerationRequest("r", prompt, 64, 64, SamplingParams.GREEDY), 8);
      assertArrayEquals(expected, got);
      assertEquals(0, engine.blocksUsed(), "a finished request frees its blocks");
    }
  }

  static int[] referenceGreedy(Checkpoint ckpt, int[] prompt, int n) {
    ReferenceLlama ref = new ReferenceLlama(ckpt.weights());
    ReferenceLlama.Sequence seq = ref.newSequence();
    ReferenceLlama.Output out = null;
    for (int t : prompt) {
      out = ref.forward(seq, t);
    }
    int[] tokens = new int[n];
    for (int i = 0; i < n; i++) {
      tokens[i] = Sampler.argmax(out.logits(), 0, out.logits().length);
      if (i + 1 < n) {
        out = ref.forward(seq, tokens[i]);
      }
    }
    return tokens;
  }

  /** Admits one request and decodes it in quanta of {@code quantum} steps until it finishes. */
  static int[] runToEnd(LlamaEngine engine, GenerationRequest req, int quantum) {
    List<Integer> tokens = new ArrayList<>();
    SequenceUpdate u = engine.admit(List.of(req)).get(0);
    assertEquals(Outcome.OK, u.outcome(), u.message());
    for (int t : u.tokens()) {
      tokens.add(t);
    }
    while (!u.finished()) {
      u = engine.decode(List.of(req.id()), quantum).get(0);
      assertEquals(Outcome.OK, u.outcome(), u.message());
      for (int t : u.tokens()) {
        tokens.add(t);
      }
    }
    return tokens.stream().mapToInt(Integer::intValue).toArray();
  }

  static void assertClose(float[] expected, float[] actual, double relTol, String what) {
    assertEquals(expected.length, actual.length, what + ": length");
    double maxAbs = 0;
    double maxErr = 0;
    for (int i = 0; i < expected.length; i++) {
      maxAbs = Math.max(maxAbs, Math.abs(expected[i]));
      maxErr = Math.max(maxErr, Math.abs(expected[i] - actual[i]));
    }
    assertTrue(maxErr <= relTol * maxAbs,
        what + ": max error " + maxErr + " exceeds " + relTol + " × max |value| " + maxAbs);
  }
}
