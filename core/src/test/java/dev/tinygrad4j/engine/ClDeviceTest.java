package dev.tinygrad4j.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tinygrad4j.Tensor;
import dev.tinygrad4j.codegen.Codegen;
import dev.tinygrad4j.codegen.Optimizer;
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
    var spec = Codegen.compile("not-an-identifier", k.ast(), cl.target());
    var e = assertThrows(IllegalStateException.class, () -> cl.compile(spec));
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

  /** The GPU opts of the kernel computing t on CL. */
  private static List<Optimizer.Opt> gpuOpts(Tensor t) {
    var k = (Schedule.Kernel) Schedule.create(List.of(t.uop()), List.of(Devices.get("CL"))).items().getLast();
    return Codegen.heuristic(Codegen.simplify(k.ast()), Devices.get("CL").target());
  }

  @Test void longReductionsAreSharedByTheWorkItemsOfAGroup() {
    var cl = (ClDevice) Devices.get("CL");
    var x = Tensor.rand(1 << 20).realize();
    var sum = x.to("CL").sum();
    var opts = gpuOpts(sum);
    assertTrue(opts.stream().anyMatch(o -> o.op() == Optimizer.OptOp.GROUP), opts::toString);
    var k = (Schedule.Kernel) Schedule.create(List.of(sum.uop()), List.of(cl)).items().getLast();
    var src = Codegen.compile("s", k.ast(), cl.target(), opts).source().toString();
    assertTrue(src.contains("__local float") && src.contains("barrier(CLK_LOCAL_MEM_FENCE)") && src.contains("get_local_id(0)"), src);
    double want = 0;
    for (float v : x.toFloatArray()) want += v;
    assertEquals(want, sum.item(), want * 1e-5);
    // rows of a matrix: one work-group per row; max, an odd row length, a mean over 16 work-items each
    var m = Tensor.rand(64, 4096).sub(0.5).realize();
    assertArrayEquals(m.to("INTERP").sum(1).toFloatArray(), m.to("CL").sum(1).toFloatArray(), 1e-3f);
    assertArrayEquals(m.to("INTERP").max(1).toFloatArray(), m.to("CL").max(1).toFloatArray(), 0f);
    var odd = Tensor.rand(3, 1008).realize();
    assertTrue(gpuOpts(odd.to("CL").mean(1)).contains(new Optimizer.Opt(Optimizer.OptOp.GROUP, 0, 16)), () -> gpuOpts(odd.to("CL").mean(1)).toString());
    assertArrayEquals(odd.to("INTERP").mean(1).toFloatArray(), odd.to("CL").mean(1).toFloatArray(), 1e-5f);
  }

  @Test void outputsRunAsWorkGroupsOfWorkItems() {
    var a = Tensor.rand(256, 256).realize(); var b = Tensor.rand(256, 256).realize();
    var mm = a.to("CL").matmul(b.to("CL"));
    var opts = gpuOpts(mm);
    assertTrue(opts.contains(new Optimizer.Opt(Optimizer.OptOp.UPCAST, 0, 4)) && opts.stream().anyMatch(o -> o.op() == Optimizer.OptOp.LOCAL), opts::toString);
    assertArrayEquals(a.to("INTERP").matmul(b.to("INTERP")).toFloatArray(), mm.toFloatArray(), 1e-4f);
    var v = Tensor.rand(1_000_003).realize(); // padded to whole work-groups; the extra work-items store nothing
    assertTrue(gpuOpts(v.to("CL").exp()).stream().anyMatch(o -> o.op() == Optimizer.OptOp.PADTO), () -> gpuOpts(v.to("CL").exp()).toString());
    assertArrayEquals(v.to("INTERP").exp().toFloatArray(), v.to("CL").exp().toFloatArray(), 1e-6f);
  }

  @Test void describesTheDevice() {
    assertTrue(((ClDevice) Devices.get("CL")).describe().matches(".+, \\d+ MiB"));
  }
}
