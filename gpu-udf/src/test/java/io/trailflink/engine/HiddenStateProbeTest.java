package io.trailflink.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.Device;
import io.trailflink.engine.model.Checkpoint;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The probe's teacher-forced states are the states an engine tapping that layer reports while it decodes. */
class HiddenStateProbeTest {
  @TempDir Path tmp;

  @Test
  void teacherForcedStatesEqualTheEnginesTapStatesAtEveryLayer() throws Exception {
    Checkpoint ckpt = Checkpoint.load(TinyCheckpoints.write(tmp.resolve("m"), TinyCheckpoints.GQA_LLAMA3_BF16_SHARDED, 7));
    int hidden = ckpt.config().hiddenSize();
    int[] prompt = TinyCheckpoints.randomTokens(new Random(3), 9, ckpt.config().vocabSize());
    GenerationRequest r = new GenerationRequest("r", prompt, 12, 12, SamplingParams.GREEDY);
    try (HiddenStateProbe probe = new HiddenStateProbe(ckpt, Device.cpu())) {
      for (int layer = 0; layer <= ckpt.config().numLayers(); layer++) {
        List<Integer> generated = new ArrayList<>();
        List<float[]> taps = new ArrayList<>();
        List<Integer> tapGenerated = new ArrayList<>();
        float[] promptMean;
        try (LlamaEngine e = new LlamaEngine(ckpt, new EngineConfig(16, 4, layer, "cpu"), Device.cpu())) {
          SequenceUpdate u = e.admit(List.of(r)).get(0);
          promptMean = u.promptMean();
          assertEquals(0, u.tapGenerated()[0]);
          org.junit.jupiter.api.Assertions.assertArrayEquals(promptMean, u.tapStates()[0], "admit's tap row");
          generated.add(u.tokens()[0]);
          while (!u.finished()) {
            u = e.decode(List.of("r"), 5).get(0);
            for (int i = 0; i < u.tokens().length; i++) {
              generated.add(u.tokens()[i]);
              taps.add(u.tapStates()[i]);
              tapGenerated.add(u.tapGenerated()[i]);
            }
          }
        }
        int[] seq = new int[prompt.length + generated.size()];
        System.arraycopy(prompt, 0, seq, 0, prompt.length);
        for (int i = 0; i < generated.size(); i++) {
          seq[prompt.length + i] = generated.get(i);
        }
        float[] states = probe.states(seq)[layer];
        for (int i = 0; i < hidden; i++) {
          double mean = 0;
          for (int p = 0; p < prompt.length; p++) {
            mean += states[p * hidden + i];
          }
          assertEquals(mean / prompt.length, promptMean[i], 1e-4, "prompt mean, layer " + layer);
        }
        for (int j = 0; j < taps.size(); j++) {
          // the state computed with g tokens generated sits at the position of generated token g-1
          int pos = prompt.length + tapGenerated.get(j) - 1;
          for (int i = 0; i < hidden; i++) {
            assertEquals(states[pos * hidden + i], taps.get(j)[i], 1e-4, "layer " + layer + " row " + j);
          }
        }
      }
      assertThrows(IllegalArgumentException.class, () -> probe.states(new int[0]));
    }
  }
}
