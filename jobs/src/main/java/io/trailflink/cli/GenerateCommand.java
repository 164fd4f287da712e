package io.trailflink.cli;

import ai.djl.Device;
import com.google.gson.JsonObject;
import io.trailflink.engine.EngineDevice;
import io.trailflink.engine.FinishReason;
import io.trailflink.engine.GenerationRequest;
import io.trailflink.engine.LlamaEngine;
import io.trailflink.engine.Outcome;
import io.trailflink.engine.SamplingParams;
import io.trailflink.engine.SequenceUpdate;
import io.trailflink.engine.model.Checkpoint;
import io.trailflink.engine.EngineConfig;
import io.trailflink.engine.text.PromptEncoder;
import io.trailflink.engine.text.TextCodec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code trail generate}: answers one prompt with the decode engine. */
@Command(name = "generate", description = "Answer one prompt with the decode engine (bundled model by default).")
final class GenerateCommand implements Callable<Integer> {
  @Option(names = "--prompt", required = true, description = "The instruction to answer.")
  String prompt;

  @Option(names = "--max-new-tokens", defaultValue = "512", description = "Cap on generated tokens (default ${DEFAULT-VALUE}).")
  int maxNewTokens;

  @Option(names = "--model", description = "Hugging Face Llama checkpoint directory (default: the bundled model).")
  Path model;

  @Option(names = "--temperature", defaultValue = "0", description = "0 = greedy (default).")
  double temperature;

  @Option(names = "--top-p", defaultValue = "1", description = "Nucleus mass (default ${DEFAULT-VALUE}).")
  double topP;

  @Option(names = "--seed", defaultValue = "0", description = "Sampling seed (default ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--raw", description = "Feed the prompt as the tokenizer encodes it (its own BOS/EOS), without the model's chat template.")
  boolean raw;

  @Option(names = "--device", defaultValue = "auto", description = "auto, cpu, gpu or gpu:N (default ${DEFAULT-VALUE}).")
  String device;

  @Option(names = "--json", description = "Print one JSON object as the last line.")
  boolean json;

  /** Tokens decoded per engine call. */
  private static final int QUANTUM = 16;

  @Override
  public Integer call() {
    Path dir = model != null ? model : TrailCli.defaultModel();
    Checkpoint ckpt = Checkpoint.load(dir);
    if (maxNewTokens < 1) {
      throw new IllegalArgumentException("--max-new-tokens must be >= 1, got " + maxNewTokens);
    }
    try (PromptEncoder encoder = PromptEncoder.forCheckpoint(ckpt.dir())) {
      TextCodec codec = encoder.codec();
      int[] promptTokens = encoder.prompt(prompt, raw);
      int blockSize = EngineConfig.DEFAULT_BLOCK_SIZE;
      int blocks = (Math.min(promptTokens.length + maxNewTokens, ckpt.config().maxPositions()) + blockSize) / blockSize + 1;
      Device dev = EngineDevice.choose(device, -1);
      try (LlamaEngine engine = new LlamaEngine(ckpt, new EngineConfig(blocks, blockSize, -1, device), dev)) {
        GenerationRequest req = new GenerationRequest("cli", promptTokens, maxNewTokens, 0,
            new SamplingParams(temperature, topP, seed));
        List<Integer> tokens = new ArrayList<>();
        long start = System.nanoTime();
        SequenceUpdate u = engine.admit(List.of(req)).get(0);
        long firstToken = System.nanoTime();
        String printed = "";
        while (true) {
          if (u.outcome() != Outcome.OK) {
            throw new IllegalArgumentException(u.message());
          }
          for (int t : u.tokens()) {
            tokens.add(t);
          }
          if (!json) {
            String text = codec.decode(tokens.stream().mapToInt(Integer::intValue).toArray());
            if (text.startsWith(printed)) {
              System.out.print(text.substring(printed.length()));
              System.out.flush();
              printed = text;
            }
          }
          if (u.finished()) {
            break;
          }
          u = engine.decode(List.of("cli"), QUANTUM).get(0);
        }
        long end = System.nanoTime();
        int[] ids = tokens.stream().mapToInt(Integer::intValue).toArray();
        String text = codec.decode(ids);
        FinishReason finish = u.finish();
        double msPerToken = tokens.size() > 1 ? (end - firstToken) / 1e6 / (tokens.size() - 1) : 0;
        if (!json) {
          System.out.println();
          System.err.printf("[%d prompt tokens, %d output tokens, finish %s, TTFT %.1f ms, %.2f ms/token, %s]%n",
              promptTokens.length, tokens.size(), finish, (firstToken - start) / 1e6, msPerToken, dev);
        } else {
          JsonObject o = new JsonObject();
          o.addProperty("text", text);
          o.addProperty("prompt_tokens", promptTokens.length);
          o.addProperty("output_tokens", tokens.size());
          o.addProperty("finish_reason", finish.name().toLowerCase(java.util.Locale.ROOT));
          o.addProperty("ttft_ms", (firstToken - start) / 1e6);
          o.addProperty("ms_per_token", msPerToken);
          o.addProperty("device", dev.toString());
          System.out.println(o);
        }
      }
    }
    return 0;
  }
}
