package io.trailflink.job;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A temporary folder for one run of the embedded default (the broker's data, its log): created under the system
 * temp dir and deleted when the run ends, also when it fails ({@code kill -9} aside: the next run does not reuse it).
 */
public final class WorkDir implements AutoCloseable {
  private final Path path;

  private WorkDir(Path path) {
    this.path = path;
  }

  public static WorkDir create(String prefix) throws IOException {
    return new WorkDir(Files.createTempDirectory(prefix));
  }

  public Path path() {
    return path;
  }

  @Override
  public void close() {
    try (Stream<Path> all = Files.walk(path)) {
      all.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    } catch (IOException | UncheckedIOException e) {
      System.err.println("could not remove " + path + ": " + e.getMessage());
    }
  }
}
