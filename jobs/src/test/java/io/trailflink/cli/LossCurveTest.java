package io.trailflink.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LossCurveTest {
  @TempDir Path tmp;

  @Test
  void aFineTunedModelsCurveContinuesItsBaseCurve() throws Exception {
    String header = "step,epoch,loss,lr,tokens_per_s,elapsed_s";
    Path base = Files.write(tmp.resolve("base.csv"), List.of(header, "10,0,3.0,1e-3,100,5", "20,0,2.5,1e-3,100,10"));
    Path run = Files.write(tmp.resolve("run.csv"), List.of(header, "10,0,1.5,5e-4,90,6"));
    Path out = tmp.resolve("out.csv");
    TrainModelCommand.writeLossCurve(base, run, out);
    assertEquals(List.of(header, "10,0,3.0,1e-3,100,5", "20,0,2.5,1e-3,100,10", "30,0,1.5,5e-4,90,6"),
        Files.readAllLines(out));
    TrainModelCommand.writeLossCurve(tmp.resolve("absent.csv"), run, out);
    assertEquals(List.of(header, "10,0,1.5,5e-4,90,6"), Files.readAllLines(out));
  }
}
