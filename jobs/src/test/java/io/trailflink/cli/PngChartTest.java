package io.trailflink.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PngChartTest {
  @TempDir Path tmp;

  @Test
  void aSweepIsTickedAtItsOwnSettings() throws Exception {
    PngChart chart = new PngChart("latency against the quantum", "decode steps per command", "mean latency (s)")
        .add("fcfs", new double[] {8, 4, 2, 1}, new double[] {1.2, 1.1, 1.3, 1.4})
        .add("trail", new double[] {1, 2, 4, 8}, new double[] {0.9, 0.8, 0.85, 0.9})
        .xTicksAtData();
    assertArrayEquals(new double[] {1, 2, 4, 8}, chart.xTicks(1, 8));
    Path png = tmp.resolve("q.png");
    chart.write(png);
    BufferedImage img = ImageIO.read(png.toFile());
    assertEquals(900, img.getWidth());
  }

  @Test
  void aContinuousAxisHasFiveEvenSteps() {
    PngChart chart = new PngChart("cdf", "latency (s)", "fraction").add("x", new double[] {0, 10},
        new double[] {0, 1});
    assertArrayEquals(new double[] {0, 2, 4, 6, 8, 10}, chart.xTicks(0, 10), 1e-9);
  }

  @Test
  void aSettingIsLabelledAsShortAsItIsExact() {
    assertEquals("8", PngChart.fmtSetting(8));
    assertEquals("0.8", PngChart.fmtSetting(0.8));
    assertEquals("1.25", PngChart.fmtSetting(1.25));
    assertEquals("18.07", PngChart.fmtSetting(18.0742));
  }
}
