package io.trailflink.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.trailflink.engine.model.LlamaConfig;
import io.trailflink.engine.text.ByteLevelBpeTrainer;
import io.trailflink.engine.train.ModelTrainer;
import io.trailflink.engine.train.PromptTemplate;
import io.trailflink.engine.train.WeightInit;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The launcher's commands as a user meets them: JSON contracts and one-line errors with exit code 2. */
class TrailCliTest {
  @TempDir static Path tmp;
  static Path model;

  @BeforeAll
  static void tinyModel() throws Exception {
    Path tok = tmp.resolve("tokenizer.json");
    new ByteLevelBpeTrainer(300, PromptTemplate.SPECIAL_TOKENS)
        .train(List.of("Name three fruits.", "apple, banana, cherry", "Count to five."), tok);
    LlamaConfig c = new LlamaConfig(300, 32, 64, 2, 4, 2, 8, 1e-5, 10000.0, null, 128, true, 1, List.of(2));
    model = tmp.resolve("model");
    ModelTrainer.export(model, c, WeightInit.gpt2Style(c, 1), tok);
  }

  /** Runs the CLI, capturing stdout and stderr. */
  private record Run(int code, String out, String err) {}

  private static Run run(String... args) {
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      int code = TrailCli.execute(args);
      return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  @Test
  void generateJsonEndsWithOneObjectHonouringMaxNewTokens() {
    Run r = run("generate", "--model", model.toString(), "--prompt", "Name three fruits.", "--max-new-tokens", "7",
        "--json", "--device", "cpu");
    assertEquals(0, r.code(), r.err());
    String[] lines = r.out().strip().split("\n");
    JsonObject o = JsonParser.parseString(lines[lines.length - 1]).getAsJsonObject();
    int n = o.get("output_tokens").getAsInt();
    String finish = o.get("finish_reason").getAsString();
    assertTrue(n == 7 && finish.equals("length") || n < 7 && finish.equals("stop"), o.toString());
    assertTrue(o.has("text") && o.has("ms_per_token"), o.toString());
  }

  @Test
  void everyCommandAnswersHelp() {
    for (String command : new String[] {"demo", "serve", "simulate", "train-model", "eval-predictor"}) {
      Run help = run(command, "--help");
      assertEquals(0, help.code(), command);
      assertTrue(help.out().contains("Usage: trail " + command), command + ": " + help.out());
    }
  }

  @Test
  void badFlagsAndFilesGetOneLineAndExitCode2() {
    Run unknown = run("generate", "--prompt", "x", "--bogus");
    assertEquals(2, unknown.code());
    assertTrue(unknown.err().contains("--bogus"), unknown.err());
    Run missingModel = run("generate", "--prompt", "x", "--model", tmp.resolve("nope").toString());
    assertEquals(2, missingModel.code());
    assertTrue(missingModel.err().strip().lines().count() == 1 && missingModel.err().contains("nope"),
        missingModel.err());
    Run badTokens = run("generate", "--prompt", "x", "--model", model.toString(), "--max-new-tokens", "0");
    assertEquals(2, badTokens.code());
    assertTrue(badTokens.err().contains("--max-new-tokens"), badTokens.err());
    Run sweepOutsideBench = run("serve", "--model", model.toString(), "--decode-steps", "2,8");
    assertEquals(2, sweepOutsideBench.code());
    assertTrue(sweepOutsideBench.err().strip().lines().count() == 1
        && sweepOutsideBench.err().contains("--decode-steps"), sweepOutsideBench.err());
    Run notANumber = run("bench-engine", "--steps", "many");
    assertEquals(2, notANumber.code());
    assertTrue(notANumber.err().contains("--steps"), notANumber.err());
    Run noJob = run("savepoint", "--web-ui", "http://127.0.0.1:1", "--dir", tmp.resolve("sp").toString());
    assertEquals(2, noJob.code());
    assertTrue(noJob.err().strip().lines().count() == 1 && noJob.err().contains("no Flink REST API at"), noJob.err());
    Run noSavepoint = run("serve", "--model", model.toString(), "--from-savepoint", tmp.resolve("no-such-savepoint").toString());
    assertEquals(2, noSavepoint.code());
    assertTrue(noSavepoint.err().contains("--from-savepoint") && noSavepoint.err().strip().lines().count() == 1,
        noSavepoint.err());
  }

  @Test
  void trainPromptPriorNamesTheBadFileAndLineInOneLine() throws Exception {
    Path bad = tmp.resolve("rows.jsonl");
    java.nio.file.Files.writeString(bad, "{\"prompt\": \"hi\", \"output_tokens\": 3}\n{\"prompt\": \"x\", "
        + "\"output_tokens\": \"many\"}\n");
    Path out = tmp.resolve("prior-out"); // the prior takes its bins from the predictor beside it
    java.nio.file.Files.createDirectories(out);
    java.nio.file.Files.writeString(out.resolve("predictor.json"), "{\"layer\": 1, \"hidden\": 32, \"units\": 8, "
        + "\"bins\": 10, \"cap\": 512, \"refreshEvery\": 1, \"model\": \"tiny\", \"version\": \"t\"}");
    String[][] cases = {
        {"--data", tmp.resolve("none.jsonl").toString()},
        {"--data", bad.toString(), "--model", model.toString(), "--out", out.toString()},
        {"--data", bad.toString(), "--epochs", "0"},
        {"--data", bad.toString(), "--buckets", "1000"},
        {"--data", bad.toString(), "--eval", tmp.resolve("unseen.jsonl").toString()},
    };
    String[] expect = {"none.jsonl", "rows.jsonl:2", "--epochs", "--buckets", "unseen.jsonl"};
    for (int i = 0; i < cases.length; i++) {
      String[] args = new String[cases[i].length + 1];
      args[0] = "train-prompt-prior";
      System.arraycopy(cases[i], 0, args, 1, cases[i].length);
      Run r = run(args);
      assertEquals(2, r.code(), String.join(" ", args) + ": " + r.err());
      assertTrue(r.err().strip().lines().count() == 1 && r.err().contains(expect[i]), r.err());
    }
  }

  @Test
  void benchRefusesBadSettingsWithOneLineBeforeAnythingStarts() throws Exception {
    Path w = tmp.resolve("bench.jsonl");
    java.nio.file.Files.writeString(w, "{\"prompt\": \"hello\", \"out_tokens\": 20}\n{\"prompt\": \"hi\"}\n");
    Path bad = tmp.resolve("bad.jsonl");
    java.nio.file.Files.writeString(bad, "{\"prompt\": \"hello\"}\nnot json\n");
    String[][] cases = {
        {"--workload", w.toString(), "--policies", "fcfs,lifo", "--load", "1.2"},
        {"--workload", w.toString(), "--load", "0"},
        {"--workload", w.toString(), "--load", "1", "--rate", "2"},
        {"--workload", tmp.resolve("nope.jsonl").toString(), "--rate", "2"},
        {"--workload", bad.toString(), "--rate", "2"},
        {"--workload", w.toString(), "--rate", "2", "--forced-lengths"},
        {"--workload", w.toString(), "--rate", "2", "--predictions", "noisy:46.1,33.9"},
        {"--workload", w.toString(), "--rate", "2", "--fit", "wild"},
        {"--workload", w.toString(), "--rate", "2", "--placement", "random"},
        {"--workload", w.toString(), "--rate", "2", "--fairness", "tenant", "--tenant-weights", "gold:-1"},
        {"--workload", w.toString(), "--rate", "2", "--tenant-weights", "gold:2"},
        {"--workload", w.toString(), "--rate", "2", "--engines", "0"},
        {"--workload", w.toString(), "--rate", "2", "--max-restart-delay-ms", "5"},
        {"--workload", w.toString(), "--rate", "2", "--decode-steps", "8,0"},
        {"--workload", w.toString(), "--rate", "2", "--refresh-every", "1,-1"},
        {"--workload", w.toString(), "--rate", "2", "--predictions", "oracle", "--refresh-every", "1,8"},
    };
    String[] named = {"lifo", "--load", "--load", "nope.jsonl", "bad.jsonl:2", "out_tokens", "--forced-lengths", "--fit",
        "--placement", "--tenant-weights", "--fairness tenant", "--engines", "--max-restart-delay-ms",
        "--decode-steps", "--refresh-every", "--refresh-every"};
    for (int i = 0; i < cases.length; i++) {
      String[] args = new String[cases[i].length + 1];
      args[0] = "bench";
      System.arraycopy(cases[i], 0, args, 1, cases[i].length);
      Run r = run(args);
      assertEquals(2, r.code(), String.join(" ", args) + ": " + r.err());
      assertEquals(1, r.err().strip().lines().count(), String.join(" ", args) + ": " + r.err());
      assertTrue(r.err().contains(named[i]), named[i] + " in: " + r.err());
    }
  }

  @Test
  void simulateRefusesImpossibleParametersWithOneLine() throws Exception {
    Path w = tmp.resolve("w.jsonl");
    java.nio.file.Files.writeString(w, "{\"prompt\": \"hello\", \"out_tokens\": 20}\n");
    String[][] cases = {
        {"--policies", "fcfs,lifo", "--rate", "5"},
        {"--c", "-0.5", "--rate", "5"},
        {"--rate", "0"},
        {"--rate", "5", "--kv-blocks", "3"},
        {"--rate", "5", "--burst"},
        {"--rate", "5", "--engines", "0"},
        {"--rate", "5", "--placement", "hash,random"},
        {"--rate", "5", "--fairness", "maybe"},
        {"--rate", "5", "--fairness", "tenant", "--tenant-weights", "gold:0"},
        {"--rate", "5", "--tenants", "a:1,b:2", "--without-tenant", "c"},
        {"--rate", "5", "--starvation-bound", "-1"},
        {"--rate", "5", "--rebalance", "0,-2"},
    };
    String[] expect = {"lifo", "--c", "rate", "--kv-blocks", "exactly one", "--engines", "random", "--fairness",
        "--tenant-weights", "--without-tenant", "--starvation-bound", "--rebalance"};
    for (int i = 0; i < cases.length; i++) {
      String[] args = new String[cases[i].length + 3];
      args[0] = "simulate";
      args[1] = "--workload";
      args[2] = w.toString();
      System.arraycopy(cases[i], 0, args, 3, cases[i].length);
      Run r = run(args);
      assertEquals(2, r.code(), String.join(" ", args) + ": " + r.err());
      assertEquals(1, r.err().strip().lines().count(), r.err());
      assertTrue(r.err().contains(expect[i]), r.err());
    }
    Run ok = run("simulate", "--workload", w.toString(), "--rate", "5", "--json");
    assertEquals(0, ok.code(), ok.err());
    String[] lines = ok.out().strip().split("\n");
    JsonObject o = JsonParser.parseString(lines[lines.length - 1]).getAsJsonObject();
    assertTrue(o.getAsJsonObject("policies").getAsJsonObject("fcfs").has("mean_latency_ms"), o.toString());
  }

  @Test
  void evalModelDumpsEveryAnswerOfTheAskedKindsAndRefusesAnUnknownKind() throws Exception {
    Path held = tmp.resolve("held.jsonl");
    java.nio.file.Files.writeString(held, String.join("\n",
        "{\"prompt\":\"Name three fruits.\",\"answer\":\"apple, banana, cherry\",\"family\":\"real\","
            + "\"exact\":false,\"intendedUnits\":-1}",
        "{\"prompt\":\"Name three fruits.\",\"answer\":\"pear, plum, fig\",\"family\":\"real\","
            + "\"exact\":false,\"intendedUnits\":-1}",
        "{\"prompt\":\"Count to five.\",\"answer\":\"1, 2, 3, 4, 5\",\"family\":\"real\",\"exact\":false,"
            + "\"intendedUnits\":-1}",
        "{\"prompt\":\"Count down from 3.\",\"answer\":\"3, 2, 1.\",\"family\":\"count\",\"exact\":true,"
            + "\"intendedUnits\":3}") + "\n");
    Path dump = tmp.resolve("answers.jsonl");
    Run r = run("eval-model", "--model", model.toString(), "--heldout", held.toString(), "--kinds", "real",
        "--max-new-tokens", "6", "--batch", "2", "--device", "cpu", "--dump", dump.toString(), "--json");
    assertEquals(0, r.code(), r.err());
    JsonObject report = last(r.out());
    assertEquals(java.util.Set.of("real"), report.keySet(), "only the asked kind");
    assertEquals(2, report.getAsJsonObject("real").get("prompts").getAsInt(), "one entry per distinct prompt");
    List<String> lines = java.nio.file.Files.readAllLines(dump);
    assertEquals(2, lines.size());
    for (String line : lines) {
      JsonObject a = JsonParser.parseString(line).getAsJsonObject();
      assertEquals("real", a.get("kind").getAsString());
      int n = a.get("output_tokens").getAsInt();
      String finish = a.get("finish_reason").getAsString();
      assertTrue(n == 6 && finish.equals("length") || n < 6 && finish.equals("stop"), line);
    }
    Run bad = run("eval-model", "--model", model.toString(), "--heldout", held.toString(), "--kinds", "reel");
    assertEquals(2, bad.code());
    assertTrue(bad.err().strip().lines().count() == 1 && bad.err().contains("reel"), bad.err());
  }

  @Test
  void spearmanHandlesTiesAndOrder() {
    assertEquals(1.0, Stats.spearman(new double[] {1, 2, 3, 4}, new double[] {10, 20, 30, 400}), 1e-12);
    assertEquals(-1.0, Stats.spearman(new double[] {1, 2, 3}, new double[] {3, 2, 1}), 1e-12);
    assertEquals(2.5, Stats.ranks(new double[] {5, 1, 5, 9})[0], 1e-12);
    assertEquals(15.0, Stats.percentile(new double[] {10, 20}, 50), 1e-12);
  }

  @Test
  void seqRep4CountsRepeatedFourGrams() {
    assertEquals(0.0, Stats.seqRep4(new int[] {1, 2, 3, 4, 5, 6, 7}), 1e-12, "no 4-gram repeats");
    // 1 2 3 1 2 3 1 2 3: six 4-grams, three distinct (123 1, 231 2, 312 3)
    assertEquals(0.5, Stats.seqRep4(new int[] {1, 2, 3, 1, 2, 3, 1, 2, 3}), 1e-12);
    assertEquals(0.0, Stats.seqRep4(new int[] {5, 5, 5}), 1e-12, "too short to have two 4-grams");
    assertEquals(1.0 - 1.0 / 7, Stats.seqRep4(new int[] {9, 9, 9, 9, 9, 9, 9, 9, 9, 9}), 1e-12, "one token looped");
  }

  @Test
  void predictorPipelineCollectsTrainsEvaluatesAndBenchmarksOnATinyModel() throws Exception {
    Path data = tmp.resolve("data");
    java.nio.file.Files.createDirectories(data.resolve("alpaca"));
    StringBuilder json = new StringBuilder("[");
    String[] words = {"fruits", "colours", "rivers", "cities", "birds", "trees"};
    for (int i = 0; i < words.length; i++) {
      json.append(i > 0 ? "," : "").append("{\"instruction\": \"Name three ").append(words[i])
          .append(".\", \"input\": \"\", \"output\": \"one, two, three\"}");
    }
    java.nio.file.Files.writeString(data.resolve("alpaca").resolve("a.json"), json.append("]").toString());
    Path states = tmp.resolve("states");
    Run c = run("collect-states", "--model", model.toString(), "--data", data.toString(), "--out", states.toString(),
        "--real", "6", "--generated", "4", "--max-new-tokens", "12", "--val-fraction", "0.5", "--batch", "4",
        "--device", "cpu");
    assertEquals(0, c.code(), c.err());
    Path predictor = tmp.resolve("predictor");
    Run t = run("train-predictor", "--states", states.toString(), "--out", predictor.toString(), "--epochs", "2",
        "--sweep-epochs", "1", "--units", "16", "--threads", "1", "--json");
    assertEquals(0, t.code(), t.err());
    JsonObject trained = last(t.out());
    assertEquals(3, trained.getAsJsonArray("layer_sweep").size(), "layers 0..2 of the 2-layer model swept");
    assertTrue(java.nio.file.Files.isRegularFile(predictor.resolve("README.md")));
    Run e = run("eval-predictor", "--states", states.toString(), "--predictor", predictor.toString(), "--record",
        tmp.resolve("rec.jsonl").toString(), "--json");
    assertEquals(0, e.code(), e.err());
    JsonObject eval = last(e.out());
    assertTrue(eval.get("mae_ratio_baseline_over_refined").getAsDouble() > 0, e.out());
    assertTrue(eval.getAsJsonObject("methods").has("refined_smoothed_k8"));
    assertTrue(java.nio.file.Files.isRegularFile(Path.of(eval.get("confusion_png").getAsString())));
    Run b = run("bench-predictor", "--predictor", predictor.toString(), "--rounds", "3", "--per-round", "200",
        "--json");
    assertEquals(0, b.code(), b.err());
    assertTrue(last(b.out()).get("us_per_sample").getAsDouble() > 0);
    // a predictor for another hidden size, or none at all, is one line and exit code 2
    Run wrong = run("eval-predictor", "--states", states.toString(), "--predictor", tmp.resolve("nope").toString());
    assertEquals(2, wrong.code());
    assertTrue(wrong.err().contains("predictor.json"), wrong.err());
    // the same prompts split another way: held-out prompts the predictor was trained on are refused, naming why
    Path resplit = tmp.resolve("states-resplit");
    Run c2 = run("collect-states", "--model", model.toString(), "--data", data.toString(), "--out",
        resplit.toString(), "--real", "6", "--generated", "4", "--max-new-tokens", "12", "--val-fraction", "0.9",
        "--batch", "4", "--device", "cpu", "--seed", "18");
    assertEquals(0, c2.code(), c2.err());
    Run seen = run("eval-predictor", "--states", resplit.toString(), "--predictor", predictor.toString());
    assertEquals(2, seen.code(), seen.err());
    assertTrue(seen.err().strip().lines().count() == 1 && seen.err().contains("training data"), seen.err());
    Run noStates = run("train-predictor", "--states", tmp.resolve("missing").toString());
    assertEquals(2, noStates.code());
    assertTrue(noStates.err().contains("meta.json"), noStates.err());
  }

  private static JsonObject last(String out) {
    String[] lines = out.strip().split("\n");
    return JsonParser.parseString(lines[lines.length - 1]).getAsJsonObject();
  }

  @Test
  void produceRefusesBadFilesWithOneLine() throws Exception {
    Run missing = run("produce", "--file", tmp.resolve("none.jsonl").toString());
    assertEquals(2, missing.code());
    assertTrue(missing.err().contains("none.jsonl"), missing.err());
    Path bad = tmp.resolve("bad.jsonl");
    java.nio.file.Files.writeString(bad, "{\"prompt\": \"ok\"}\n{\"max_new_tokens\": 3}\n");
    Run r = run("produce", "--file", bad.toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("line 2") && r.err().lines().count() == 1, r.err());
    assertEquals(2, run("produce").code());
  }
}
