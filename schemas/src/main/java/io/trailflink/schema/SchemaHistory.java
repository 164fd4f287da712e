package io.trailflink.schema;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;

/**
 * Earlier released versions of the topics' record schemas ({@code schema-history/<Record>-v<N>.avsc}), so that a
 * reader without a schema registry can still read what older producers wrote: their records lack the fields added
 * since, which the current schema gives defaults. A new version goes here whenever a released schema changes.
 */
public final class SchemaHistory {
  private SchemaHistory() {}

  /** The released versions of {@code record} before the current one, newest first (empty when none). */
  public static List<Schema> olderVersions(String record) {
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
