package io.trailflink.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trailflink.engine.model.Checkpoint;
import io.trailflink.engine.model.CheckpointException;
import io.trailflink.engine.model.DType;
import io.trailflink.engine.model.SafeTensors;
import io.trailflink.engine.model.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoints the engine must refuse, each with the file or field named; and the formats it must read. */
class CheckpointLoadingTest {
  @TempDir Path tmp;

  private Path good(String name) throws Exception {
    return TinyCheckpoints.write(tmp.resolve(name), TinyCheckpoints.MHA_TIED_F32, 1);
  }

  private String refusal(Path dir) {
    return assertThrows(CheckpointException.class, () -> Checkpoint.load(dir)).getMessage();
  }

  @Test
  void missingConfigIsNamed() throws Exception {
    Path d = good("a");
    Files.delete(d.resolve("config.json"));
    assertTrue(refusal(d).contains("config.json"), refusal(d));
  }

  @Test
  void missingWeightsAndMissingShardAreNamed() throws Exception {
    Path d = good("b");
    Files.delete(d.resolve("model.safetensors"));
    assertTrue(refusal(d).contains("model.safetensors"), refusal(d));
    Path s = TinyCheckpoints.write(tmp.resolve("s"), TinyCheckpoints.GQA_LLAMA3_BF16_SHARDED, 1);
    Files.delete(s.resolve("model-00002-of-00003.safetensors"));
    assertTrue(refusal(s).contains("model-00002-of-00003.safetensors"), refusal(s));
  }

  @Test
  void corruptOrTruncatedWeightsAreRefused() throws Exception {
    Path d = good("c");
    byte[] bytes = Files.readAllBytes(d.resolve("model.safetensors"));
    Files.write(d.resolve("model.safetensors"), java.util.Arrays.copyOf(bytes, bytes.length / 2));
    assertTrue(refusal(d).contains("truncated"), refusal(d));
    Files.write(d.resolve("model.safetensors"), new byte[] {1, 2, 3});
    assertTrue(refusal(d).contains("model.safetensors"), refusal(d));
  }

  @Test
  void unsupportedArchitectureAndWrongShapesAreRefusedByField() throws Exception {
    Path d = good("d");
    String cfg = Files.readString(d.resolve("config.json"));
    Files.writeString(d.resolve("config.json"), cfg.replace("\"model_type\":\"llama\"", "\"model_type\":\"gpt2\""));
    assertTrue(refusal(d).contains("model_type"), refusal(d));
    Files.writeString(d.resolve("config.json"), cfg.replace("\"hidden_act\":\"silu\"", "\"hidden_act\":\"gelu\""));
    assertTrue(refusal(d).contains("hidden_act"), refusal(d));
    Files.writeString(d.resolve("config.json"), cfg.replace("\"num_key_value_heads\":4", "\"num_key_value_heads\":3"));
    assertTrue(refusal(d).contains("num_key_value_heads"), refusal(d));
    Files.writeString(d.resolve("config.json"), cfg.replace("\"intermediate_size\":48", "\"intermediate_size\":40"));
    assertTrue(refusal(d).contains("mlp.gate_proj.weight"), refusal(d));
  }

  @Test
  void mistralAndQwen2AreReadAsTheirFamiliesAndAnythingElseIsRefusedWithTheSupportedList() throws Exception {
    Path q = TinyCheckpoints.write(tmp.resolve("q"), TinyCheckpoints.QWEN2_BIAS_TIED_F32, 1);
    assertEquals(io.trailflink.engine.model.Architecture.QWEN2, Checkpoint.load(q).config().architecture());
    String cfg = Files.readString(q.resolve("config.json"));
    // a Qwen2 checkpoint needs its q/k/v biases: read as a Llama it would silently drop them, so both must agree
    Files.writeString(q.resolve("config.json"), cfg.replace("\"model_type\":\"qwen2\"", "\"model_type\":\"llama\""));
    assertTrue(refusal(q).contains("architectures 'Qwen2ForCausalLM' is not supported"), refusal(q));
    Files.writeString(q.resolve("config.json"), cfg.replace("\"model_type\":\"qwen2\"", "\"model_type\":\"gpt_neox\""));
    assertEquals(q.resolve("config.json") + ": model_type 'gpt_neox' is not supported (supported: llama"
        + " (LlamaForCausalLM), mistral (MistralForCausalLM), qwen2 (Qwen2ForCausalLM))", refusal(q));
    Path m = TinyCheckpoints.write(tmp.resolve("m"), TinyCheckpoints.MISTRAL_GQA_BF16, 1);
    String mcfg = Files.readString(m.resolve("config.json"));
    Files.writeString(m.resolve("config.json"), mcfg.replace("\"model_type\":\"mistral\"",
        "\"model_type\":\"mistral\",\"sliding_window\":100"));
    assertEquals(100, Checkpoint.load(m).config().maxPositions(), "context capped at the sliding window");
    Path noBias = TinyCheckpoints.write(tmp.resolve("nb"), TinyCheckpoints.MHA_TIED_F32, 1);
    Files.writeString(noBias.resolve("config.json"), Files.readString(noBias.resolve("config.json"))
        .replace("LlamaForCausalLM", "Qwen2ForCausalLM").replace("\"model_type\":\"llama\"", "\"model_type\":\"qwen2\""));
    assertTrue(refusal(noBias).contains("missing tensor 'model.layers.0.self_attn.q_proj.bias'"), refusal(noBias));
  }

  @Test
  void readsF16AndBf16Exactly() throws Exception {
    // values exactly representable in both half formats
    float[] values = {0f, 1f, -2.5f, 0.15625f, 65504f, -0.0009765625f};
    Path f = tmp.resolve("t.safetensors");
    Map<String, Tensor> m = new LinkedHashMap<>();
    m.put("w", new Tensor(values, new long[] {2, 3}));
    SafeTensors.writeFile(f, m, DType.BF16);
    float[] back = SafeTensors.readFile(f).get("w").data();
    assertEquals(1f, back[1]);
    assertEquals(-2.5f, back[2]);
    // hand-written F16 file: 1.0 = 0x3C00, -2.0 = 0xC000, smallest subnormal 0x0001 = 2^-24
    String header = "{\"w\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,6]}}";
    java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(8 + header.length() + 6)
        .order(java.nio.ByteOrder.LITTLE_ENDIAN);
    buf.putLong(header.length()).put(header.getBytes()).putShort((short) 0x3C00).putShort((short) 0xC000)
        .putShort((short) 0x0001);
    Files.write(f, buf.array());
    float[] half = SafeTensors.readFile(f).get("w").data();
    assertEquals(1f, half[0]);
    assertEquals(-2f, half[1]);
    assertEquals((float) Math.pow(2, -24), half[2]);
  }
}
