package dev.tinygrad4j.codegen;

import dev.tinygrad4j.Tensor;
import dev.tinygrad4j.engine.Runner;
import dev.tinygrad4j.engine.Schedule;
import dev.tinygrad4j.runtime.Devices;
import dev.tinygrad4j.uop.Ops;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.EnumSet;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** A device without some ops gets kernels free of them that compute the same values. */
class DecompositionTest {
  private static final EnumSet<Ops> MISSING = EnumSet.of(Ops.MAX, Ops.CMPEQ, Ops.NEG, Ops.MULACC, Ops.SHL, Ops.SHR);

  private static float[] runWithout(Tensor t) {
    var dev = Devices.get(t.device());
    var plan = Schedule.create(List.of(t.uop()), List.of(dev));
    var supported = EnumSet.allOf(Ops.class);
    supported.removeAll(MISSING);
    Schedule.Kernel last = null;
    for (var item : plan.items()) {
      var k = (Schedule.Kernel) item;
      var d = dev.target();
      var spec = Codegen.compile(k.name(), k.ast(), new Target(d.device(), supported, d.lanes(), d.vectorOps(), d.localSize(), d.threads(), d.memory(), d.renderer()));
      for (var u : spec.linear()) assertFalse(MISSING.contains(u.op()), () -> u.op() + " left in " + Linearizer.format(k.name(), spec.linear()));
      Runner.launch(new Runner.Compiled(spec, dev.compile(spec)), k.bufs());
      last = k;
    }
    try (var arena = Arena.ofConfined()) {
      var out = last.bufs().getFirst();
      return out.copyOut(arena.allocate(out.nbytes())).toArray(ValueLayout.JAVA_FLOAT);
    }
  }

  @Test void decomposedKernelsComputeTheSameValues() {
    var x = Tensor.of(new float[]{1, -2, Float.NaN, 4, 0, -0.5f});
    var y = Tensor.of(new float[]{3, -2, 1, Float.NaN, 0, -1});
    var expr = x.maximum(y).add(x.eq(y).where(10.0, 0.0)).neg().add(x.max());
    var decomposed = runWithout(expr); // first: the plan is not committed, so the normal run below recomputes
    assertArrayEquals(expr.toFloatArray(), decomposed);
    assertTrue(Float.isNaN(decomposed[2]) && Float.isNaN(decomposed[3]));
  }

  @Test void randomBitsWithoutShifts() {
    Tensor.manualSeed(7);
    var r = Tensor.rand(64);
    var decomposed = runWithout(r);
    assertArrayEquals(r.toFloatArray(), decomposed);
  }
}
