package io.trailflink.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trailflink.engine.SamplingParams;
import io.trailflink.serving.RawRecord;
import io.trailflink.serving.RequestValidator;
import io.trailflink.serving.ServingConfig;
import io.trailflink.serving.records.RecordLimits;
import org.junit.jupiter.api.Test;

/** Every kind of fuzz record is refused by the job's own validator with a reason (or is what it says it is). */
class BadRecordsTest {
  @Test
  void everyKindIsRefusedWithAReasonExceptTheOnesThatAreValidOnTheirOwn() {
    RequestValidator v = new RequestValidator(new ServingConfig("trail", 1, 4, 64, 16, 4, 512, 1024, 60_000),
        RecordLimits.DEFAULT, SamplingParams.GREEDY, (p, m) -> new int[4]);
    BadRecords gen = new BadRecords(3);
    for (int round = 0; round < 20; round++) {
      for (BadRecords.Bad b : gen.oneOfEach()) {
        RequestValidator.Outcome o = v.validate(new RawRecord("t", 0, 0, b.value()));
        switch (b.kind()) {
          case DUPLICATE_ID_IN_FLIGHT -> assertTrue(o.valid(), "the duplicate is refused by the scheduler, not here");
          case CANCEL_UNKNOWN_ID -> assertTrue(o.valid() && o.request().cancel(), b.kind().toString());
          default -> {
            assertFalse(o.valid(), b.kind() + " was accepted");
            assertTrue(o.reason() != null && !o.reason().isBlank(), b.kind() + " has no reason");
          }
        }
      }
    }
    assertEquals(BadRecords.Kind.values().length, gen.oneOfEach().size());
  }
}
