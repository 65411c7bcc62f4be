package dev.tinygrad4j.runtime;

import dev.tinygrad4j.Flags;
import dev.tinygrad4j.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A result larger than the memory there is fails with an exception before anything runs (touching the pages would
 * bring the kernel's OOM killer instead), and the program goes on. CPU_MEMORY_MB stands in for a small machine.
 */
class CpuMemoryTest {
  @Test void aBufferLargerThanTheMemoryThereIsIsAnError() {
    assumeTrue(Devices.defaultName().equals("CPU"), "the CPU device's allocator");
    var before = Flags.get("CPU_MEMORY_MB");
    Flags.set("CPU_MEMORY_MB", 256);
    try {
      var x = Tensor.ones(96 << 20); // 384 MB as float32: more than 256 MB
      var e = assertThrows(IllegalStateException.class, () -> x.add(1).realize());
      assertTrue(e.getMessage().contains("100663296 float32") && e.getMessage().contains("CPU_MEMORY_MB"), e.getMessage());
      assertEquals(3, Tensor.ones(16 << 20).add(2).max().item(), "64 MB still fits, and the program goes on");
    } finally {
      Flags.set("CPU_MEMORY_MB", before);
    }
  }
}
