package io.trailflink.engine.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trailflink.engine.SamplingParams;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** generation_config.json as transformers' GenerationConfig reads it: EOS lists, sampling defaults, bad values. */
class GenerationDefaultsTest {
  @TempDir Path tmp;

  static LlamaConfig config() {
    return LlamaConfig.load(Path.of("../models/trail-tiny"));
  }

  @Test
  void aLlama3InstructStyleConfigSamplesWithItsOwnDefaultsAndStopsOnEveryEosId() throws Exception {
    Files.writeString(tmp.resolve(GenerationDefaults.FILE), "{\"bos_token_id\": 128000, \"do_sample\": true,"
        + " \"eos_token_id\": [128001, 128008, 128009], \"temperature\": 0.6, \"top_p\": 0.9}");
    GenerationDefaults g = GenerationDefaults.load(tmp, config());
    assertEquals(List.of(128001, 128008, 128009), g.eosTokenIds());
    assertEquals(new SamplingParams(0.6, 0.9, 7, 50, 1.0), g.sampling(7), "top_k 50: GenerationConfig's default");
  }

  @Test
  void withoutDoSampleDecodingIsGreedyButTheRepetitionPenaltyStays() throws Exception {
    Files.writeString(tmp.resolve(GenerationDefaults.FILE), "{\"eos_token_id\": 2, \"temperature\": 0.7,"
        + " \"repetition_penalty\": 1.1}");
    SamplingParams s = GenerationDefaults.load(tmp, config()).sampling(0);
    assertTrue(s.greedy());
    assertEquals(1.1, s.repetitionPenalty(), 1e-9);
    assertEquals(config().eosTokenIds(), GenerationDefaults.load(tmp.resolve("none"), config()).eosTokenIds(),
        "no file: config.json's EOS, greedy");
  }

  @Test
  void anOutOfRangeValueIsRefusedNamingTheFile() throws Exception {
    Path file = tmp.resolve(GenerationDefaults.FILE);
    Files.writeString(file, "{\"do_sample\": true, \"top_p\": 1.5}");
    String why = assertThrows(CheckpointException.class, () -> GenerationDefaults.load(tmp, config())).getMessage();
    assertEquals(file + ": unusable (top_p must be in (0, 1], got 1.5)", why);
  }
}
