package io.trailflink.schema;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.specific.SpecificData;

/**
 * Schema identity without a registry: every record the job writes carries its writer schema's fingerprint
 * (Avro's 64-bit CRC of the schema's parsing canonical form, as 16 hex digits) in the Kafka header
 * {@value #HEADER}, so a reader can tell versions apart and pick the writer schema among the released ones
 * ({@link SchemaHistory}) — while the value stays plain Avro binary that Flink SQL's {@code avro} format reads.
 */
public final class SchemaFingerprints {
  /** The Kafka header naming the writer schema. */
  public static final String HEADER = "trail.schema.fingerprint";

  private SchemaFingerprints() {}

  /** Avro's 64-bit parsing fingerprint of {@code schema}. */
  public static long of(Schema schema) {
    return SchemaNormalization.parsingFingerprint64(schema);
  }

  /** The header value for {@code fingerprint}: 16 lower-case hex digits, UTF-8. */
  public static byte[] headerValue(long fingerprint) {
    return HexFormat.of().toHexDigits(fingerprint).getBytes(StandardCharsets.UTF_8);
  }

  /** The fingerprint a header value names, or null when it is not 16 hex digits. */
  public static Long parse(byte[] headerValue) {
    if (headerValue == null || headerValue.length != 16) {
      return null;
    }
    String hex = new String(headerValue, StandardCharsets.US_ASCII);
    try {
      return HexFormat.fromHexDigitsToLong(hex);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /**
   * Every released writer schema of {@code record} (a record name in {@code io.trailflink.schema}) by fingerprint:
   * the current one first, then the history, newest first.
   */
  public static Map<Long, Schema> released(String record) {
    List<Schema> all = new ArrayList<>();
    try {
      all.add(SpecificData.get().getSchema(Class.forName(SchemaFingerprints.class.getPackageName() + "." + record)));
    } catch (ClassNotFoundException e) {
      // only history left (a record type no longer written)
    }
    all.addAll(SchemaHistory.released(record));
    Map<Long, Schema> out = new LinkedHashMap<>();
    all.forEach(s -> out.putIfAbsent(of(s), s));
    return out;
  }
}
