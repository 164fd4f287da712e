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
import io.trailflink.engine.TextStream;
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

  @Option(names = "--temperature", description = "0 = greedy (default: the model's generation_config.json, greedy unless it sets do_sample).")
  Double temperature;

  @Option(names = "--top-p", description = "Nucleus mass (default: generation_config.json, else 1).")
  Double topP;

  @Option(names = "--top-k", description = "Sample among the k most likely tokens; 0 = all (default: generation_config.json, else 50 when sampling).")
  Integer topK;

  @Option(names = "--repetition-penalty", description = "Hugging Face's repetition penalty, greedy too; 1 = off (default: generation_config.json, else 1).")
  Double repetitionPenalty;

  @Option(names = "--stop", description = "A stop string: the answer ends before it (repeat the flag for several).")
  List<String> stop = new ArrayList<>();

  @Option(names = "--seed", defaultValue = "0", description = "Sampling seed (default ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--raw", description = "Feed the prompt as the tokenizer encodes it (its own BOS/EOS), without the model's chat template.")
  boolean raw;

  @Option(names = "--device", defaultValue = "auto", description = "auto, cpu, gpu or gpu:N (default ${DEFAULT-VALUE}).")
  String device;

  @Option(names = "--dtype", defaultValue = "auto", description = "auto (the checkpoint's own width; bf16 becomes f16), f16 or f32 (default ${DEFAULT-VALUE}).")
  String dtype;

  @Option(names = "--json", description = "Print one JSON object as the last line.")
  boolean json;

  /** The model's generation_config.json sampling, with what the flags set instead. */
  private SamplingParams sampling(Checkpoint ckpt) {
    SamplingParams base = ckpt.generation().sampling(seed);
    boolean sample = temperature != null ? temperature > 0 : !base.greedy();
    double t = temperature != null ? temperature : base.greedy() ? 0 : base.temperature();
    double p = topP != null ? topP : sample && !base.greedy() ? base.topP() : 1;
    int k = topK != null ? topK : sample ? (base.greedy() ? 50 : base.topK()) : 0;
    return new SamplingParams(t, p, seed, k, repetitionPenalty != null ? repetitionPenalty : base.repetitionPenalty());
  }

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
      try (LlamaEngine engine = new LlamaEngine(ckpt, new EngineConfig(blocks, blockSize, -1, device, dtype), dev)) {
        GenerationRequest req = new GenerationRequest("cli", promptTokens, maxNewTokens, 0, sampling(ckpt), stop);
        TextStream stream = new TextStream(new int[0], codec, stop);
        StringBuilder answer = new StringBuilder();
        List<Integer> tokens = new ArrayList<>();
        long start = System.nanoTime();
        SequenceUpdate u = engine.admit(List.of(req)).get(0);
        long firstToken = System.nanoTime();
        while (true) {
          if (u.outcome() != Outcome.OK) {
            throw new IllegalArgumentException(u.message());
          }
          for (int t : u.tokens()) {
            tokens.add(t);
          }
          String delta = stream.append(u.tokens(), u.finished());
          answer.append(delta);
          if (!json) {
            System.out.print(delta);
            System.out.flush();
          }
          if (u.finished()) {
            break;
          }
          u = engine.decode(List.of("cli"), QUANTUM).get(0);
        }
        long end = System.nanoTime();
        String text = answer.toString();
        FinishReason finish = u.finish();
        double msPerToken = tokens.size() > 1 ? (end - firstToken) / 1e6 / (tokens.size() - 1) : 0;
        if (!json) {
          System.out.println();
          System.err.printf("[%d prompt tokens, %d output tokens, finish %s, TTFT %.1f ms, %.2f ms/token, %s]%n",
              promptTokens.length, tokens.size(), finish.wireName(), (firstToken - start) / 1e6, msPerToken, dev);
        } else {
          JsonObject o = new JsonObject();
          o.addProperty("text", text);
          o.addProperty("prompt_tokens", promptTokens.length);
          o.addProperty("output_tokens", tokens.size());
          o.addProperty("finish_reason", finish.wireName());
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
