package io.trailflink.schema;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;

/**
 * The released versions of the topics' record schemas ({@code schema-history/<Record>-v<N>.avsc}, self-contained),
 * so that a reader without a schema registry can still read what older producers wrote: their records lack the
 * fields added since, which the current schema gives defaults. The newest version is the current schema as released;
 * a change to a topic's schema adds the next version here, and {@code ReleasedSchemasTest} checks that it stays
 * compatible both ways with the one before (or is a declared break).
 */
public final class SchemaHistory {
  private SchemaHistory() {}

  /** The released versions of {@code record}, newest first (empty when none). */
  public static List<Schema> released(String record) {
    List<Schema> out = new ArrayList<>();
    for (int v = 1; ; v++) {
      try (InputStream in = SchemaHistory.class.getResourceAsStream("/schema-history/" + record + "-v" + v + ".avsc")) {
        if (in == null) {
          break;
        }
        out.add(0, new Schema.Parser().parse(in));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return out;
  }
}
