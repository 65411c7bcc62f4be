package dev.tinygrad4j.uop;

import dev.tinygrad4j.DType;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** Known index expressions simplify to known forms, and only when the value bounds allow it. */
class SymbolicTest {
  private static UOp range(int id, int n) { return UOp.range(n, id, UOp.AxisType.LOOP); }
  private static UOp simplify(UOp u) { return PatternMatcher.graphRewrite(u, Symbolic.RULES); }

  private final UOp i = range(0, 4), j = range(1, 3), k = range(2, 12);

  @Test void constantsFold() {
    assertSame(UOp.idx(5), simplify(UOp.idx(2).add(UOp.idx(3))));
    assertSame(UOp.cnst(DType.FLOAT32, 6.0), simplify(UOp.cnst(DType.FLOAT32, 2.0).mul(UOp.cnst(DType.FLOAT32, 3.0))));
    assertSame(UOp.cnst(DType.UINT8, 4L), simplify(UOp.cnst(DType.UINT8, 250L).add(UOp.cnst(DType.UINT8, 10L))));
    assertSame(UOp.cnst(DType.INT32, -2L), simplify(UOp.cnst(DType.FLOAT32, -2.7).cast(DType.INT32)));
    assertSame(UOp.cnst(DType.BOOL, 1L), simplify(UOp.idx(2).lt(3)));
  }

  @Test void identities() {
    assertSame(i, simplify(i.add(0)));
    assertSame(i, simplify(i.mul(1)));
    assertSame(UOp.idx(0), simplify(i.mul(0)));
    assertSame(i, simplify(UOp.idx(0).add(i)));
    var f = UOp.of(Ops.DEFINE_GLOBAL, DType.FLOAT32, 0);
    var x = UOp.of(Ops.LOAD, DType.FLOAT32, null, f, i);
    assertSame(x, simplify(x.mul(UOp.cnst(DType.FLOAT32, 1.0))));
    // float x*0 is not 0 (NaN, inf): it must stay
    assertEquals(Ops.MUL, simplify(x.mul(UOp.cnst(DType.FLOAT32, 0.0))).op());
  }

  @Test void divModOfSplitIndexFolds() {
    var flat = i.mul(3).add(j);
    assertSame(i, simplify(flat.idiv(3)));
    assertSame(j, simplify(flat.mod(3)));
    assertSame(UOp.idx(0), simplify(j.idiv(3)));
    assertSame(j, simplify(j.mod(3)));
  }

  @Test void divModNeedsBounds() {
    var wide = range(3, 4); // values up to 3, so (i*3 + wide) // 3 is not i
    var e = simplify(i.mul(3).add(wide).idiv(3));
    assertNotSame(i, e);
    assertTrue(e.toposort().stream().anyMatch(u -> u.op() == Ops.IDIV));
  }

  @Test void splitThenMergeGivesTheIndexBack() {
    // reshape (12) → (4,3) → (12): k → (k//3, k%3) → (k//3)*3 + k%3
    assertSame(k, simplify(k.idiv(3).mul(3).add(k.mod(3))));
    // three-way split: (k//6)*6 + ((k//3)%2)*3 + k%3
    assertSame(k, simplify(k.idiv(6).mul(6).add(k.idiv(3).mod(2).mul(3)).add(k.mod(3))));
  }

  @Test void nestedDivisionsCombine() {
    assertSame(simplify(k.idiv(6)), simplify(k.idiv(2).idiv(3)));
  }

  @Test void comparisonsUseBounds() {
    assertSame(UOp.cnst(DType.BOOL, 1L), simplify(i.lt(4)));
    assertSame(UOp.cnst(DType.BOOL, 0L), simplify(i.add(5).lt(5)));
    assertSame(i.lt(2), simplify(i.add(5).lt(7)));
    assertEquals(Ops.CMPLT, simplify(i.lt(3)).op());
  }

  @Test void rangesHaveBounds() {
    assertEquals(0, i.vmin());
    assertEquals(3, i.vmax());
    assertEquals(9 + 2, i.mul(3).add(j).vmax());
    assertEquals(1, k.idiv(6).vmax());
    assertEquals(4, k.mod(5).vmax());
  }
}
