package dev.tinygrad4j.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tinygrad4j.Tensor;
import dev.tinygrad4j.codegen.Codegen;
import dev.tinygrad4j.codegen.Target;
import dev.tinygrad4j.engine.Schedule;
import dev.tinygrad4j.renderer.Cuda;
import dev.tinygrad4j.runtime.Devices;
import dev.tinygrad4j.uop.UOp;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Every kernel of the op suite (forward and backward of each PyTorch reference case), rendered as CUDA C++ with the
 * opts a GPU gets (work-groups, shared-memory reductions), must be accepted by {@code nvcc -ptx -arch=sm_90}. No GPU is needed; the test is
 * skipped, saying so, where nvcc is absent.
 */
class CudaRenderTest {
  static final Path NVCC = Path.of(System.getenv().getOrDefault("NVCC", "/usr/local/bin/nvcc"));

  @Test void everyOpSuiteKernelCompilesToPtx() throws Exception {
    Assumptions.assumeTrue(System.getenv("DEV") == null, "rendering does not depend on the device: checked once, in the default execution");
    Assumptions.assumeTrue(Files.isExecutable(NVCC), "nvcc not found at " + NVCC + " (set NVCC=...): CUDA rendering not checked");
    var seen = Collections.newSetFromMap(new IdentityHashMap<UOp, Boolean>());
    var src = new StringBuilder();
    var cuda = new Target("CUDA", java.util.EnumSet.allOf(dev.tinygrad4j.uop.Ops.class), List.of(), java.util.Set.of(), 1024, 1, Target.Memory.DEVICE, new Cuda());
    var rootSets = new ArrayList<List<UOp>>();
    // sizes the reference cases do not reach: long reductions shared by a block, register-tiled matmul, padded grids
    for (var t : List.of(Tensor.rand(1 << 16).sum(), Tensor.rand(64, 4096).max(1), Tensor.rand(3, 1008).mean(1),
        Tensor.rand(256, 256).matmul(Tensor.rand(256, 256)), Tensor.rand(100_003).exp())) rootSets.add(List.of(t.uop()));
    for (var c : ReferenceData.load()) {
      var f = OpReferenceTest.OPS.get(c.name());
      var inputs = new Tensor[c.inputs().size()];
      for (int i = 0; i < inputs.length; i++) {
        inputs[i] = OpReferenceTest.build(c.inputs().get(i).data());
        if (c.hasGrads() && c.inputs().get(i).grad()) inputs[i].requiresGrad(true);
      }
      var out = f.apply(inputs);
      var roots = new ArrayList<>(List.of(out.uop()));
      if (c.hasGrads() && out.requiresGrad()) {
        out.sum().backward();
        for (var t : inputs) if (t.grad() != null) roots.add(t.grad().uop());
      }
      rootSets.add(roots);
    }
    int kernels = 0;
    for (var roots : rootSets) {
      var devices = roots.stream().map(r -> Devices.get(Devices.defaultName())).toList();
      for (var item : Schedule.create(roots, devices).items()) {
        if (!(item instanceof Schedule.Kernel k) || !seen.add(k.ast())) continue;
        var text = Codegen.compile(k.name() + "_" + kernels++, k.ast(), cuda).source().toString();
        src.append(src.isEmpty() ? text : text.substring(text.indexOf("extern \"C\""))).append('\n');
      }
    }
    var dir = Files.createTempDirectory("tg4j-cuda");
    var cu = dir.resolve("opsuite.cu");
    Files.writeString(cu, src);
    var p = new ProcessBuilder(NVCC.toString(), "-ptx", "-arch=sm_90", "-o", dir.resolve("opsuite.ptx").toString(), cu.toString())
        .redirectErrorStream(true).start();
    var log = new String(p.getInputStream().readAllBytes());
    assertEquals(0, p.waitFor(), () -> "nvcc rejected the op suite's kernels (" + cu + "):\n" + log);
    assertTrue(kernels > 200, "the op suite has hundreds of kernels, rendered " + kernels);
    assertTrue(src.indexOf("__syncthreads()") > 0 && src.indexOf("__shared__") > 0 && src.indexOf("blockIdx.x") > 0, "shared-memory reductions and blocks were rendered");
    assertTrue(Files.readString(dir.resolve("opsuite.ptx")).contains(".entry"), "PTX with kernel entries");
  }
}
