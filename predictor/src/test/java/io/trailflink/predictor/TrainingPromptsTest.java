package io.trailflink.predictor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingPromptsTest {
  @TempDir Path tmp;

  @Test
  void listsTheTrainedPromptsByFingerprintWithoutTheirText() throws Exception {
    String f = TrainingPrompts.PREDICTOR_FILE;
    assertNull(TrainingPrompts.read(tmp, f), "no list: unknown, not empty");
    assertEquals(-1, TrainingPrompts.seen(tmp, f, List.of("Name three rivers.")));
    TrainingPrompts.write(tmp, f, List.of("Name three rivers.", "Count down from 80.", "Name three rivers."));
    Set<String> listed = TrainingPrompts.read(tmp, f);
    assertEquals(2, listed.size());
    assertTrue(listed.contains(TrainingPrompts.fingerprint("Count down from 80.")));
    assertFalse(listed.contains(TrainingPrompts.fingerprint("Count down from 81.")));
    assertFalse(Files.readString(tmp.resolve(f)).contains("rivers"));
    assertEquals(1, TrainingPrompts.seen(tmp, f, List.of("Name three rivers.", "Name three lakes.")));
    assertEquals(16, TrainingPrompts.fingerprint("").length());
    assertEquals(TrainingPrompts.fingerprint("Count down from 80."), TrainingPrompts.fingerprint(" Count down from 80.\n"),
        "stored stripped or as written, the same prompt");
  }
}
