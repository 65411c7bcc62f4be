package dev.tinygrad4j.engine;

import dev.tinygrad4j.uop.Ops;
import dev.tinygrad4j.uop.UOp;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Movement ops as index arithmetic: a reshape touches only the dims it regroups. */
class LowererTest {
  private static UOp r(int id, int n) { return UOp.range(n, id, UOp.AxisType.LOOP); }

  @Test void reshapeKeepsUntouchedDims() {
    var i = r(0, 6); var j = r(1, 4);
    var old = Lowerer.reshapeIndex(List.of(i, j), new int[]{6, 4}, new int[]{2, 3, 4});
    assertSame(j, old.get(2), "the last dim is unchanged, so its index is passed through");
    assertEquals(Ops.IDIV, old.get(0).op());
    assertEquals(Ops.MOD, old.get(1).op());
    // (N, C, H, e*W) → (N, C, H, e, W): only the last dim splits
    var n = r(2, 8); var c = r(3, 16); var h = r(4, 5); var e = r(5, 3); var w = r(6, 7);
    var back = Lowerer.reshapeIndex(List.of(n, c, h, e, w), new int[]{8, 16, 5, 3, 7}, new int[]{8, 16, 5, 21});
    assertSame(n, back.get(0));
    assertSame(c, back.get(1));
    assertSame(h, back.get(2));
    assertFalse(back.get(3).toposort().stream().anyMatch(u -> u.op() == Ops.IDIV || u.op() == Ops.MOD), "a merge needs no division");
  }

  @Test void sizeOneDimsAreIndexZero() {
    var i = r(0, 5);
    var old = Lowerer.reshapeIndex(List.of(i), new int[]{5}, new int[]{1, 5, 1});
    assertEquals(List.of(UOp.idx(0), i, UOp.idx(0)), old);
  }
}
