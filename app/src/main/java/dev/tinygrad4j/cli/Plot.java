package dev.tinygrad4j.cli;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.RenderingHints;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import javax.imageio.ImageIO;

/** Training curves as a PNG, drawn with Java2D in headless mode (no display needed). */
public final class Plot {
  static { System.setProperty("java.awt.headless", "true"); } // before any AWT class loads

  private static final int WIDTH = 900, HEIGHT = 640, LEFT = 70, RIGHT = 25, TOP = 45, GAP = 45, BOTTOM = 45;
  private static final Color LOSS = new Color(0x1f77b4), ACCURACY = new Color(0xff7f0e), GRID = new Color(0xe4e4e4);

  private Plot() {}

  /**
   * Writes two panels sharing the step axis: loss per step on top, accuracy below (NaN where it was not measured;
   * measured points are joined and marked). Returns file.
   *
   * @throws UncheckedIOException when the file cannot be written
   */
  public static Path lossAndAccuracy(Path file, double[] loss, double[] accuracy, String title) {
    var img = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
    var g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, WIDTH, HEIGHT);
    g.setColor(Color.BLACK);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
    g.drawString(title, (WIDTH - g.getFontMetrics().stringWidth(title)) / 2, 28);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    int steps = Math.max(loss.length, accuracy.length), h = (HEIGHT - TOP - GAP - BOTTOM) / 2, w = WIDTH - LEFT - RIGHT;
    panel(g, new Rectangle(LEFT, TOP, w, h), "loss", loss, LOSS, steps, true);
    panel(g, new Rectangle(LEFT, TOP + h + GAP, w, h), "accuracy", accuracy, ACCURACY, steps, false);
    g.setColor(Color.BLACK);
    g.drawString("step", LEFT + w / 2 - 12, HEIGHT - 10);
    g.dispose();
    try {
      if (file.toAbsolutePath().getParent() != null) Files.createDirectories(file.toAbsolutePath().getParent());
      if (!ImageIO.write(img, "png", file.toFile())) throw new IOException("no PNG writer");
    } catch (IOException e) {
      throw new UncheckedIOException("plot: cannot write " + file + ": " + e.getMessage(), e);
    }
    return file;
  }

  /** One panel: frame, grid with tick labels, the series (step i at x = i + 1, NaN skipped), a legend at the top or bottom right. */
  private static void panel(Graphics2D g, Rectangle r, String name, double[] ys, Color color, int steps, boolean legendTop) {
    double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
    int measured = 0;
    for (double y : ys) if (Double.isFinite(y)) { lo = Math.min(lo, y); hi = Math.max(hi, y); measured++; }
    if (measured == 0) { lo = 0; hi = 1; }
    if (lo == hi) { lo -= 0.5; hi += 0.5; }
    double[] xt = ticks(0, Math.max(1, steps), 8), yt = ticks(lo, hi, 5);
    double x0 = xt[0], x1 = xt[xt.length - 1], y0 = yt[0], y1 = yt[yt.length - 1];
    var fm = g.getFontMetrics();
    for (double t : xt) {
      int x = r.x + (int) Math.round((t - x0) / (x1 - x0) * r.width);
      g.setColor(GRID);
      g.drawLine(x, r.y, x, r.y + r.height);
      g.setColor(Color.DARK_GRAY);
      var s = label(t, xt[1] - xt[0]);
      g.drawString(s, x - fm.stringWidth(s) / 2, r.y + r.height + fm.getAscent() + 4);
    }
    for (double t : yt) {
      int y = r.y + r.height - (int) Math.round((t - y0) / (y1 - y0) * r.height);
      g.setColor(GRID);
      g.drawLine(r.x, y, r.x + r.width, y);
      g.setColor(Color.DARK_GRAY);
      var s = label(t, yt[1] - yt[0]);
      g.drawString(s, r.x - fm.stringWidth(s) - 6, y + fm.getAscent() / 2 - 1);
    }
    g.setColor(Color.GRAY);
    g.draw(r);
    var line = new Path2D.Double();
    boolean first = true, marks = measured < ys.length && measured <= 200;
    g.setColor(color);
    g.setStroke(new BasicStroke(1.6f));
    for (int i = 0; i < ys.length; i++) {
      if (!Double.isFinite(ys[i])) continue;
      double x = r.x + (i + 1 - x0) / (x1 - x0) * r.width, y = r.y + r.height - (ys[i] - y0) / (y1 - y0) * r.height;
      if (first) line.moveTo(x, y); else line.lineTo(x, y);
      first = false;
      if (marks) g.fillOval((int) Math.round(x) - 3, (int) Math.round(y) - 3, 7, 7);
    }
    g.draw(line);
    g.setStroke(new BasicStroke(1f));
    int lw = fm.stringWidth(name) + 40, lx = r.x + r.width - lw - 8, ly = legendTop ? r.y + 8 : r.y + r.height - 30;
    g.setColor(Color.WHITE);
    g.fillRect(lx, ly, lw, 22);
    g.setColor(Color.GRAY);
    g.drawRect(lx, ly, lw, 22);
    g.setColor(color);
    g.fillRect(lx + 8, ly + 10, 20, 3);
    g.setColor(Color.BLACK);
    g.drawString(name, lx + 34, ly + 11 + fm.getAscent() / 2 - 1);
  }

  /** Evenly spaced round values (1, 2 or 5 times a power of ten apart) from at or below lo to at or above hi. */
  static double[] ticks(double lo, double hi, int about) {
    double raw = (hi - lo) / about, pow = Math.pow(10, Math.floor(Math.log10(raw))), f = raw / pow;
    double step = (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * pow;
    long a = (long) Math.floor(lo / step + 1e-9), b = (long) Math.ceil(hi / step - 1e-9);
    var t = new double[(int) (b - a + 1)];
    for (int i = 0; i < t.length; i++) t[i] = (a + i) * step;
    return t;
  }

  /** A tick value with as many decimals as the tick step needs. */
  static String label(double v, double step) {
    int decimals = (int) Math.max(0, Math.ceil(-Math.log10(step) - 1e-9));
    return String.format(Locale.ROOT, "%." + decimals + "f", Math.abs(v) < step * 1e-6 ? 0.0 : v);
  }
}
