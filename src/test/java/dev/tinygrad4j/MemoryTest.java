package dev.tinygrad4j;

import dev.tinygrad4j.runtime.Buffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** Buffers are freed once nothing refers to them: a loop that makes and drops tensors keeps memory flat. */
class MemoryTest {
  @Test void tenThousandIterationsKeepMemoryFlat() throws InterruptedException {
    var w = Tensor.of(new float[]{1, 2, 3, 4}).realize();
    settle(Long.MAX_VALUE);
    long baseCount = Buffer.liveCount(), baseBytes = Buffer.liveBytes();
    float total = 0;
    for (int i = 0; i < 10_000; i++) {
      var x = Tensor.of(new float[]{i, 1, 2, 3});
      var y = x.mul(w).add(1).realize();
      if (i % 1000 == 0) total += y.sum().item();
    }
    assertTrue(total > 0);
    settle(baseCount);
    assertEquals(baseCount, Buffer.liveCount(), "live buffers after the loop");
    assertEquals(baseBytes, Buffer.liveBytes(), "live bytes after the loop");
    assertEquals(10, w.sum().item()); // the tensor still referenced is intact
  }

  /** Collects garbage until at most target buffers are live (or a few seconds pass). */
  private static void settle(long target) throws InterruptedException {
    long prev = -1;
    for (int i = 0; i < 200 && Buffer.liveCount() > target; i++) {
      System.gc();
      Thread.sleep(20);
      Tensor.zeros(1).add(0).realize(); // touches the caches, so they drop entries whose keys were collected
      if (target == Long.MAX_VALUE && Buffer.liveCount() == prev) break;
      prev = Buffer.liveCount();
    }
    if (target == Long.MAX_VALUE) for (int i = 0; i < 5; i++) { System.gc(); Thread.sleep(20); Tensor.zeros(1).add(0).realize(); }
  }
}
