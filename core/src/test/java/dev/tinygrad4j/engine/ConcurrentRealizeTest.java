package dev.tinygrad4j.engine;

import dev.tinygrad4j.Flags;
import dev.tinygrad4j.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Threads realize at once: results are what one thread gets, a kernel several threads need is compiled once, and a
 * thread waiting for new kernels to compile does not hold up a thread whose kernels are ready.
 */
class ConcurrentRealizeTest {
  /** A few kernels whose code depends on n: x*3+1, its row sums, and a softmax over them. */
  private static Tensor graph(int n) {
    var v = new float[7 * n];
    for (int i = 0; i < v.length; i++) v[i] = (float) (i / (n * 7.0));
    var x = Tensor.of(v).reshape(7, n); // a new buffer each call: the same kernels, run again
    return x.mul(3).add(1).sum(1).softmax(0);
  }

  private static float[] work(int n) { return graph(n).realize().toFloatArray(); }

  private static float[] reference(int n) {
    var sums = new double[7];
    for (int r = 0; r < 7; r++) for (int c = 0; c < n; c++) sums[r] += (float) ((r * n + c) / (n * 7.0)) * 3 + 1;
    double max = java.util.Arrays.stream(sums).max().orElseThrow(), total = 0;
    for (double s : sums) total += Math.exp(s - max);
    var out = new float[7];
    for (int r = 0; r < 7; r++) out[r] = (float) (Math.exp(sums[r] - max) / total);
    return out;
  }

  @Test void threadsShareCompilesAndGetOneThreadsResults() throws Exception {
    long before = Runner.kernelsCompiled();
    assertArrayEquals(reference(301), work(301), 1e-6f);
    long oneThread = Runner.kernelsCompiled() - before;
    assertTrue(oneThread > 0, "a new size compiles new kernels");
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      var start = new CountDownLatch(1);
      var results = new ArrayList<Future<float[]>>();
      for (int t = 0; t < 4; t++) results.add(pool.submit(() -> { start.await(); return work(302); }));
      long mid = Runner.kernelsCompiled();
      start.countDown();
      for (var r : results) assertArrayEquals(reference(302), r.get(120, TimeUnit.SECONDS), 1e-6f);
      assertEquals(oneThread, Runner.kernelsCompiled() - mid, "four threads needing the same new kernels compile each once");
    } finally {
      pool.shutdownNow();
    }
  }

  @Test void aCompileDoesNotHoldUpReadyKernels() throws Exception {
    work(64); // compiled now: later calls only run
    var cache = Flags.get("CACHE");
    Flags.set("CACHE", 0); // the new sizes compile for real even where an earlier run left them on disk
    try {
      // one schedule of 40 new sizes: many kernels compiled at once (a thread that had to wait for them would take as long)
      var slow = new Thread(() -> Tensor.realizeAll(java.util.stream.IntStream.range(401, 441).mapToObj(ConcurrentRealizeTest::graph).toArray(Tensor[]::new)));
      long t0 = System.nanoTime();
      slow.start();
      while (slow.getState() != Thread.State.WAITING && slow.isAlive() && System.nanoTime() - t0 < 10e9) Thread.onSpinWait(); // waiting for its compile
      long t1 = System.nanoTime();
      for (int i = 0; i < 5; i++) assertArrayEquals(reference(64), work(64), 1e-6f);
      long ready = System.nanoTime() - t1;
      slow.join(300_000);
      long rest = System.nanoTime() - t1;
      assertTrue(rest > 2 * ready, "kernels compiled before ran in " + ready / 1e6 + " ms while another thread compiled for " + rest / 1e6 + " ms");
    } finally {
      Flags.set("CACHE", cache);
    }
  }
}
