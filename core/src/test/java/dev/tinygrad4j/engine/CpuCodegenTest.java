package dev.tinygrad4j.engine;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.Flags;
import dev.tinygrad4j.Tensor;
import dev.tinygrad4j.codegen.Codegen;
import dev.tinygrad4j.codegen.Optimizer;
import dev.tinygrad4j.runtime.Buffer;
import dev.tinygrad4j.runtime.CpuDevice;
import dev.tinygrad4j.runtime.Devices;
import dev.tinygrad4j.uop.Ops;
import dev.tinygrad4j.uop.UOp;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The C the CPU device generates: warning-free, cached on disk, and never run with an index outside a buffer. */
class CpuCodegenTest {
  @BeforeAll static void needsCompiler() {
    Assumptions.assumeTrue(Devices.available().contains("CPU"), "no C compiler here");
  }

  private static List<Schedule.Kernel> kernels(Tensor t) {
    var plan = Schedule.create(List.of(t.uop()), List.of(Devices.get("CPU")));
    return plan.items().stream().map(i -> (Schedule.Kernel) i).toList();
  }

  @Test void generatedCCompilesWithoutWarnings() throws Exception {
    var cpu = (CpuDevice) Devices.get("CPU");
    var a = Tensor.rand(16, 32).to("CPU").realize(); var b = Tensor.rand(32, 16).to("CPU").realize();
    var graphs = List.of(a.matmul(b).relu(), a.softmax(1), a.cast(DType.FLOAT16).exp().cast(DType.BFLOAT16),
        Tensor.rand(2, 3, 8, 8).to("CPU").conv2d(Tensor.rand(4, 3, 3, 3).to("CPU"), null, 1, 1, 1, 1).maxPool2d(2, 2),
        a.argmax(1), Tensor.randint(0, 9, 100).to("CPU").cast(DType.INT8).mul(3).cast(DType.UINT64));
    for (var g : graphs) for (var k : kernels(g)) {
      var spec = Codegen.compile(k.name(), k.ast(), cpu.target(), Optimizer.heuristic(Codegen.simplify(k.ast()), 2, 16));
      var dir = Files.createTempDirectory("tg4j-wall");
      var c = dir.resolve("k.c");
      Files.writeString(c, spec.source().toString());
      var cmd = new ArrayList<>(List.of(CpuDevice.compiler(), "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter"));
      cmd.addAll(List.of("-O2", "-fPIC", "-shared", "-o", dir.resolve("k.so").toString(), c.toString()));
      var p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      var out = new String(p.getInputStream().readAllBytes());
      assertEquals(0, p.waitFor(), () -> "warnings for " + k.name() + ":\n" + out);
    }
  }

  @Test void registerTilesAreVectorCodeAtEveryWidth() {
    var a = Tensor.rand(64, 48).to("CPU").realize(); var b = Tensor.rand(48, 64).to("CPU").realize();
    var k = kernels(a.matmul(b)).getFirst();
    var expected = a.to("INTERP").matmul(b.to("INTERP")).toFloatArray();
    for (int lanes : new int[]{1, 8, 16}) {
      Flags.set("CPU_LANES", lanes);
      try {
        var cpu = new CpuDevice();
        var spec = Codegen.compile(k.name() + "_l" + lanes, k.ast(), cpu.target(), Optimizer.heuristic(Codegen.simplify(k.ast()), 1, 16));
        var src = spec.source().toString();
        if (lanes > 1) {
          assertTrue(src.contains("fma" + lanes + "("), () -> "the tile's products are " + lanes + "-lane vector fmas:\n" + src);
          assertFalse(src.contains("acc0["), () -> "the tile's accumulators are vector variables, not an array:\n" + src);
        } else {
          assertFalse(src.contains("fma8(") || src.contains("fma16("), "lanes 1: scalar code");
        }
        var out = new Buffer(cpu, DType.FLOAT32, 64 * 64);
        var bufs = List.of(out, k.bufs().get(1), k.bufs().get(2));
        Runner.launch(new Runner.Compiled(spec, cpu.compile(spec)), bufs);
        float[] got;
        try (var arena = java.lang.foreign.Arena.ofConfined()) { got = out.copyOut(arena.allocate(out.nbytes())).toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT); }
        assertArrayEquals(expected, got, 1e-4f, "lanes " + lanes);
      } finally {
        Flags.set("CPU_LANES", null);
      }
    }
  }

  @Test void compileCacheHitsOnSecondRun() {
    var x = Tensor.rand(7).to("CPU").realize();
    var k = kernels(x.mul(1234.5678 + Math.random())).getFirst();
    // a source never compiled before, also by earlier runs (the disk cache outlives them; a float32 constant near 1234
    // has only ~8000 values): a name of its own
    var spec = Codegen.compile(k.name() + "_" + Long.toHexString(System.nanoTime() ^ new java.util.Random().nextLong() >>> 1), k.ast(), new CpuDevice().target());
    int before = CpuDevice.compiles();
    new CpuDevice().compile(spec);
    assertEquals(before + 1, CpuDevice.compiles());
    new CpuDevice().compile(spec); // a fresh device, as in a new process: the disk cache answers
    assertEquals(before + 1, CpuDevice.compiles());
  }

  private static Schedule.Kernel storeAt(UOp index, long size) {
    var buf = new Buffer(Devices.get("CPU"), DType.FLOAT32, size).copyIn(java.lang.foreign.MemorySegment.ofArray(new float[(int) size]));
    var out = UOp.of(Ops.DEFINE_GLOBAL, DType.FLOAT32, 0);
    var ast = UOp.of(Ops.SINK, DType.BOOL, null, UOp.of(Ops.STORE, DType.BOOL, null, out, index, UOp.cnst(DType.FLOAT32, 1.0)));
    return new Schedule.Kernel("bad", ast, List.of(buf));
  }

  private static float[] contents(Schedule.Kernel k) {
    try (var arena = java.lang.foreign.Arena.ofConfined()) {
      var b = k.bufs().getFirst();
      return b.copyOut(arena.allocate(b.nbytes())).toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT);
    }
  }

  @Test void outOfRangeIndexThrowsBeforeAnyNativeCode() {
    var r = UOp.range(10, 0, UOp.AxisType.LOOP);
    var tooHigh = storeAt(r.add(5), 10);
    var high = assertThrows(IllegalStateException.class, () -> Runner.run(tooHigh));
    assertTrue(high.getMessage().contains("15 elements"), high.getMessage());
    assertArrayEquals(new float[10], contents(tooHigh), "the kernel must not have run");
    var negative = storeAt(r.add(-1), 10);
    var low = assertThrows(IllegalStateException.class, () -> Runner.run(negative));
    assertTrue(low.getMessage().contains("-1"), low.getMessage());
    assertArrayEquals(new float[10], contents(negative));
    var fine = storeAt(r, 10);
    Runner.run(fine);
    assertArrayEquals(new float[]{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, contents(fine));
  }
}
