package dev.tinygrad4j.engine;

import dev.tinygrad4j.Tensor;
import org.junit.jupiter.api.Test;

import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.*;

/** How many kernels a graph schedules into: fusion is a feature, so its counts are asserted. */
class FusionTest {
  private static Tensor rnd(int... shape) { return Tensor.rand(shape).realize(); }

  private static long kernels(Supplier<Tensor> f) {
    var t = f.get();
    long before = Runner.kernelsRun();
    t.realize();
    return Runner.kernelsRun() - before;
  }

  @Test void elementwiseIntoReduceIsOneKernel() {
    var a = rnd(4, 5); var b = rnd(4, 5); var c = rnd(4, 5);
    assertEquals(1, kernels(() -> a.add(b).mul(c).sum(1)));
    var expect = new float[4];
    var av = a.toFloatArray(); var bv = b.toFloatArray(); var cv = c.toFloatArray();
    for (int i = 0; i < 20; i++) expect[i / 5] += (av[i] + bv[i]) * cv[i];
    assertArrayEquals(expect, a.add(b).mul(c).sum(1).toFloatArray(), 1e-5f);
  }

  @Test void reduceOverPermutedViewMakesNoCopy() {
    var x = rnd(3, 7);
    assertEquals(1, kernels(() -> x.permute(1, 0).sum()));
    assertEquals(1, kernels(() -> x.transpose(0, 1).reshape(21).flip(0).sum(0)));
  }

  @Test void longElementwiseChainIsOneKernel() {
    var x = rnd(16);
    assertEquals(1, kernels(() -> x.add(1).mul(2).exp().sqrt().sub(x).relu().neg().abs().sigmoid()));
  }

  @Test void matmulIsOneKernel() {
    var a = rnd(8, 6); var b = rnd(6, 5);
    assertEquals(1, kernels(() -> a.matmul(b)));
  }

  @Test void nestedReductionsFuse() {
    var x = rnd(4, 6);
    assertEquals(1, kernels(() -> x.sum(1).sum(0)));
  }

  @Test void broadcastReductionGetsItsOwnKernel() {
    var x = rnd(4, 6);
    // max and sum are broadcast back over the row: each is computed once into a buffer; softmax also keeps its
    // exponentials (read by the sum and the output: exp is the costly part); then the output kernel
    assertEquals(4, kernels(() -> x.softmax(1)));
    assertEquals(2, kernels(() -> x.sub(x.mean(1, true))));
  }

  @Test void realizedTensorsAreNotRecomputed() {
    var x = rnd(5);
    var y = x.exp().realize();
    assertEquals(0, kernels(() -> y));
    assertEquals(0, kernels(() -> y.reshape(5, 1).reshape(1, 5))); // a reshape of a whole buffer is a view
    assertEquals(1, kernels(() -> y.reshape(5, 1).transpose(0, 1).reshape(5).flip(0)));
    assertEquals(1, kernels(() -> y.add(1)));
  }

  @Test void sharedReductionIsComputedOnce() {
    var x = rnd(6, 3);
    var s = x.sum(1);
    var a = s.mul(2); var b = s.add(1);
    long before = Runner.kernelsRun();
    Tensor.realizeAll(a, b);
    assertEquals(3, Runner.kernelsRun() - before); // s once, then a and b
    assertArrayEquals(s.mul(2).toFloatArray(), a.toFloatArray(), 1e-6f);
  }
}
