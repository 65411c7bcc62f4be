package dev.tinygrad4j.engine;

import dev.tinygrad4j.Tensor;
import dev.tinygrad4j.codegen.Codegen;
import dev.tinygrad4j.codegen.Optimizer;
import dev.tinygrad4j.codegen.ProgramSpec;
import dev.tinygrad4j.runtime.Devices;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The JVM renderer: register tiles of float32 run as jdk.incubator.vector lanes when that module is loaded. */
class JvmCodegenTest {
  @Test void matmulTileBecomesAVectorLoop() {
    Assumptions.assumeTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(), "run with --add-modules jdk.incubator.vector");
    var jvm = Devices.get("JVM");
    var a = Tensor.rand(32, 64).to("JVM").realize(); var b = Tensor.rand(64, 48).to("JVM").realize();
    var k = (Schedule.Kernel) Schedule.create(List.of(a.matmul(b).uop()), List.of(jvm)).items().getFirst();
    var spec = Codegen.compile(k.name(), k.ast(), jvm.target(), Optimizer.heuristic(Codegen.simplify(k.ast()), 1, 16));
    var bytes = ((ProgramSpec.Source.ClassFile) spec.source()).bytes();
    assertTrue(new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1).contains("jdk/incubator/vector/FloatVector"),
        "the 16-wide accumulator update runs as vector lanes");
    // and the values are right (the device suite checks the rest)
    var got = a.matmul(b).toFloatArray();
    var av = a.toFloatArray(); var bv = b.toFloatArray();
    for (int i = 0; i < 32; i++) for (int j = 0; j < 48; j++) {
      float s = 0;
      for (int t = 0; t < 64; t++) s = Math.fma(av[i * 64 + t], bv[t * 48 + j], s);
      assertEquals(s, got[i * 48 + j], 1e-4f);
    }
  }

  @Test void longKernelsFallBackToSmallerCode() {
    dev.tinygrad4j.Flags.set("DEV", "JVM");
    try {
      for (int n : new int[]{80, 660}) { // the fused tail makes the vector forms pass 8000 bytes, the last one 64 KB
        Tensor.manualSeed(n);
        var x = Tensor.randn(32, 48).matmul(Tensor.randn(48, 32));
        var c = Tensor.randn(32);
        for (int i = 0; i < n; i++) x = x.mul(c).add(0.5).maximum(-2.0);
        var got = x.toFloatArray();
        dev.tinygrad4j.Flags.set("DEV", "INTERP");
        Tensor.manualSeed(n);
        var y = Tensor.randn(32, 48).matmul(Tensor.randn(48, 32));
        var d = Tensor.randn(32);
        for (int i = 0; i < n; i++) y = y.mul(d).add(0.5).maximum(-2.0);
        assertArrayEquals(y.toFloatArray(), got, 1e-3f);
        dev.tinygrad4j.Flags.set("DEV", "JVM");
      }
    } finally {
      dev.tinygrad4j.Flags.set("DEV", null);
    }
  }
}
