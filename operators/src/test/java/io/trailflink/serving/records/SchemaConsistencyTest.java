package io.trailflink.serving.records;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.trailflink.schema.AdmitSpec;
import io.trailflink.schema.EngineFeedback;
import io.trailflink.schema.InferenceRequest;
import io.trailflink.schema.PredictionUpdate;
import io.trailflink.schema.RequestProgress;
import io.trailflink.schema.Sampling;
import io.trailflink.schema.StepCommand;
import io.trailflink.schema.StepResult;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

/**
 * Every record type embedded in another is the same schema as its own class: the Avro plugin regenerates only the
 * .avsc files that changed, so a class generated before an imported type gained a field would write the old shape
 * (and lose the field on every Flink copy). Seen once: then {@code ./mvnw clean install}.
 */
class SchemaConsistencyTest {
  static Schema union(Schema s, int branch) {
    return s.getTypes().get(branch);
  }

  @Test
  void embeddedRecordsMatchTheirOwnGeneratedClasses() {
    assertEquals(Sampling.getClassSchema(), AdmitSpec.getClassSchema().getField("sampling").schema());
    assertEquals(Sampling.getClassSchema(), union(InferenceRequest.getClassSchema().getField("sampling").schema(), 1));
    assertEquals(AdmitSpec.getClassSchema(), StepCommand.getClassSchema().getField("admit").schema().getElementType());
    assertEquals(RequestProgress.getClassSchema(),
        StepResult.getClassSchema().getField("progress").schema().getElementType());
    assertEquals(RequestProgress.getClassSchema(),
        EngineFeedback.getClassSchema().getField("progress").schema().getElementType());
    assertEquals(Sampling.getClassSchema(),
        io.trailflink.schema.ServedRequestState.getClassSchema().getField("sampling").schema());
    assertEquals(PredictionUpdate.getClassSchema(),
        EngineFeedback.getClassSchema().getField("predictions").schema().getElementType());
  }
}
