package io.trailflink.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.trailflink.engine.model.Checkpoint;
import io.trailflink.engine.text.PromptEncoder;
import io.trailflink.engine.text.TextCodec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Stop strings on the bundled model: generation ends with the token that completes one, the finish reason is
 * {@code stop}, and the streamed text ends before it — in every split into deltas.
 */
class StopStringsTest {
  static final Path MODEL = Path.of("../models/trail-tiny");

  /** Greedy answer tokens, each update's tokens in order, until the request finishes. */
  static List<SequenceUpdate> run(LlamaEngine e, GenerationRequest r) {
    List<SequenceUpdate> out = new ArrayList<>();
    SequenceUpdate u = e.admit(List.of(r)).get(0);
    out.add(u);
    while (!u.finished()) {
      u = e.decode(List.of(r.id()), 3).get(0);
      out.add(u);
    }
    return out;
  }

  @Test
  void generationEndsWithTheTokenThatCompletesAStopStringAndTheTextStopsBeforeIt() {
    Checkpoint ckpt = Checkpoint.load(MODEL);
    try (PromptEncoder enc = PromptEncoder.forCheckpoint(MODEL);
        LlamaEngine e = new LlamaEngine(ckpt, new EngineConfig(64, 16, -1, "cpu"), Device.cpu())) {
      TextCodec codec = enc.codec();
      int[] prompt = enc.prompt("Count from 1 to 9.", false);
      List<Integer> free = new ArrayList<>();
      run(e, new GenerationRequest("free", prompt, 40, 0, SamplingParams.GREEDY)).forEach(u -> {
        for (int t : u.tokens()) {
          free.add(t);
        }
      });
      String text = codec.decode(free.stream().mapToInt(Integer::intValue).toArray());
      String stop = "5";
      int at = text.indexOf(stop);
      assertTrue(at > 0, "the free answer contains the stop string: " + text);

      List<SequenceUpdate> stopped = run(e, new GenerationRequest("s", prompt, 40, 0, SamplingParams.GREEDY,
          List.of(stop, "never-in-the-answer")));
      SequenceUpdate last = stopped.get(stopped.size() - 1);
      assertEquals(FinishReason.STOP_STRING, last.finish());
      assertEquals("stop", last.finish().wireName());
      // the first prefix of the free answer whose text contains the stop string has exactly the stopped length
      int n = 1;
      while (!codec.decode(free.subList(0, n).stream().mapToInt(Integer::intValue).toArray()).contains(stop)) {
        n++;
      }
      assertEquals(n, last.generated(), "tokens generated up to the one completing the stop string");

      TextStream stream = new TextStream(new int[0], codec, List.of(stop));
      StringBuilder streamed = new StringBuilder();
      for (SequenceUpdate u : stopped) {
        streamed.append(stream.append(u.tokens(), u.finished()));
      }
      assertEquals(text.substring(0, at), streamed.toString());
    }
  }

  @Test
  void aStreamRebuiltFromHistoryStillEmitsWhatTheOldOneHeldBack() {
    // regression (review): after an eviction or engine restart the new stream counted held-back text as emitted
    try (PromptEncoder enc = PromptEncoder.forCheckpoint(MODEL)) {
      TextCodec codec = enc.codec();
      int[] ab = codec.encode("ab");
      int[] cd = codec.encode("cd");
      List<String> stop = List.of("bX");
      TextStream first = new TextStream(new int[0], codec, stop);
      String before = first.append(ab, false); // "b" may start "bX": held back
      assertEquals("a", before);
      TextStream rebuilt = new TextStream(ab, codec, stop);
      assertEquals("bcd", rebuilt.append(cd, true), "the held-back b comes out once the next tokens tell");
    }
  }

  @Test
  void aStreamHoldsBackWhatMayStillBecomeAStopString() {
    assertEquals(2, StopStrings.pendingSuffix("abc##", List.of("###")));
    assertEquals(0, StopStrings.pendingSuffix("abc##x", List.of("###")));
    assertEquals(2, StopStrings.firstMatch("abc###", List.of("###", "c#")), "the earliest match wins");
  }
}
