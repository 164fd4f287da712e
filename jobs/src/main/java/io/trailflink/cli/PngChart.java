package io.trailflink.cli;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/** A minimal line chart written as PNG with Java2D (headless): axes, ticks, one coloured line per series, legend. */
final class PngChart {
  private static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
      new Color(0xff7f0e), new Color(0x9467bd), new Color(0x8c564b), new Color(0x17becf), new Color(0xe377c2),
      new Color(0xbcbd22), new Color(0x7f7f7f)};

  /** One line: x and y of equal length. */
  record Series(String name, double[] x, double[] y) {}

  private final String title;
  private final String xLabel;
  private final String yLabel;
  private final List<Series> series = new ArrayList<>();
  private boolean logY; // y on a log10 scale (non-positive values left out)
  private boolean xTicksAtData; // x ticks at the series' own x values instead of five even steps

  PngChart(String title, String xLabel, String yLabel) {
    this.title = title;
    this.xLabel = xLabel;
    this.yLabel = yLabel;
  }

  /** Adds the empirical CDF of latencies given in ms, drawn in seconds. */
  PngChart addCdf(String name, double[] latencyMs) {
    double[] lat = latencyMs.clone();
    java.util.Arrays.sort(lat);
    double[] x = new double[lat.length];
    double[] y = new double[lat.length];
    for (int i = 0; i < lat.length; i++) {
      x[i] = lat[i] / 1000;
      y[i] = (i + 1.0) / lat.length;
    }
    return add(name, x, y);
  }

  /** Draws y on a log10 scale, for figures that span orders of magnitude (a p99 TTFT from 0.05 s to 90 s). */
  PngChart logY() {
    logY = true;
    return this;
  }

  /** Puts the x ticks at the x values the series hold, for a sweep over a few settings (a quantum of 1, 2, 4, 8). */
  PngChart xTicksAtData() {
    xTicksAtData = true;
    return this;
  }

  private double ty(double v) {
    return logY ? (v > 0 ? Math.log10(v) : Double.NaN) : v;
  }

  PngChart add(String name, double[] x, double[] y) {
    series.add(new Series(name, x, y));
    return this;
  }

  void write(Path file) throws IOException {
    System.setProperty("java.awt.headless", "true");
    int longestName = series.stream().mapToInt(x -> x.name().length()).max().orElse(0);
    int right = Math.max(200, 7 * longestName + 60); // the legend: every name whole
    int w = 700 + right;
    int h = 560;
    int left = 80;
    int top = 50;
    int bottom = 60;
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, w, h);
    double minX = Double.POSITIVE_INFINITY;
    double maxX = Double.NEGATIVE_INFINITY;
    double minY = Double.POSITIVE_INFINITY;
    double maxY = Double.NEGATIVE_INFINITY;
    for (Series s : series) {
      for (int i = 0; i < s.x().length; i++) {
        if (Double.isFinite(s.x()[i]) && Double.isFinite(ty(s.y()[i]))) {
          minX = Math.min(minX, s.x()[i]);
          maxX = Math.max(maxX, s.x()[i]);
          minY = Math.min(minY, ty(s.y()[i]));
          maxY = Math.max(maxY, ty(s.y()[i]));
        }
      }
    }
    if (!logY) {
      minY = Math.min(0, minY);
    }
    if (maxX <= minX) {
      maxX = minX + 1;
    }
    if (maxY <= minY) {
      maxY = minY + 1;
    }
    int pw = w - left - right;
    int ph = h - top - bottom;
    g.setColor(Color.BLACK);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
    g.drawString(title, left, 30);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    g.drawRect(left, top, pw, ph);
    for (double xv : xTicks(minX, maxX)) {
      int xp = left + (int) Math.round((xv - minX) / (maxX - minX) * pw);
      g.setColor(new Color(0xe0e0e0));
      g.drawLine(xp, top, xp, top + ph);
      g.setColor(Color.BLACK);
      g.drawString(xTicksAtData ? fmtSetting(xv) : fmt(xv), xp - 15, top + ph + 18);
    }
    for (int i = 0; i <= 5; i++) {
      double yv = minY + (maxY - minY) * i / 5;
      int yp = top + ph - ph * i / 5;
      g.setColor(new Color(0xe0e0e0));
      g.drawLine(left, yp, left + pw, yp);
      g.setColor(Color.BLACK);
      g.drawString(fmt(logY ? Math.pow(10, yv) : yv), left - 60, yp + 4);
    }
    g.drawString(xLabel, left + pw / 2 - 40, h - 15);
    g.rotate(-Math.PI / 2);
    g.drawString(yLabel, -(top + ph / 2 + 40), 20);
    g.rotate(Math.PI / 2);
    g.setStroke(new BasicStroke(2f));
    for (int k = 0; k < series.size(); k++) {
      Series s = series.get(k);
      g.setColor(PALETTE[k % PALETTE.length]);
      int px = -1;
      int py = -1;
      for (int i = 0; i < s.x().length; i++) {
        if (!Double.isFinite(ty(s.y()[i]))) {
          continue;
        }
        int x = left + (int) Math.round((s.x()[i] - minX) / (maxX - minX) * pw);
        int y = top + ph - (int) Math.round((ty(s.y()[i]) - minY) / (maxY - minY) * ph);
        if (px >= 0) {
          g.drawLine(px, py, x, y);
        }
        if (s.x().length <= 20) {
          g.fillOval(x - 3, y - 3, 6, 6);
        }
        px = x;
        py = y;
      }
      g.fillRect(left + pw + 20, top + 10 + 22 * k, 14, 14);
      g.setColor(Color.BLACK);
      g.drawString(s.name(), left + pw + 40, top + 22 + 22 * k);
    }
    g.dispose();
    ImageIO.write(img, "png", file.toFile());
  }

  /** Five even steps from {@code minX} to {@code maxX}, or with {@link #xTicksAtData} the distinct x values held. */
  double[] xTicks(double minX, double maxX) {
    if (xTicksAtData) {
      return series.stream().flatMapToDouble(s -> java.util.Arrays.stream(s.x())).filter(Double::isFinite)
          .distinct().sorted().toArray();
    }
    double[] ticks = new double[6];
    for (int i = 0; i <= 5; i++) {
      ticks[i] = minX + (maxX - minX) * i / 5;
    }
    return ticks;
  }

  /** A setting's tick label: at most two decimals, trailing zeros dropped (quantum 8, C 0.8, load 1.25). */
  static String fmtSetting(double v) {
    return java.math.BigDecimal.valueOf(v).setScale(2, java.math.RoundingMode.HALF_UP).stripTrailingZeros()
        .toPlainString();
  }

  private static String fmt(double v) {
    return Math.abs(v) >= 100 ? String.format(Locale.ROOT, "%.0f", v)
        : Math.abs(v) >= 0.01 || v == 0 ? String.format(Locale.ROOT, "%.2f", v) : String.format(Locale.ROOT, "%.3f", v);
  }
}
