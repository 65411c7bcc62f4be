package dev.tinygrad4j.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tinygrad4j.Tensor;
import dev.tinygrad4j.runtime.Devices;
import org.junit.jupiter.api.Test;

/**
 * The CUDA device where a driver is installed (a small computation against the interpreter); elsewhere, asking for
 * it is a clear error that leaves the program usable, and it is not listed as available.
 */
class CudaDeviceTest {
  @Test void runsOrSaysWhyNot() {
    if (Devices.available().contains("CUDA")) {
      var a = Tensor.rand(64, 300).realize(); var b = Tensor.rand(300, 96).realize();
      var want = a.to("INTERP").matmul(b.to("INTERP")).exp2().toFloatArray();
      assertArrayEquals(want, a.to("CUDA").matmul(b.to("CUDA")).exp2().toFloatArray(), 1e-3f);
      return;
    }
    var e = assertThrows(IllegalStateException.class, () -> Devices.get("CUDA"));
    assertTrue(e.getMessage().startsWith("CUDA: ") && e.getMessage().contains("not found"), e.getMessage());
    assertFalse(Devices.available().contains("CUDA"));
    assertArrayEquals(new float[]{2, 4}, Tensor.of(new float[]{1, 2}).mul(2).toFloatArray(), "the program goes on");
  }
}
