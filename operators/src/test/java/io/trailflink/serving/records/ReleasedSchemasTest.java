package io.trailflink.serving.records;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.trailflink.schema.SchemaFingerprints;
import io.trailflink.schema.SchemaHistory;
import java.util.List;
import java.util.Set;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;
import org.apache.avro.specific.SpecificData;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every record the job reads or writes on a topic is released in {@code schema-history}, and every release reads the
 * one before it and is read by it (backward and forward compatible: new fields have defaults), except the declared
 * breaks below. A change to a topic's schema fails here until it is compatible with the newest release, or added as
 * the next release.
 */
class ReleasedSchemasTest {
  /**
   * Releases that deliberately broke compatibility with the one before ({@code Record-vN}: vN does not read v(N-1)
   * both ways). v2 of the responses topic's records made them flat and SQL-readable: chunks moved to their own topic,
   * times became timestamp-millis, null replaced NaN.
   */
  static final Set<String> DECLARED_BREAKS = Set.of("FinalResponse-v2", "ResponseChunk-v2", "DeadLetter-v2");

  @ParameterizedTest
  @ValueSource(strings = {"InferenceRequest", "FinalResponse", "ResponseChunk", "EtaUpdate", "EngineStatus",
      "DeadLetter", "EngineLoopState", "PlacementBoardState", "RemainingLengthState"})
  void theCurrentSchemaIsReleasedAndEachReleaseReadsTheOneBefore(String record) throws Exception {
    List<Schema> releases = SchemaHistory.released(record); // newest first
    assertFalse(releases.isEmpty(), record + " has no release in schema-history");
    Schema current = SpecificData.get().getSchema(Class.forName("io.trailflink.schema." + record));
    assertCompatible(record + " (current) against its newest release", current, releases.get(0));
    for (int i = 0; i + 1 < releases.size(); i++) {
      int version = releases.size() - i;
      if (!DECLARED_BREAKS.contains(record + "-v" + version)) {
        assertCompatible(record + "-v" + version + " against v" + (version - 1), releases.get(i), releases.get(i + 1));
      }
    }
    assertEquals(SchemaFingerprints.of(releases.get(0)), SchemaFingerprints.of(current),
        record + " changed since its newest release: add it to schema-history as the next version");
  }

  private static void assertCompatible(String what, Schema newer, Schema older) {
    assertEquals(SchemaCompatibilityType.COMPATIBLE,
        SchemaCompatibility.checkReaderWriterCompatibility(newer, older).getType(), what + ": newer reads older");
    assertEquals(SchemaCompatibilityType.COMPATIBLE,
        SchemaCompatibility.checkReaderWriterCompatibility(older, newer).getType(), what + ": older reads newer");
  }
}
