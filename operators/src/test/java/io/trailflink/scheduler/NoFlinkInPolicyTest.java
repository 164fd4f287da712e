package io.trailflink.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The scheduling core and the serving side of an engine stay plain Java: no Flink import may creep into them; and
 * nothing in this module depends on model training.
 */
class NoFlinkInPolicyTest {
  @Test
  void policyAndServingPackagesImportNoFlink() throws IOException {
    for (String pkg : List.of("scheduler", "sim", "serving")) {
      try (Stream<Path> files = Files.walk(Path.of("src/main/java/io/trailflink", pkg))) {
        List<String> offenders = files.filter(p -> p.toString().endsWith(".java"))
            .filter(p -> read(p).contains("org.apache.flink")).map(Path::toString).toList();
        assertEquals(List.of(), offenders);
      }
    }
  }

  @Test
  void servingImportsNoTrainingClass() throws IOException {
    try (Stream<Path> files = Files.walk(Path.of("src/main/java"))) {
      List<String> offenders = files.filter(p -> p.toString().endsWith(".java"))
          .filter(p -> read(p).contains("io.trailflink.engine.train")).map(Path::toString).toList();
      assertEquals(List.of(), offenders, "the serving side feeds text through the checkpoint's own template");
    }
  }

  private static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
