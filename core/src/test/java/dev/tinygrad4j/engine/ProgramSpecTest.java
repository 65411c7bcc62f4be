package dev.tinygrad4j.engine;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.Tensor;
import dev.tinygrad4j.codegen.Codegen;
import dev.tinygrad4j.runtime.Devices;
import dev.tinygrad4j.uop.Ops;
import dev.tinygrad4j.uop.Spec;
import dev.tinygrad4j.uop.UOp;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The compile pipeline's contract, on every device: a program's parameters are its buffers in number order, also
 * those the simplified kernel no longer reads, and the graph checker rejects malformed stages.
 */
class ProgramSpecTest {
  @Test void buffersDroppedBySimplificationKeepTheirPlace() {
    // the first input is multiplied by 0, so the simplified kernel never reads it: parameter 2 must still be the second input
    assertArrayEquals(new int[]{10, 20, 30}, Tensor.of(new int[]{1, 2, 3}).mul(0).add(Tensor.of(new int[]{10, 20, 30})).toIntArray());
    var a = Tensor.of(new int[]{1, 2}); var b = Tensor.of(new int[]{3, 4}); var c = Tensor.of(new int[]{5, 6}); var d = Tensor.of(new int[]{7, 8});
    assertArrayEquals(new int[]{3 * 7, 4 * 8}, a.mul(0).add(b).mul(c.mul(0).add(d)).add(c.mul(0)).toIntArray());
    assertArrayEquals(new int[]{0, 0}, a.mul(0).add(b.mul(0)).toIntArray(), "every input dropped");
  }

  @Test void specListsEveryBufferWithWhatItMustHold() {
    var a = Tensor.of(new int[]{1, 2, 3}); var b = Tensor.of(new int[]{4, 5, 6});
    var dev = Devices.get(a.device());
    var k = (Schedule.Kernel) Schedule.create(List.of(a.mul(0).add(b).uop()), List.of(dev)).items().getFirst();
    var spec = Codegen.compile(k.name(), k.ast(), dev.target());
    assertEquals(3, spec.params().size(), "output and both inputs");
    for (int i = 0; i < 3; i++) assertEquals(i, spec.params().get(i).index());
    assertEquals(List.of(3L, 0L, 3L), spec.params().stream().map(p -> p.needs()).toList(), "the dropped input needs no elements");
    assertEquals(DType.INT32, spec.params().get(1).dtype());
  }

  @Test void theSuiteRunsWithTheGraphChecker() {
    assertTrue(Spec.enabled(), "tests run with SPEC=1 (set in the surefire configuration)");
  }

  @Test void checkerRejectsMalformedStages() {
    var out = UOp.of(Ops.DEFINE_GLOBAL, DType.INT32, 0);
    var r = UOp.range(4, 0, UOp.AxisType.LOOP);
    var floatIntoInt = UOp.of(Ops.SINK, DType.BOOL, null, UOp.of(Ops.STORE, DType.BOOL, null, out, r, UOp.cnst(DType.FLOAT32, 1.0)));
    var e = assertThrows(IllegalStateException.class, () -> Spec.kernel(floatIntoInt));
    assertTrue(e.getMessage().contains("buffer's dtype"), e.getMessage());
    var mixed = UOp.of(Ops.ADD, DType.INT32, null, r, UOp.cnst(DType.INT64, 1L));
    var e2 = assertThrows(IllegalStateException.class, () -> Spec.kernel(UOp.of(Ops.SINK, DType.BOOL, null, UOp.of(Ops.STORE, DType.BOOL, null, out, r, mixed))));
    assertTrue(e2.getMessage().contains("sources of one dtype"), e2.getMessage());
    var movement = UOp.of(Ops.SINK, DType.BOOL, null, UOp.of(Ops.STORE, DType.BOOL, null, out, r, UOp.full(DType.INT32, 1, 4)));
    assertThrows(IllegalStateException.class, () -> Spec.kernel(movement), "movement ops never reach a kernel");
    var bad = Tensor.ones(2, 3).uop();
    assertThrows(IllegalStateException.class, () -> Spec.tensor(UOp.of(Ops.RESHAPE, DType.FLOAT32, UOp.list(5), bad)), "a reshape keeps the element count");
    Spec.tensor(Tensor.ones(2, 3).matmul(Tensor.ones(3, 4)).softmax(1).uop()); // a real graph passes
    // a loop closed out of order, a value used before it is defined
    var r2 = UOp.range(3, 1, UOp.AxisType.LOOP);
    var end = UOp.of(Ops.ENDRANGE, DType.INT32, null, r);
    assertThrows(IllegalStateException.class, () -> Spec.linear(List.of(r, r2, end), java.util.EnumSet.allOf(Ops.class)));
    var sum = r.add(r2);
    assertThrows(IllegalStateException.class, () -> Spec.linear(List.of(r, sum, r2), java.util.EnumSet.allOf(Ops.class)));
  }
}
