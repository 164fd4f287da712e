package io.trailflink.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PredictionCoverageTest {
  @Test
  void recordedPredictionsSayWhereTheyDoNotCoverTheWorkload() {
    Map<String, PredictionModel.Recorded> rec = new HashMap<>();
    for (int i = 0; i < 10; i++) {
      rec.put("r" + i, new PredictionModel.Recorded(10 + i, new double[10 + i]));
    }
    PredictionModel m = PredictionModel.recorded("test", rec, 1);
    List<String> c = m.coverage(List.of(12, 15, 200, 210), 64);
    assertEquals("recorded predictions by output length (tokens: recorded/workload): 0-63: 10/2 192-255: 0/2", c.get(0));
    assertTrue(c.get(1).startsWith("warning: the recording barely covers 192-255 (2 workload requests, 0 recorded)"),
        c.get(1));
    assertEquals(List.of(), PredictionModel.parse("oracle", 1).coverage(List.of(5), 64), "only recordings report");
  }
}
