package dev.tinygrad4j.codegen;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.uop.Ops;
import dev.tinygrad4j.uop.PatternMatcher;
import dev.tinygrad4j.uop.UOp;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.tinygrad4j.uop.PatternMatcher.rule;
import static dev.tinygrad4j.uop.UPat.cvar;
import static dev.tinygrad4j.uop.UPat.op;
import static dev.tinygrad4j.uop.UPat.var;

/** Rules that rewrite ops a device does not render into ops it does, with the same meaning on every value. */
public final class Decompositions {
  private Decompositions() {}

  private static UOp a(Map<String, UOp> b) { return b.get("a"); }
  private static UOp c(Map<String, UOp> b) { return b.get("c"); }

  /** The rules that remove the ops missing from {@code supported}. */
  public static PatternMatcher<UOp> forMissing(Set<Ops> supported) {
    var rules = new ArrayList<PatternMatcher.Rule<UOp>>();
    if (!supported.contains(Ops.MULACC))
      rules.add(rule(op(Ops.MULACC, var("a"), var("b"), var("c")), b -> a(b).mul(b.get("b")).add(c(b))));
    if (!supported.contains(Ops.CMPEQ))
      rules.add(rule(op(Ops.CMPEQ, var("a"), var("b")), b -> UOp.alu(Ops.XOR, UOp.alu(Ops.CMPNE, a(b), b.get("b")), UOp.cnst(DType.BOOL, 1L))));
    if (!supported.contains(Ops.NEG))
      rules.add(rule(op(Ops.NEG, var("a")).where(u -> u.dtype() != DType.BOOL), b -> a(b).mul(UOp.cnst(a(b).dtype(), -1L))));
    if (!supported.contains(Ops.MAX)) // a NaN in either operand wins, as in MAX
      rules.add(rule(op(Ops.MAX, var("a"), var("b")), b -> {
        var x = a(b); var y = b.get("b");
        var takeY = UOp.alu(Ops.OR, x.lt(y), UOp.alu(Ops.CMPNE, y, y));
        return UOp.alu(Ops.WHERE, takeY, y, x);
      }));
    if (!supported.contains(Ops.SHL))
      rules.add(rule(op(Ops.SHL, var("a"), cvar("c")).where(u -> u.src(1).asLong() >= 0 && u.src(1).asLong() < 63),
          b -> a(b).mul(1L << c(b).asLong())));
    if (!supported.contains(Ops.SHR)) // only where a plain division gives the same bits
      rules.add(rule(op(Ops.SHR, var("a"), cvar("c")).where(u -> u.src(1).asLong() >= 0 && u.src(1).asLong() < 63
          && (u.dtype().isUnsigned() && u.dtype().bits() < 64 || u.src(0).vmin() >= 0)), b -> a(b).idiv(1L << c(b).asLong())));
    return new PatternMatcher<>(List.copyOf(rules));
  }
}
