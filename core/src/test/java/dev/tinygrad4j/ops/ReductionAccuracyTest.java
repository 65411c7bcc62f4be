package dev.tinygrad4j.ops;

import dev.tinygrad4j.Tensor;
import dev.tinygrad4j.runtime.Devices;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Long sums stay accurate against float64 whatever their shape (a float32 sum in one loop stops growing at 2^24
 * and drifts as the square root of its length), on every device.
 */
class ReductionAccuracyTest {
  /** The reference interpreter gets a quarter of the sizes (it runs every op one by one). */
  private static final boolean SLOW = Devices.defaultName().equals("INTERP");

  private static void assertRelative(double want, double got, double rtol, String what) {
    assertTrue(Math.abs(got - want) <= rtol * Math.abs(want), what + ": " + got + " against float64's " + want + " (relative error "
        + Math.abs(got - want) / Math.abs(want) + ")");
  }

  @Test void sumsPast2To24() {
    int rows = SLOW ? 4096 : 8192;
    assertEquals((double) rows * 8192, Tensor.ones(rows, 8192).sum().item(), "every one counts");
    assertEquals((double) rows * 8192, Tensor.ones(rows * 8192).sum().item());
    assertEquals(0.5, Tensor.full(0.5, rows, 8192).mean().item());
  }

  @Test void randomSumsAgainstFloat64() {
    Tensor.manualSeed(11);
    int rows = SLOW ? 1024 : 4096;
    var x = Tensor.rand(rows, 4096).realize();
    var v = x.toFloatArray();
    double want = 0;
    for (float f : v) want += f;
    assertRelative(want, x.sum().item(), 1e-6, "sum of " + v.length);
    assertRelative(want / v.length, x.mean().item(), 1e-6, "mean of " + v.length);
    assertRelative(want, x.sum(1).sum().item(), 1e-6, "sum of row sums");
    assertRelative(want, x.permute(1, 0).sum().item(), 1e-6, "sum over a transposed view");
  }

  @Test void longRowsWithManyOutputs() {
    Tensor.manualSeed(12);
    int n = SLOW ? 20000 : 100003; // prime: the partial sums pad the range
    var x = Tensor.rand(100, n).realize();
    var v = x.toFloatArray();
    var got = x.sum(1).toFloatArray();
    for (int i = 0; i < 100; i++) {
      double want = 0;
      for (int j = 0; j < n; j++) want += v[i * n + j];
      assertRelative(want, got[i], 1e-6, "row " + i);
    }
  }

  @Test void manyOutputsOverSeveralAxes() { // a conv weight gradient's shape: a batch and positions reduced per output
    Tensor.manualSeed(14);
    int batch = SLOW ? 64 : 256;
    var x = Tensor.rand(batch, 70, 400).realize();
    var v = x.toFloatArray();
    var got = x.sum(new int[]{0, 2}).toFloatArray();
    for (int j = 0; j < 70; j++) {
      double want = 0;
      for (int i = 0; i < batch; i++) for (int k = 0; k < 400; k++) want += v[(i * 70 + j) * 400 + k];
      assertRelative(want, got[j], 1e-6, "sum over batch and positions at " + j);
    }
  }

  @Test void constantsAreReducedWithoutAddingThemUp() { // 2^40 ones: no device adds them one by one (the interpreter neither)
    assertEquals(0x1p40, Tensor.ones(1 << 20, 1 << 20).sum().item());
    assertEquals((float) (1e6 * (double) 0.1f), Tensor.full(0.1, 1000, 1000).sum().item(), "0.1f a million times, rounded once");
    assertArrayEquals(new float[]{6, 6}, Tensor.full(2, 2, 3).sum(1).toFloatArray());
    assertArrayEquals(new int[]{2, 1, 1}, Tensor.full(2, 2, 3, 5).max(true, 1, 2).shape());
    assertEquals(7, Tensor.full(7, 1 << 16, 1 << 16).max().item());
    var big = Tensor.full(3_000_000_000.0, 4).cast(dev.tinygrad4j.DType.INT64).reshape(2, 2, 1).expand(2, 2, 1 << 20).sum();
    assertArrayEquals(new long[]{3_000_000_000L * 4 * (1 << 20)}, big.toLongArray(), "int64, past 2^53");
    var w = Tensor.ones(3, 4).requiresGrad(true); // a constant that wants gradients stays a reduction: its gradient is ones
    w.sum().backward();
    assertArrayEquals(new float[]{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, w.grad().toFloatArray());
  }

  /** Sums to few values (per-channel statistics) whose trailing reduced dims are and are not rows of 8 or 16. */
  @Test void fewOutputsOverOddAndEvenRows() {
    Tensor.manualSeed(15);
    for (var shape : new int[][]{{4099, 1}, {12, 3, 1031}, {6, 32, 19, 19}, {64, 32, 20, 20}, {16, 24, 8, 8}}) {
      var x = Tensor.rand(shape).realize();
      var v = x.toFloatArray();
      int c = shape[1], inner = 1;
      for (int i = 2; i < shape.length; i++) inner *= shape[i];
      var axes = java.util.stream.IntStream.range(0, shape.length).filter(i -> i != 1).toArray();
      var got = x.sum(axes).toFloatArray();
      for (int j = 0; j < c; j++) {
        double want = 0;
        for (int n = 0; n < shape[0]; n++) for (int k = 0; k < inner; k++) want += v[(n * c + j) * inner + k];
        assertRelative(want, got[j], 1e-5, java.util.Arrays.toString(shape) + " summed to channel " + j); // a dropped row would be off by 1e-3 or more
      }
    }
  }

  @Test void severalAxesAtOnce() {
    Tensor.manualSeed(13);
    var x = Tensor.rand(8, 64, 4096).realize();
    var v = x.toFloatArray();
    var got = x.sum(new int[]{0, 2}).toFloatArray();
    for (int j = 0; j < 64; j++) {
      double want = 0;
      for (int i = 0; i < 8; i++) for (int k = 0; k < 4096; k++) want += v[(i * 64 + j) * 4096 + k];
      assertRelative(want, got[j], 1e-6, "sum over dims 0 and 2 at " + j);
    }
    var max = x.max(new int[]{0, 2}).toFloatArray();
    for (int j = 0; j < 64; j++) {
      float want = Float.NEGATIVE_INFINITY;
      for (int i = 0; i < 8; i++) for (int k = 0; k < 4096; k++) want = Math.max(want, v[(i * 64 + j) * 4096 + k]);
      assertEquals(want, max[j], "max over dims 0 and 2 at " + j);
    }
  }
}
