package dev.tinygrad4j.ops;

import static org.junit.jupiter.api.Assertions.fail;

import dev.tinygrad4j.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Convolutions whose output rows are 5, 6, 7, 10, 20 and 24 wide, forward and both gradients, against float64 loops.
 * On the CPU these widths are register tiles of mixed vector chunks (20 = 16 + 4, 6 = 4 + 1 + 1), and the weight
 * gradient's tile stores its lanes (input channels) with a stride into the weight layout.
 */
class ConvTilesTest {
  static float[] random(int n, long seed) { return MatmulTest.random(n, seed); }

  static void close(String what, double want, double mag, float got) {
    if (!(Math.abs(got - want) <= 1e-5 * mag + 1e-5)) fail(what + ": expected " + want + ", got " + got);
  }

  @Test void everyRowWidthMatchesFloat64() {
    for (int w : new int[]{5, 6, 7, 10, 20, 24}) check(2, 32, 16, w + 2, 3);
    check(2, 8, 16, 24, 5); // a 5x5 filter: 20-wide rows
  }

  /**
   * Output channels in the vector lanes: rows 12 pixels wide fill 16 lanes badly, so on the CPU the weights are read
   * from a copy with the output channel innermost (made once while the weights stay the same), forward and for the
   * input gradient (whose output channels are the input's).
   */
  @Test void channelsInTheLanes() {
    check(16, 16, 32, 14, 3);
    var w = Tensor.of(random(32 * 16 * 9, 3)).reshape(32, 16, 3, 3).realize();
    var target = dev.tinygrad4j.runtime.Devices.get(w.device()).target();
    boolean copies = !target.gpu() && !target.lanes().isEmpty(); // CPU register tiles over vector lanes
    var x1 = Tensor.of(random(16 * 16 * 196, 4)).reshape(16, 16, 14, 14).realize();
    var x2 = Tensor.of(random(16 * 16 * 196, 5)).reshape(16, 16, 14, 14).realize();
    long k0 = dev.tinygrad4j.engine.Runner.kernelsRun();
    x1.conv2d(w, null, 1, 0, 1, 1).realize();
    long k1 = dev.tinygrad4j.engine.Runner.kernelsRun();
    x2.conv2d(w, null, 1, 0, 1, 1).realize();
    long k2 = dev.tinygrad4j.engine.Runner.kernelsRun();
    if (copies) {
      org.junit.jupiter.api.Assertions.assertEquals(2, k1 - k0, "the weights' copy with channels innermost, then the convolution");
      org.junit.jupiter.api.Assertions.assertEquals(1, k2 - k1, "the copy is kept while the weights stay the same");
    }
  }

  /** Integer images (uint8, int8, int16) converted to float inside the convolution: the vector loads convert them. */
  @Test void integerInputsConvertInsideTheKernel() {
    for (var dt : new dev.tinygrad4j.DType[]{dev.tinygrad4j.DType.UINT8, dev.tinygrad4j.DType.INT8, dev.tinygrad4j.DType.INT16})
      for (int size : new int[]{22, 26}) {
        int n = 2, co = 16, k = 3, o = size - k + 1;
        var r = new Random(size);
        var xs = new int[n * size * size];
        for (int i = 0; i < xs.length; i++) xs[i] = dt == dev.tinygrad4j.DType.UINT8 ? r.nextInt(256) : r.nextInt(256) - 128;
        var ws = random(co * k * k, size + 7);
        var x = Tensor.of(xs).cast(dt).contiguous().realize().reshape(n, 1, size, size);
        var got = x.cast(dev.tinygrad4j.DType.FLOAT32).mul(1 / 255.0).conv2d(Tensor.of(ws).reshape(co, 1, k, k), null, 1, 0, 1, 1).toFloatArray();
        for (int b = 0; b < n; b++)
          for (int c = 0; c < co; c++)
            for (int i = 0; i < o; i++)
              for (int j = 0; j < o; j++) {
                double want = 0, mag = 0;
                for (int p = 0; p < k; p++)
                  for (int q = 0; q < k; q++) {
                    double t = (float) (xs[(b * size + i + p) * size + j + q] * (float) (1 / 255.0)) * (double) ws[(c * k + p) * k + q];
                    want += t; mag += Math.abs(t);
                  }
                int at = ((b * co + c) * o + i) * o + j;
                close(dt + " " + size + "x" + size + " out[" + at + "]", want, mag, got[at]);
              }
      }
  }

  /** out = conv(x, w) valid, loss = sum(out · g): out, dL/dw and dL/dx against float64. */
  static void check(int n, int ci, int co, int size, int k) {
    int o = size - k + 1;
    var xs = random(n * ci * size * size, size);
    var ws = random(co * ci * k * k, size + 1);
    var gs = random(n * co * o * o, size + 2);
    var x = Tensor.of(xs).reshape(n, ci, size, size).requiresGrad(true);
    var w = Tensor.of(ws).reshape(co, ci, k, k).requiresGrad(true);
    var out = x.conv2d(w, null, 1, 0, 1, 1);
    out.mul(Tensor.of(gs).reshape(n, co, o, o)).sum().backward();
    var got = out.toFloatArray();
    var gw = w.grad().toFloatArray();
    var gx = x.grad().toFloatArray();
    var wantGw = new double[ws.length]; var magGw = new double[ws.length];
    var wantGx = new double[xs.length]; var magGx = new double[xs.length];
    var shape = n + "x" + ci + "x" + size + "x" + size + " * " + co + "x" + ci + "x" + k + "x" + k;
    for (int b = 0; b < n; b++)
      for (int c = 0; c < co; c++)
        for (int i = 0; i < o; i++)
          for (int j = 0; j < o; j++) {
            double want = 0, mag = 0;
            int at = ((b * co + c) * o + i) * o + j;
            for (int d = 0; d < ci; d++)
              for (int p = 0; p < k; p++)
                for (int q = 0; q < k; q++) {
                  int xi = ((b * ci + d) * size + i + p) * size + j + q, wi = ((c * ci + d) * k + p) * k + q;
                  double t = (double) xs[xi] * ws[wi];
                  want += t; mag += Math.abs(t);
                  wantGw[wi] += (double) gs[at] * xs[xi]; magGw[wi] += Math.abs((double) gs[at] * xs[xi]);
                  wantGx[xi] += (double) gs[at] * ws[wi]; magGx[xi] += Math.abs((double) gs[at] * ws[wi]);
                }
            close(shape + " out[" + at + "]", want, mag, got[at]);
          }
    for (int i = 0; i < ws.length; i++) close(shape + " dL/dw[" + i + "]", wantGw[i], magGw[i], gw[i]);
    for (int i = 0; i < xs.length; i++) close(shape + " dL/dx[" + i + "]", wantGx[i], magGx[i], gx[i]);
  }
}
