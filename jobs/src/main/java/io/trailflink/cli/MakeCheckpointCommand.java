package io.trailflink.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.trailflink.engine.model.Architecture;
import io.trailflink.engine.model.DType;
import io.trailflink.engine.model.LlamaConfig;
import io.trailflink.engine.model.LlamaWeights;
import io.trailflink.engine.model.RopeScaling;
import io.trailflink.engine.model.StreamingCheckpointWriter;
import io.trailflink.engine.text.ByteLevelBpeTrainer;
import io.trailflink.engine.text.TokenizerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code trail make-checkpoint}: a randomly initialised checkpoint with the exact shape of a published model
 * (config, safetensors shards, a small byte-level tokenizer, the family's chat template and generation config), so
 * that loading, memory and speed of a real-size model can be measured where the real weights cannot be downloaded.
 * Its text is noise; its shapes, dtypes and files are those of the model it is like.
 */
@Command(name = "make-checkpoint", description = "Write a random checkpoint shaped like a published model.")
final class MakeCheckpointCommand implements Callable<Integer> {
  @Option(names = "--like", required = true, description = "llama-3.2-1b, llama-3-8b, qwen2.5-0.5b or mistral-7b.")
  String like;

  @Option(names = "--random", required = true, description = "Random weights (the only kind this command writes; say so).")
  boolean random;

  @Option(names = "--dtype", defaultValue = "bf16", description = "bf16 or f32 (default ${DEFAULT-VALUE}).")
  String dtype;

  @Option(names = "--out", required = true, description = "Output directory (must be empty or absent).")
  Path out;

  @Option(names = "--layers", defaultValue = "0", description = "Fewer decoder layers than the model has (0 = all).")
  int layers;

  @Option(names = "--seed", defaultValue = "1", description = "Random seed (default ${DEFAULT-VALUE}).")
  long seed;

  /** Chat templates as the families publish them in tokenizer_config.json. */
  static final String LLAMA3_TEMPLATE = "{% set loop_messages = messages %}{% for message in loop_messages %}"
      + "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim"
      + " + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}"
      + "{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}"
      + "{% endif %}";
  static final String CHATML_TEMPLATE = "{% for message in messages %}{% if loop.first and messages[0]['role'] != "
      + "'system' %}{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
      + "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
      + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
  static final String MISTRAL_TEMPLATE = "{{ bos_token }}{% for message in messages %}{% if (message['role'] == "
      + "'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate "
      + "user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + "
      + "message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + "
      + "eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}"
      + "{% endfor %}";

  /** A published model's shape and text conventions. */
  record Shape(LlamaConfig config, List<String> specials, String bos, List<String> eos, String template,
      String tokenizerClass) {}

  static Shape shape(String like) {
    List<String> llama3 = List.of("<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>",
        "<|end_header_id|>", "<|eot_id|>");
    return switch (like.toLowerCase(Locale.ROOT)) {
      case "llama-3.2-1b" -> new Shape(new LlamaConfig(128256, 2048, 8192, 16, 32, 8, 64, 1e-5, 500000.0,
          new RopeScaling(32.0, 1.0, 4.0, 8192), 131072, true, 0, List.of(1, 4), Architecture.LLAMA),
          llama3, "<|begin_of_text|>", List.of("<|end_of_text|>", "<|eot_id|>"), LLAMA3_TEMPLATE,
          "PreTrainedTokenizerFast");
      case "llama-3-8b" -> new Shape(new LlamaConfig(128256, 4096, 14336, 32, 32, 8, 128, 1e-5, 500000.0, null,
          8192, false, 0, List.of(1, 4), Architecture.LLAMA),
          llama3, "<|begin_of_text|>", List.of("<|end_of_text|>", "<|eot_id|>"), LLAMA3_TEMPLATE,
          "PreTrainedTokenizerFast");
      case "qwen2.5-0.5b" -> new Shape(new LlamaConfig(151936, 896, 4864, 24, 14, 2, 64, 1e-6, 1000000.0, null,
          32768, true, -1, List.of(0, 1), Architecture.QWEN2),
          List.of("<|endoftext|>", "<|im_end|>", "<|im_start|>"), null, List.of("<|endoftext|>", "<|im_end|>"),
          CHATML_TEMPLATE, "Qwen2TokenizerFast");
      case "mistral-7b" -> new Shape(new LlamaConfig(32000, 4096, 14336, 32, 32, 8, 128, 1e-5, 1000000.0, null,
          32768, false, 1, List.of(2), Architecture.MISTRAL),
          List.of("<unk>", "<s>", "</s>"), "<s>", List.of("</s>"), MISTRAL_TEMPLATE, "LlamaTokenizerFast");
      default -> throw new TrailCli.UsageException("--like: unknown model '" + like
          + "' (llama-3.2-1b, llama-3-8b, qwen2.5-0.5b, mistral-7b)");
    };
  }

  @Override
  public Integer call() throws Exception {
    DType type = switch (dtype.toLowerCase(Locale.ROOT)) {
      case "bf16" -> DType.BF16;
      case "f32" -> DType.F32;
      default -> throw new TrailCli.UsageException("--dtype must be bf16 or f32, got '" + dtype + "'");
    };
    if (Files.exists(out) && (!Files.isDirectory(out) || Files.list(out).findAny().isPresent())) {
      throw new TrailCli.UsageException("--out " + out + " exists and is not an empty directory");
    }
    Shape s = shape(like);
    LlamaConfig c = s.config();
    if (layers > 0) {
      c = new LlamaConfig(c.vocabSize(), c.hiddenSize(), c.intermediateSize(), Math.min(layers, c.numLayers()),
          c.numHeads(), c.numKvHeads(), c.headDim(), c.rmsNormEps(), c.ropeTheta(), c.ropeScaling(),
          c.maxPositions(), c.tieWordEmbeddings(), c.bosTokenId(), c.eosTokenIds(), c.architecture());
    }
    Files.createDirectories(out);
    JsonObject config = c.toJson();
    config.addProperty("torch_dtype", type == DType.BF16 ? "bfloat16" : "float32");
    Files.writeString(out.resolve("config.json"), pretty(config));

    Map<String, long[]> shapes = LlamaWeights.expectedShapes(c);
    long params = shapes.values().stream().mapToLong(MakeCheckpointCommand::count).sum();
    long t0 = System.nanoTime();
    long[] written = {0};
    ProgressLine line = new ProgressLine();
    double bound = 0.02 * Math.sqrt(3); // uniform with standard deviation 0.02, as Hugging Face initialises
    long bytes = StreamingCheckpointWriter.write(out, shapes, type, 5_000_000_000L, (name, shape, chunk, n, at) -> {
      boolean norm = name.endsWith("norm.weight");
      boolean bias = name.endsWith(".bias");
      SplittableRandom rnd = new SplittableRandom(seed * 1_000_003 + name.hashCode() * 31L + at);
      for (int i = 0; i < n; i++) {
        chunk[i] = norm ? 1f : bias ? 0f : (float) ((rnd.nextDouble() * 2 - 1) * bound);
      }
      written[0] += n;
      if (written[0] % (64L << 20) < n) {
        line.show(String.format(java.util.Locale.ROOT, "writing %s: %.0f %% of %,d parameters", out,
            100.0 * written[0] / params, params));
      }
    });
    line.end();

    Path tokenizer = out.resolve("tokenizer.json");
    new ByteLevelBpeTrainer(512, s.specials()).train(List.of(
        "A random checkpoint: its shapes are those of a published model, its text is noise.",
        "List 3 fruits. Count from 1 to 9. Name the planets."), tokenizer);
    JsonObject tk = new JsonObject();
    tk.addProperty("tokenizer_class", s.tokenizerClass());
    if (s.bos() != null) {
      tk.addProperty("bos_token", s.bos());
    }
    tk.addProperty("eos_token", s.eos().get(s.eos().size() - 1));
    tk.addProperty("model_max_length", c.maxPositions());
    tk.addProperty("chat_template", s.template());
    Files.writeString(out.resolve(TokenizerConfig.FILE), pretty(tk));
    JsonObject gen = new JsonObject();
    if (c.bosTokenId() >= 0) {
      gen.addProperty("bos_token_id", c.bosTokenId());
    }
    JsonArray eos = new JsonArray();
    c.eosTokenIds().forEach(eos::add);
    gen.add("eos_token_id", eos);
    Files.writeString(out.resolve("generation_config.json"), pretty(gen));
    Files.writeString(out.resolve("README.md"), "# Random checkpoint shaped like " + like + "\n\nWritten by `./trail "
        + "make-checkpoint --like " + like + " --random --dtype " + dtype + "` (seed " + seed + "): "
        + String.format("%,d", params) + " parameters, " + c.numLayers() + " layers, weights uniform with standard "
        + "deviation 0.02, norms 1. For measuring loading, memory and speed: its text is noise. The tokenizer is a "
        + "small byte-level BPE with the family's special tokens, not the model's own.\n");
    System.err.printf("%s: %,d parameters, %.2f GB of %s weights in %.0f s%n", out, params, bytes / 1e9,
        type.name().toLowerCase(Locale.ROOT), (System.nanoTime() - t0) / 1e9);
    return 0;
  }

  private static long count(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }

  private static String pretty(JsonObject o) {
    return new GsonBuilder().setPrettyPrinting().create().toJson(o) + "\n";
  }
}
