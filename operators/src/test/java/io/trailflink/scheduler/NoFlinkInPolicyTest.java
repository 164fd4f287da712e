package io.trailflink.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The scheduling core stays plain Java: no Flink import may creep into it. */
class NoFlinkInPolicyTest {
  @Test
  void schedulerPackageImportsNoFlink() throws IOException {
    Path root = Path.of("src/main/java/io/trailflink/scheduler");
    try (Stream<Path> files = Files.walk(root)) {
      List<String> offenders = files.filter(p -> p.toString().endsWith(".java"))
          .filter(p -> read(p).contains("org.apache.flink")).map(Path::toString).toList();
      assertEquals(List.of(), offenders);
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
