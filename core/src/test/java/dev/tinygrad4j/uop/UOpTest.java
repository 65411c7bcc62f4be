package dev.tinygrad4j.uop;

import dev.tinygrad4j.DType;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.tinygrad4j.uop.PatternMatcher.rule;
import static org.junit.jupiter.api.Assertions.*;

/** Interning and the rewrite engine. */
class UOpTest {
  @Test void equalNodesAreTheSameObject() {
    var a = UOp.cnst(DType.FLOAT32, 1.5).add(UOp.cnst(DType.FLOAT32, 2.0));
    var b = UOp.cnst(DType.FLOAT32, 1.5).add(UOp.cnst(DType.FLOAT32, 2.0));
    assertSame(a, b);
    assertNotSame(a, UOp.cnst(DType.FLOAT32, 1.5).add(UOp.cnst(DType.FLOAT32, 2.5)));
    assertNotSame(UOp.cnst(DType.FLOAT32, 1.0), UOp.cnst(DType.FLOAT64, 1.0));
    assertNotSame(UOp.cnst(DType.FLOAT32, 0.0), UOp.cnst(DType.FLOAT32, -0.0));
    assertSame(UOp.full(DType.INT32, 3, 2, 2), UOp.full(DType.INT32, 3, 2, 2));
  }

  @Test void constantsAreRoundedToTheirType() {
    assertEquals((double) (float) 0.1, UOp.cnst(DType.FLOAT32, 0.1).asDouble());
    assertEquals(44L, UOp.cnst(DType.UINT8, 300L).asLong());
    assertEquals(-56L, UOp.cnst(DType.INT8, 200L).asLong());
  }

  @Test void rewriteRunsToAFixedPoint() {
    // NEG(NEG(x)) → x, applied until nothing matches: six NEGs vanish
    var x = UOp.of(Ops.DEFINE_GLOBAL, DType.FLOAT32, 0);
    var u = x;
    for (int i = 0; i < 6; i++) u = UOp.alu(Ops.NEG, u);
    var pm = new PatternMatcher<UOp>(List.of(rule(UPat.op(Ops.NEG, UPat.op(Ops.NEG, UPat.var("x"))), b -> b.get("x"))));
    assertSame(x, PatternMatcher.graphRewrite(u, pm));
    assertSame(UOp.alu(Ops.NEG, x), PatternMatcher.graphRewrite(UOp.alu(Ops.NEG, u), pm));
  }

  @Test void commutativePatternsMatchEitherOrder() {
    var x = UOp.of(Ops.DEFINE_GLOBAL, DType.INT32, 0);
    var pat = UPat.op(Ops.ADD, UPat.var("x"), UPat.cvar("c"));
    var b = new java.util.HashMap<String, UOp>();
    assertTrue(pat.match(UOp.alu(Ops.ADD, UOp.idx(2), x), b));
    assertSame(x, b.get("x"));
    assertFalse(UPat.op(Ops.IDIV, UPat.var("x"), UPat.cvar("c")).match(UOp.alu(Ops.IDIV, UOp.idx(2), x), new java.util.HashMap<>()));
  }

  @Test void sameNameMustBindSameNode() {
    UOp x = UOp.of(Ops.DEFINE_GLOBAL, DType.INT32, 0), y = UOp.of(Ops.DEFINE_GLOBAL, DType.INT32, 1);
    var pat = UPat.op(Ops.ADD, UPat.var("a"), UPat.var("a"));
    assertTrue(pat.match(x.add(x), new java.util.HashMap<>()));
    assertFalse(pat.match(x.add(y), new java.util.HashMap<>()));
  }

  @Test void shapesOfMovementOps() {
    var c = UOp.full(DType.FLOAT32, 1, 2, 3);
    assertArrayEquals(new int[]{3, 2}, c.permute(1, 0).shape());
    assertArrayEquals(new int[]{4, 6}, c.pad(new int[][]{{1, 1}, {2, 1}}).shape());
    assertArrayEquals(new int[]{1, 2}, c.shrink(new int[][]{{1, 2}, {0, 2}}).shape());
    assertArrayEquals(new int[]{2, 1}, c.reduce(Ops.ADD, 1).shape());
  }
}
