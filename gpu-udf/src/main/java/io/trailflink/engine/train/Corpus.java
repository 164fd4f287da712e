package io.trailflink.engine.train;

import com.google.gson.Gson;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.ToIntFunction;

/**
 * The bundled model's training corpus: real pairs plus generated tasks, split by prompt into train and held-out.
 *
 * <p>Real pairs: the Alpaca samples (all train) and the AlpacaEval outputs of ten models, where whole instructions
 * (with every model's answer) are held out — an instruction is never on both sides. Generated tasks: train and
 * held-out prompts come from disjoint sides of {@link SyntheticTasks#heldOut(String)}, distinct prompts only in
 * held-out.
 */
public final class Corpus {
  public static final int HELD_OUT_REAL_INSTRUCTIONS = 300;

  private Corpus() {}

  /** Train and held-out examples. */
  public record Split(List<Example> train, List<Example> heldOut) {}

  public static Split build(Path dataDir, int syntheticTrain, int syntheticHeldOut, long seed) throws IOException {
    List<Example> train = new ArrayList<>();
    List<Example> held = new ArrayList<>();
    Path alpaca = dataDir.resolve("alpaca");
    for (String f : List.of("alpaca_data_1k.json", "alpaca_data_first335.json")) {
      Path p = alpaca.resolve(f);
      if (Files.isRegularFile(p)) {
        train.addAll(RealPairs.read(p));
      }
    }
    Map<String, List<Example>> byInstruction = new LinkedHashMap<>();
    Path evalDir = dataDir.resolve("alpaca_eval");
    if (Files.isDirectory(evalDir)) {
      try (var files = Files.list(evalDir)) {
        for (Path p : files.filter(x -> x.toString().endsWith(".json")).sorted().toList()) {
          for (Example e : RealPairs.read(p)) {
            byInstruction.computeIfAbsent(e.prompt(), k -> new ArrayList<>()).add(e);
          }
        }
      }
    }
    List<String> instructions = new ArrayList<>(byInstruction.keySet());
    Collections.shuffle(instructions, new Random(seed));
    for (int i = 0; i < instructions.size(); i++) {
      (i < HELD_OUT_REAL_INSTRUCTIONS ? held : train).addAll(byInstruction.get(instructions.get(i)));
    }
    Set<String> heldPrompts = new HashSet<>();
    held.forEach(e -> heldPrompts.add(e.prompt()));
    train.removeIf(e -> heldPrompts.contains(e.prompt())); // an Alpaca sample may repeat an AlpacaEval prompt
    train.addAll(new SyntheticTasks(seed).generate(syntheticTrain, false));
    // held-out generated prompts: from the held-out side of the prompt space, half exact and half distribution-only
    SyntheticTasks heldGen = new SyntheticTasks(seed + 1_000_003L);
    int exact = 0;
    int distribution = 0;
    Set<String> heldSynth = new HashSet<>();
    for (int attempt = 0; attempt < 200 * syntheticHeldOut
        && (exact < syntheticHeldOut / 2 || distribution < syntheticHeldOut / 2); attempt++) {
      Example e = heldGen.generate(1, true).get(0);
      boolean room = e.exact() ? exact < syntheticHeldOut / 2 : distribution < syntheticHeldOut / 2;
      if (room && heldSynth.add(e.prompt())) {
        held.add(e);
        if (e.exact()) {
          exact++;
        } else {
          distribution++;
        }
      }
    }
    Collections.shuffle(train, new Random(seed + 1));
    return new Split(train, held);
  }

  /**
   * The training list with every real pair {@code k} times (k ≥ 1; k > 1 reshuffles with {@code seed}): more weight on the
   * real instructions, whose answers the model learns to end last.
   */
  public static List<Example> weightReal(List<Example> train, int k, long seed) {
    if (k < 1) {
      throw new IllegalArgumentException("real-pair weight must be >= 1, got " + k);
    }
    if (k == 1) {
      return train;
    }
    List<Example> out = new ArrayList<>(train);
    for (int i = 1; i < k; i++) {
      train.stream().filter(e -> e.family().equals("real")).forEach(out::add);
    }
    Collections.shuffle(out, new Random(seed));
    return out;
  }

  /**
   * The training list without the real pairs whose answer is over {@code maxAnswerTokens} (as counted by
   * {@code tokens}); generated tasks stay. Teaches the model that real answers end well inside the serving budget.
   */
  public static List<Example> capRealAnswers(List<Example> train, ToIntFunction<String> tokens, int maxAnswerTokens) {
    if (maxAnswerTokens < 1) {
      throw new IllegalArgumentException("real answer cap must be >= 1 token, got " + maxAnswerTokens);
    }
    return train.stream()
        .filter(e -> !e.family().equals("real") || tokens.applyAsInt(e.answer()) <= maxAnswerTokens)
        .toList();
  }

  public static void writeJsonl(Path file, List<Example> examples) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    Gson gson = new Gson();
    try (BufferedWriter w = Files.newBufferedWriter(file)) {
      for (Example e : examples) {
        w.write(gson.toJson(e));
        w.newLine();
      }
    }
  }

  public static List<Example> readJsonl(Path file) throws IOException {
    Gson gson = new Gson();
    List<Example> out = new ArrayList<>();
    int line = 0;
    for (String s : Files.readAllLines(file)) {
      line++;
      if (s.isBlank()) {
        continue;
      }
      try {
        out.add(gson.fromJson(s, Example.class));
      } catch (RuntimeException ex) {
        throw new IOException(file + ":" + line + ": not an example (" + ex.getMessage() + ")", ex);
      }
    }
    return out;
  }
}
