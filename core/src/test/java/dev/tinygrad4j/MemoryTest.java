package dev.tinygrad4j;

import dev.tinygrad4j.engine.Schedule;
import dev.tinygrad4j.runtime.Buffer;
import dev.tinygrad4j.uop.UOp;
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
    // other tests' garbage may be collected meanwhile, so the level can only be checked from above
    assertTrue(Buffer.liveCount() <= baseCount, () -> "live buffers after the loop: " + Buffer.liveCount() + " > " + baseCount);
    assertTrue(Buffer.liveBytes() <= baseBytes, () -> "live bytes after the loop: " + Buffer.liveBytes() + " > " + baseBytes);
    assertEquals(10, w.sum().item()); // the tensor still referenced is intact
  }

  @Test void trainingStepsKeepMemoryFlat() throws InterruptedException {
    var w = Tensor.of(new float[]{0.5f, -0.5f, 0.25f}).realize().requiresGrad(true);
    settle(Long.MAX_VALUE);
    long baseCount = Buffer.liveCount();
    for (int i = 0; i < 2_000; i++) {
      var x = Tensor.of(new float[]{i % 7, 1, 2});
      var loss = x.mul(w).sigmoid().sum();
      loss.backward();
      var g = w.grad().realize();
      w.setGrad(null);
      assertEquals(3, g.numel());
    }
    settle(baseCount);
    assertTrue(Buffer.liveCount() <= baseCount, () -> "live buffers after training steps: " + Buffer.liveCount() + " > " + baseCount);
  }

  /** Collects garbage until at most target buffers are live (or a few seconds pass). */
  private static void settle(long target) throws InterruptedException {
    long prev = -1;
    for (int i = 0; i < 200 && Buffer.liveCount() > target; i++) {
      System.gc();
      Thread.sleep(20);
      Schedule.realized(UOp.idx(0), dev.tinygrad4j.runtime.Devices.get(dev.tinygrad4j.runtime.Devices.defaultName())); // touches the caches, so they drop entries whose keys were collected
      if (target == Long.MAX_VALUE && Buffer.liveCount() == prev) break;
      prev = Buffer.liveCount();
    }
    if (target == Long.MAX_VALUE) for (int i = 0; i < 5; i++) { System.gc(); Thread.sleep(20); Schedule.realized(UOp.idx(0), dev.tinygrad4j.runtime.Devices.get(dev.tinygrad4j.runtime.Devices.defaultName())); }
  }
}
