package io.trailflink.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code trail batch} as a user runs it, on the real job (embedded Kafka, MiniCluster, CPU engine): killed with
 * {@code kill -9} half-way, then finished with {@code --resume}; the output has every input row exactly once, the
 * served ones answered and the bad ones with their reason, and the killed run's broker did not outlive it.
 */
class BatchResumeIntegrationTest {
  @TempDir Path tmp;

  @Test
  @Timeout(420)
  void aBatchKilledHalfWayFinishesWithResumeAndEveryRowOnce() throws Exception {
    Path in = tmp.resolve("prompts.jsonl");
    List<String> lines = new ArrayList<>();
    String[] prompts = {"List 3 fruits.", "Count from 1 to 7.", "Name 4 colors.", "Spell the word river.",
        "Write a short story about a fox."};
    int served = 24;
    for (int i = 0; i < served; i++) {
      lines.add("{\"id\":\"r" + i + "\",\"prompt\":\"" + prompts[i % prompts.length] + "\",\"max_new_tokens\":"
          + (24 + (i % 3) * 24) + ",\"tag\":" + i + "}");
    }
    lines.add("this is not json");
    lines.add("{\"id\":\"empty\",\"prompt\":\" \"}");
    Files.write(in, lines);
    Path out = tmp.resolve("results.jsonl");
    List<String> args = List.of("batch", "--input", in.toString(), "--output", out.toString(), "--device", "cpu",
        "--model", "../models/trail-tiny", "--max-running", "4");

    // first run in a child JVM, killed once a few rows are written
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx2g", "-Dai.djl.offline=true", "-Dtrail.home=..", "-Djava.io.tmpdir=" + tmp, // its work dir dies with it
        "-cp", System.getProperty("java.class.path"),
        TrailCli.class.getName()));
    cmd.addAll(args);
    Process first = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(tmp.resolve("first.log").toFile()).start();
    long deadline = System.currentTimeMillis() + 240_000;
    while (lineCount(out) < 6 && first.isAlive() && System.currentTimeMillis() < deadline) {
      Thread.sleep(100);
    }
    assertTrue(first.isAlive(), "still running when killed: " + Files.readString(tmp.resolve("first.log")));
    List<ProcessHandle> children = first.descendants().toList();
    first.destroyForcibly(); // SIGKILL: no shutdown hook runs
    first.waitFor(30, TimeUnit.SECONDS);
    int before = lineCount(out);
    assertTrue(before >= 6 && before < served + 2, "killed half-way, with " + before + " rows written");
    for (ProcessHandle child : children) { // the embedded broker halts by itself when its parent is gone
      child.onExit().get(30, TimeUnit.SECONDS);
    }

    // the same command with --resume finishes the rest
    List<String> resume = new ArrayList<>(args);
    resume.add("--resume");
    assertEquals(0, TrailCli.execute(resume.toArray(String[]::new)));

    Map<String, Integer> seen = new HashMap<>();
    for (String line : Files.readAllLines(out)) {
      JsonObject o = JsonParser.parseString(line).getAsJsonObject();
      seen.merge(o.get("id").getAsString(), 1, Integer::sum);
      if (o.get("id").getAsString().startsWith("r")) {
        assertTrue(o.has("text") && !o.has("error"), line);
        assertEquals(o.get("id").getAsString(), "r" + o.get("tag").getAsInt(), "input fields pass through");
      }
    }
    assertEquals(served + 2, seen.size(), "every row: " + seen.keySet());
    assertTrue(seen.values().stream().allMatch(n -> n == 1), "no row twice: " + seen);
    assertEquals(1, seen.get("25"), "the bad row keyed by its row number");
  }

  private static int lineCount(Path file) throws Exception {
    if (!Files.exists(file)) {
      return 0;
    }
    return (int) Files.readString(file).chars().filter(c -> c == '\n').count();
  }
}
