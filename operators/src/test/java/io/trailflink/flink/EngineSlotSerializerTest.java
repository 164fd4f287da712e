package io.trailflink.flink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trailflink.schema.EngineLoopState;
import io.trailflink.schema.Sampling;
import io.trailflink.serving.EngineLoop;
import io.trailflink.serving.ServingConfig;
import io.trailflink.serving.ValidatedRequest;
import java.io.IOException;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

/**
 * The scheduler state's serializer as Flink drives it across an upgrade: state written by one build, its serializer
 * snapshot read back, compatibility resolved by the next build's serializer, the old bytes read with the restored
 * serializer. A build whose state record gained a field (with a default) reads the old state and is read by it; one
 * whose new field has no default is refused.
 */
class EngineSlotSerializerTest {
  static final ServingConfig CONFIG = new ServingConfig("trail", 1, 4, 64, 16, 4, 64, 1024, 60_000);

  /** This build's state schema with one more field, as the next build's record might have it. */
  static Schema withExtraField(String field) {
    return new Schema.Parser().parse(EngineLoopState.getClassSchema().toString()
        .replaceFirst("\"fields\":\\[", "\"fields\":[" + field + ","));
  }

  private static EngineSlot slotWithTwoRequests() {
    EngineLoop loop = new EngineLoop(0, CONFIG);
    for (String id : List.of("a", "b")) {
      loop.submit(new ValidatedRequest(id, "t", new int[] {1, 2, 3}, 16, 0, Sampling.newBuilder().build(), List.of(),
          5L, 0, null), 10);
    }
    loop.nextCommand(20);
    return EngineSlot.of(loop);
  }

  @Test
  void stateWrittenByThisBuildRestoresInABuildWhoseStateGainedAFieldAndBack() throws IOException {
    EngineSlotSerializer thisBuild = new EngineSlotSerializer();
    TypeSerializer<EngineSlot> nextBuild =
        new EngineSlotSerializer().declaring(withExtraField("{\"name\":\"added_later\",\"type\":\"long\",\"default\":7}"));
    EngineSlot slot = slotWithTwoRequests();

    // this build's checkpoint, restored by the next build
    byte[] state = write(thisBuild, slot);
    TypeSerializerSnapshot<EngineSlot> written = snapshotRoundTrip(thisBuild);
    TypeSerializerSchemaCompatibility<EngineSlot> up = nextBuild.snapshotConfiguration().resolveSchemaCompatibility(written);
    assertTrue(up.isCompatibleAfterMigration(), up.toString());
    EngineSlot restored = read(written.restoreSerializer(), state);
    assertTrue(restored.pending(), "rebuilt on first use, under the operator's settings");
    EngineLoop loop = restored.loop(CONFIG, 30);
    assertEquals(2, loop.liveRequests());
    assertEquals(2, loop.queued(), "both re-queued for the new engine");

    // the next build writes its own schema from then on; this build reads that back (the extra field skipped)
    byte[] newer = write(nextBuild, EngineSlot.of(loop));
    assertTrue(newer.length > state.length - 16, "the new field is written");
    TypeSerializerSnapshot<EngineSlot> writtenNewer = snapshotRoundTrip(nextBuild);
    TypeSerializerSchemaCompatibility<EngineSlot> down =
        thisBuild.snapshotConfiguration().resolveSchemaCompatibility(writtenNewer);
    assertTrue(down.isCompatibleAfterMigration(), down.toString());
    EngineLoop back = read(writtenNewer.restoreSerializer(), newer).loop(CONFIG, 40);
    assertEquals(List.of("a", "b"), back.toState().getRequests().stream().map(r -> r.getId()).toList());

    assertTrue(thisBuild.snapshotConfiguration().resolveSchemaCompatibility(snapshotRoundTrip(thisBuild))
        .isCompatibleAsIs(), "the same build restores as is");
  }

  @Test
  void aBuildWhoseNewFieldHasNoDefaultIsRefusedInsteadOfMisreadingState() throws IOException {
    TypeSerializer<EngineSlot> incompatible =
        new EngineSlotSerializer().declaring(withExtraField("{\"name\":\"required\",\"type\":\"long\"}"));
    TypeSerializerSchemaCompatibility<EngineSlot> c =
        incompatible.snapshotConfiguration().resolveSchemaCompatibility(snapshotRoundTrip(new EngineSlotSerializer()));
    assertTrue(c.isIncompatible(), c.toString());
    TypeSerializerSnapshot<EngineSlot> javaSerialized = new JavaSerializer<>(EngineSlot.class).snapshotConfiguration();
    assertTrue(new EngineSlotSerializer().snapshotConfiguration().resolveSchemaCompatibility(javaSerialized)
        .isIncompatible(), "state of the Java-serialized releases is not read as Avro");
  }

  @Test
  void aCopyOfALiveSlotIsDeepAndACopyOfARestoredOneIsStillRestored() throws IOException {
    EngineSlotSerializer s = new EngineSlotSerializer();
    EngineSlot live = slotWithTwoRequests();
    EngineSlot copy = s.copy(live);
    assertNotSame(live.liveLoop(), copy.liveLoop());
    copy.liveLoop().cancel("a", "test", 50);
    assertEquals(2, live.liveLoop().liveRequests(), "the checkpoint's copy is untouched by the live one");
    EngineSlot restored = read(s, write(s, live));
    assertTrue(s.copy(restored).pending());
  }

  private static byte[] write(TypeSerializer<EngineSlot> s, EngineSlot slot) throws IOException {
    DataOutputSerializer out = new DataOutputSerializer(256);
    s.serialize(slot, out);
    return out.getCopyOfBuffer();
  }

  private static EngineSlot read(TypeSerializer<EngineSlot> s, byte[] b) throws IOException {
    return s.deserialize(new DataInputDeserializer(b));
  }

  /** The serializer's snapshot through its bytes, as a checkpoint's metadata keeps it. */
  private static TypeSerializerSnapshot<EngineSlot> snapshotRoundTrip(TypeSerializer<EngineSlot> s) throws IOException {
    DataOutputSerializer out = new DataOutputSerializer(256);
    TypeSerializerSnapshot.writeVersionedSnapshot(out, s.snapshotConfiguration());
    return TypeSerializerSnapshot.readVersionedSnapshot(new DataInputDeserializer(out.getCopyOfBuffer()),
        EngineSlotSerializerTest.class.getClassLoader());
  }
}
