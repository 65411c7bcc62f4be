package dev.tinygrad4j.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.tinygrad4j.Tensor;
import dev.tinygrad4j.engine.Schedule;
import dev.tinygrad4j.runtime.Devices;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Large matmuls (the right operand is copied into 32-column panels first, and the kernel is register-tiled) against
 * a float64 loop, with shapes that exercise the panel path, its edges and the path without panels.
 */
class MatmulTest {
  static float[] random(int n, long seed) {
    var r = new Random(seed);
    var v = new float[n];
    for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
    return v;
  }

  static void check(int m, int k, int n) {
    var a = random(m * k, m + k);
    var b = random(k * n, k + n);
    var got = Tensor.of(a).reshape(m, k).matmul(Tensor.of(b).reshape(k, n)).toFloatArray();
    for (int i = 0; i < m; i++)
      for (int j = 0; j < n; j++) {
        double want = 0, mag = 0;
        for (int p = 0; p < k; p++) { want += (double) a[i * k + p] * b[p * n + j]; mag += Math.abs((double) a[i * k + p] * b[p * n + j]); }
        if (Math.abs(got[i * n + j] - want) > 1e-6 * mag + 1e-5)
          fail(m + "x" + k + "·" + k + "x" + n + " at [" + i + "][" + j + "]: expected " + want + ", got " + got[i * n + j]);
      }
  }

  @Test void panelsGiveTheSameProduct() {
    check(40, 256, 96);   // panels: 3 of 32 columns
    check(17, 128, 64);   // the smallest shape with panels, odd rows
    check(33, 200, 70);   // no panels (70 columns), a tile with no divisor
  }

  @Test void largeRightOperandsAreCopiedIntoPanels() {
    var a = Tensor.rand(16, 256).realize();
    boolean gpu = Devices.get(a.device()).target().gpu(); // work-items of a GPU read B's rows side by side: no panels
    var stored = Tensor.rand(256, 64).realize();
    assertEquals(gpu ? 1 : 2, kernels(() -> a.matmul(stored).realize()), gpu ? "no panel copy on a GPU" : "a panel copy, then the matmul");
    var a2 = Tensor.rand(16, 256).realize();
    assertEquals(1, kernels(() -> a2.matmul(stored).realize()), "a stored matrix's panels are kept: only the matmul");
    var computed = Tensor.rand(256, 64).realize().add(1);
    assertEquals(gpu ? 1 : 2, kernels(() -> a.matmul(computed).realize()), "a computed operand: computed into panels, then multiplied");
    var narrow = Tensor.rand(256, 48).realize();
    assertEquals(1, kernels(() -> a.matmul(narrow).realize()), "48 columns: no panels");
  }

  private static long kernels(Runnable r) {
    long before = dev.tinygrad4j.engine.Runner.kernelsRun();
    r.run();
    return dev.tinygrad4j.engine.Runner.kernelsRun() - before;
  }

}
