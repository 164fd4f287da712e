package io.trailflink.cli;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/** A confusion-matrix heat map as PNG (Java2D, headless): rows true class, columns predicted, row-normalised. */
final class PngHeatmap {
  private PngHeatmap() {}

  static void write(Path file, String title, String[] labels, long[][] counts) throws IOException {
    System.setProperty("java.awt.headless", "true");
    int n = labels.length;
    int cell = 56;
    int left = 110;
    int top = 60;
    int w = left + n * cell + 40;
    int h = top + n * cell + 80;
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, w, h);
    g.setColor(Color.BLACK);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
    g.drawString(title, 10, 24);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
    for (int r = 0; r < n; r++) {
      long rowSum = 0;
      for (long c : counts[r]) {
        rowSum += c;
      }
      for (int c = 0; c < n; c++) {
        double f = rowSum == 0 ? 0 : (double) counts[r][c] / rowSum;
        int shade = (int) Math.round(255 * (1 - f));
        g.setColor(new Color(shade, shade, 255));
        g.fillRect(left + c * cell, top + r * cell, cell, cell);
        g.setColor(f > 0.5 ? Color.WHITE : Color.BLACK);
        g.drawString(String.format("%.2f", f), left + c * cell + 14, top + r * cell + cell / 2 + 4);
      }
      g.setColor(Color.BLACK);
      g.drawString(labels[r], 10, top + r * cell + cell / 2 + 4);
    }
    for (int c = 0; c < n; c++) {
      g.drawString(labels[c], left + c * cell + 4, top + n * cell + 16);
    }
    g.drawString("predicted bin (tokens) →; rows: true bin, each row sums to 1", left, top + n * cell + 40);
    g.dispose();
    Files.createDirectories(file.toAbsolutePath().getParent());
    ImageIO.write(img, "png", file.toFile());
  }
}
