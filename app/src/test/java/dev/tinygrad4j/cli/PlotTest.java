package dev.tinygrad4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.GraphicsEnvironment;
import java.nio.file.Path;
import javax.imageio.ImageIO;

import static org.junit.jupiter.api.Assertions.*;

class PlotTest {
  @TempDir Path dir;

  @Test void writesPng() throws Exception {
    int n = 300;
    double[] loss = new double[n], acc = new double[n];
    for (int i = 0; i < n; i++) {
      loss[i] = 2.3 * Math.exp(-i / 60.0) + 0.05 * Math.sin(i);
      acc[i] = i % 50 == 49 ? 1 - Math.exp(-i / 80.0) : Double.NaN;
    }
    var file = Plot.lossAndAccuracy(dir.resolve("sub/curves.png"), loss, acc, "MNIST training");
    assertTrue(GraphicsEnvironment.isHeadless());
    var img = ImageIO.read(file.toFile());
    assertNotNull(img, "not a readable PNG: " + file);
    assertEquals(900, img.getWidth());
    assertEquals(640, img.getHeight());
    int blue = 0, orange = 0, dark = 0;
    for (int y = 0; y < img.getHeight(); y++)
      for (int x = 0; x < img.getWidth(); x++) {
        int rgb = img.getRGB(x, y) & 0xffffff;
        if (rgb == 0x1f77b4) blue++;
        if (rgb == 0xff7f0e) orange++;
        if (((rgb >> 16) & 0xff) < 80 && ((rgb >> 8) & 0xff) < 80 && (rgb & 0xff) < 80) dark++; // text and ticks
      }
    assertTrue(blue > 300, "loss curve pixels: " + blue);
    assertTrue(orange > 50, "accuracy pixels: " + orange);
    assertTrue(dark > 500, "text pixels: " + dark);
  }

  @Test void emptySeries() throws Exception {
    var file = Plot.lossAndAccuracy(dir.resolve("empty.png"), new double[0], new double[0], "nothing yet");
    assertEquals(900, ImageIO.read(file.toFile()).getWidth());
  }

  @Test void ticks() {
    assertArrayEquals(new double[]{0, 0.2, 0.4, 0.6000000000000001, 0.8, 1}, Plot.ticks(0, 1, 5), 1e-12);
    assertArrayEquals(new double[]{0, 50, 100, 150, 200, 250, 300}, Plot.ticks(0, 300, 8), 1e-9);
    var t = Plot.ticks(0.043, 2.31, 5);
    assertEquals(0, t[0], 1e-12);
    assertTrue(t[t.length - 1] >= 2.31);
    assertEquals("0.5", Plot.label(0.5, 0.5));
    assertEquals("300", Plot.label(300, 50));
    assertEquals("0.04", Plot.label(0.04, 0.02));
    assertEquals("0.0", Plot.label(-1e-17, 0.2));
  }
}
