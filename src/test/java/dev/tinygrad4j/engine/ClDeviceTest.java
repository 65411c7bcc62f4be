package dev.tinygrad4j.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tinygrad4j.Tensor;
import dev.tinygrad4j.codegen.Linearizer;
import dev.tinygrad4j.runtime.ClDevice;
import dev.tinygrad4j.runtime.Devices;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The OpenCL device beyond the shared suite: build errors, copies, and a kernel split into work-items. */
class ClDeviceTest {
  @BeforeAll static void needsOpenCl() {
    if (!"true".equals(System.getenv("CI")))
      Assumptions.assumeTrue(Devices.available().contains("CL"), "no OpenCL driver here (apt-get install pocl-opencl-icd)");
  }

  @Test void buildErrorsShowTheLogAndTheSource() {
    var cl = (ClDevice) Devices.get("CL");
    var x = Tensor.rand(8).to("CL").realize();
    var k = (Schedule.Kernel) Schedule.create(List.of(x.mul(3).uop()), List.of(cl)).items().getFirst();
    var e = assertThrows(IllegalStateException.class, () -> cl.compile("not-an-identifier", Linearizer.linearize(k.ast(), cl.ops())));
    assertTrue(e.getMessage().contains("build of kernel not-an-identifier failed"), e.getMessage());
    assertTrue(e.getMessage().contains("__kernel void not-an-identifier("), "the source follows the log: " + e.getMessage());
  }

  @Test void largeKernelsRunAsWorkItemsAndMatchTheInterpreter() {
    var a = Tensor.rand(300, 400).realize();
    var b = Tensor.rand(400, 96).realize();
    var want = a.to("INTERP").matmul(b.to("INTERP")).relu().toFloatArray();
    var got = a.to("CL").matmul(b.to("CL")).relu().toFloatArray();
    assertArrayEquals(want, got, 1e-4f);
  }

  @Test void describesTheDevice() {
    assertTrue(((ClDevice) Devices.get("CL")).describe().matches(".+, \\d+ MiB"));
  }
}
