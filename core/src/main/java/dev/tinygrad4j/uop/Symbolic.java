package dev.tinygrad4j.uop;

import dev.tinygrad4j.DType;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.tinygrad4j.uop.PatternMatcher.rule;
import static dev.tinygrad4j.uop.UPat.cnst;
import static dev.tinygrad4j.uop.UPat.cvar;
import static dev.tinygrad4j.uop.UPat.op;
import static dev.tinygrad4j.uop.UPat.var;

/** Algebraic and index simplification: constant folding, identities, and div/mod folding using value bounds. */
public final class Symbolic {
  private Symbolic() {}

  private static final EnumSet<Ops> ALU = EnumSet.noneOf(Ops.class);
  static { for (var o : Ops.values()) if (o.isAlu()) ALU.add(o); ALU.add(Ops.CAST); ALU.add(Ops.BITCAST); }

  /** Folds ALU ops, casts and bitcasts whose sources are all constants. */
  public static final PatternMatcher<UOp> CONSTANT_FOLDING = new PatternMatcher<>(List.of(
      PatternMatcher.<UOp>rule(UPat.any(ALU).where(u -> !u.src().isEmpty() && u.src().stream().allMatch(UOp::isConst)).named("x"),
          b -> fold(b.get("x")))));

  /** Constant folding, identities, canonical order and int index folding. */
  public static final PatternMatcher<UOp> RULES = CONSTANT_FOLDING.plus(new PatternMatcher<>(List.<PatternMatcher.Rule<UOp>>of(
      // constants go on the right of commutative ops
      rule(UPat.any(EnumSet.of(Ops.ADD, Ops.MUL, Ops.MAX, Ops.AND, Ops.OR, Ops.XOR, Ops.CMPEQ, Ops.CMPNE))
          .where(u -> u.src(0).isConst() && !u.src(1).isConst()).named("x"),
          b -> UOp.alu(b.get("x").op(), b.get("x").src(1), b.get("x").src(0))),
      // identities
      rule(op(Ops.ADD, var("x"), cnst(0)), b -> b.get("x")),
      rule(op(Ops.MUL, var("x"), cnst(1)), b -> b.get("x")),
      rule(op(Ops.MUL, var("x"), cnst(0)).ints(), b -> UOp.cnst(b.get("x").dtype(), 0L)),
      rule(op(Ops.IDIV, var("x"), cnst(1)), b -> b.get("x")),
      rule(op(Ops.MOD, var("x"), cnst(1)), b -> UOp.cnst(b.get("x").dtype(), 0L)),
      rule(op(Ops.NEG, op(Ops.NEG, var("x"))), b -> b.get("x")),
      rule(op(Ops.WHERE, cvar("c"), var("a"), var("b")), b -> b.get("c").asLong() != 0 ? b.get("a") : b.get("b")),
      rule(op(Ops.WHERE, var("c"), var("a"), var("a")), b -> b.get("a")),
      rule(op(Ops.AND, var("x"), cvar("c")).dtype(DType.BOOL), b -> b.get("c").asLong() != 0 ? b.get("x") : b.get("c")),
      rule(op(Ops.OR, var("x"), cvar("c")).dtype(DType.BOOL), b -> b.get("c").asLong() != 0 ? b.get("c") : b.get("x")),
      rule(op(Ops.AND, var("x"), var("x")), b -> b.get("x")),
      // an int or bool node whose bounds pin it to one value is that value
      rule(UPat.any(ALU).where(u -> !u.dtype().isFloat() && u.dtype().bits() < 64 && u.vmin() == u.vmax()).named("x"),
          b -> UOp.cnst(b.get("x").dtype(), b.get("x").vmin())),
      // int arithmetic: reassociate constants, distribute, fold sums
      rule(op(Ops.MUL, op(Ops.MUL, var("x"), cvar("c1")), cvar("c2")).ints(),
          b -> b.get("x").mul(b.get("c1").asLong() * b.get("c2").asLong())),
      rule(op(Ops.MUL, op(Ops.ADD, var("x"), var("y")), cvar("c")).ints(),
          b -> b.get("x").mul(b.get("c")).add(b.get("y").mul(b.get("c")))),
      rule(op(Ops.ADD).ints().named("x"), b -> foldSum(b.get("x"))),
      rule(op(Ops.IDIV, var("x"), cvar("c")).ints().where(u -> u.src(1).asLong() > 0 && u.src(0).vmin() >= 0).named("d"),
          b -> divMod(b.get("d"))),
      rule(op(Ops.MOD, var("x"), cvar("c")).ints().where(u -> u.src(1).asLong() > 0 && u.src(0).vmin() >= 0).named("d"),
          b -> divMod(b.get("d"))),
      rule(op(Ops.IDIV, op(Ops.IDIV, var("x"), cvar("a")), cvar("b")).ints()
              .where(u -> u.src(1).asLong() > 0 && u.src(0).src(1).asLong() > 0),
          b -> b.get("x").idiv(b.get("a").asLong() * b.get("b").asLong())),
      // a product divided by one of its factors (a symbolic size): the other factors; its remainder: 0
      rule(op(Ops.IDIV, var("x"), var("y")).ints().where(u -> !u.src(1).isConst() && u.src(1).vmin() > 0 && without(u.src(0), u.src(1)) != null),
          b -> without(b.get("x"), b.get("y"))),
      rule(op(Ops.MOD, var("x"), var("y")).ints().where(u -> !u.src(1).isConst() && u.src(1).vmin() > 0 && without(u.src(0), u.src(1)) != null),
          b -> UOp.cnst(b.get("x").dtype(), 0L)),
      // nested masks merge
      rule(op(Ops.WHERE, var("c1"), op(Ops.WHERE, var("c2"), var("x"), cnst(0)), cnst(0)),
          b -> UOp.alu(Ops.WHERE, b.get("c1").and(b.get("c2")), b.get("x"), UOp.cnst(b.get("x").dtype(), 0L))),
      // x < c with x = y + k: y < c - k
      rule(op(Ops.CMPLT, op(Ops.ADD, var("y"), cvar("k")), cvar("c")).where(u -> !u.src(0).dtype().isFloat()),
          b -> b.get("y").lt(b.get("c").asLong() - b.get("k").asLong()))
  )));

  /** The product x with one factor f taken out (x = f, or a MUL chain holding f), or null if f is not a factor. */
  static UOp without(UOp x, UOp f) {
    if (x == f) return UOp.cnst(x.dtype(), 1L);
    if (x.op() != Ops.MUL) return null;
    var a = without(x.src(0), f);
    if (a != null) return a.isConst(1) ? x.src(1) : a.mul(x.src(1));
    var b = without(x.src(1), f);
    return b == null ? null : b.isConst(1) ? x.src(0) : x.src(0).mul(b);
  }

  /** The constant value of an op over constant sources. */
  public static UOp fold(UOp u) {
    var s = u.src();
    var in = s.get(0).dtype();
    if (u.op() == Ops.CAST) {
      var v = s.get(0);
      if (u.dtype().isFloat()) return UOp.cnst(u.dtype(), in.isFloat() ? v.asDouble() : Alu.intToFloat(in, u.dtype(), v.asLong()));
      return UOp.cnst(u.dtype(), in.isFloat() ? Alu.fromDouble(u.dtype(), v.asDouble()) : v.asLong());
    }
    if (u.op() == Ops.BITCAST) {
      var v = Alu.bitcast(in, u.dtype(), in.isFloat() ? s.get(0).asDouble() : 0, in.isFloat() ? 0 : s.get(0).asLong());
      return v instanceof Double d ? UOp.cnst(u.dtype(), d) : UOp.cnst(u.dtype(), (Long) v);
    }
    if (u.op() == Ops.WHERE) return s.get(0).asLong() != 0 ? s.get(1) : s.get(2);
    if (u.op().isComparison()) {
      var a = s.get(0); var b = s.get(1);
      return UOp.cnst(DType.BOOL, Alu.compare(u.op(), in, a.asDouble(), b.asDouble(),
          in.isFloat() ? 0 : a.asLong(), in.isFloat() ? 0 : b.asLong()));
    }
    try {
      if (u.dtype().isFloat()) {
        double a = s.get(0).asDouble(), b = s.size() > 1 ? s.get(1).asDouble() : 0, c = s.size() > 2 ? s.get(2).asDouble() : 0;
        return UOp.cnst(u.dtype(), Alu.floatOp(u.op(), u.dtype(), a, b, c));
      }
      long a = s.get(0).asLong(), b = s.size() > 1 ? s.get(1).asLong() : 0, c = s.size() > 2 ? s.get(2).asLong() : 0;
      return UOp.cnst(u.dtype(), Alu.intOp(u.op(), u.dtype(), a, b, c));
    } catch (ArithmeticException e) {
      return null; // division by a constant zero stays in the graph
    }
  }

  // ---- sums of terms: node → coefficient, plus a constant ----
  private record Sum(Map<UOp, Long> terms, long constant) {}

  private static Sum terms(UOp u) {
    var t = new LinkedHashMap<UOp, Long>();
    long[] c = {0};
    collect(u, 1, t, c);
    t.values().removeIf(v -> v == 0);
    return new Sum(t, c[0]);
  }

  private static void collect(UOp u, long k, Map<UOp, Long> t, long[] c) {
    if (u.op() == Ops.ADD) { collect(u.src(0), k, t, c); collect(u.src(1), k, t, c); }
    else if (u.op() == Ops.MUL && u.src(1).isConst()) collect(u.src(0), k * u.src(1).asLong(), t, c);
    else if (u.isConst()) c[0] += k * u.asLong();
    else t.merge(u, k, Long::sum);
  }

  private static UOp build(DType dt, Map<UOp, Long> t, long constant) {
    UOp out = null;
    for (var e : t.entrySet()) {
      var term = e.getValue() == 1 ? e.getKey() : e.getKey().mul(e.getValue());
      out = out == null ? term : out.add(term);
    }
    return out == null ? UOp.cnst(dt, constant) : constant == 0 ? out : out.add(constant);
  }

  /** x // c (as c1) then % c2 (0: no mod): the shape both div and mod terms are read as. */
  private record DivMod(UOp x, long div, long mod) {}

  private static DivMod divModOf(UOp u) {
    if (u.op() == Ops.MOD && u.src(1).isConst() && u.src(1).asLong() > 0 && u.src(0).vmin() >= 0) {
      var inner = u.src(0);
      if (inner.op() == Ops.IDIV && inner.src(1).isConst() && inner.src(1).asLong() > 0)
        return new DivMod(inner.src(0), inner.src(1).asLong(), u.src(1).asLong());
      return new DivMod(inner, 1, u.src(1).asLong());
    }
    if (u.op() == Ops.IDIV && u.src(1).isConst() && u.src(1).asLong() > 0 && u.src(0).vmin() >= 0)
      return new DivMod(u.src(0), u.src(1).asLong(), 0);
    return null;
  }

  private static UOp divModNode(DivMod d) {
    var q = d.div() == 1 ? d.x() : d.x().idiv(d.div());
    return d.mod() == 0 ? q : q.mod(d.mod());
  }

  /** Folds a sum: merges repeated terms and rejoins (x//a % b)*k + (x//(a*b) % c)*k*b into (x//a % (b*c))*k. */
  private static UOp foldSum(UOp u) {
    var s = terms(u);
    var t = new LinkedHashMap<>(s.terms());
    boolean changed = true;
    while (changed) {
      changed = false;
      outer:
      for (var e1 : t.entrySet()) {
        var d1 = divModOf(e1.getKey());
        if (d1 == null || d1.mod() == 0) continue;
        for (var e2 : t.entrySet()) {
          var d2 = divModOf(e2.getKey());
          if (d2 == null || d2.x() != d1.x() || d2.div() != d1.div() * d1.mod() || e2.getValue() != e1.getValue() * d1.mod()) continue;
          var merged = divModNode(new DivMod(d1.x(), d1.div(), d2.mod() == 0 ? 0 : d1.mod() * d2.mod()));
          long k = e1.getValue();
          t.remove(e1.getKey()); t.remove(e2.getKey());
          t.merge(merged, k, Long::sum);
          changed = true;
          break outer;
        }
      }
    }
    // (x // d) * (d * c) + (x % d) * c = x * c for a symbolic d (a merged dim split again: [b, n] → [b*n] → [b, n])
    for (boolean again = true; again; ) {
      again = false;
      search:
      for (var e1 : t.entrySet()) {
        var q = e1.getKey();
        if (e1.getValue() != 1 || q.op() != Ops.MUL || q.src(0).op() != Ops.IDIV || q.src(0).src(1).isConst()) continue;
        var x = q.src(0).src(0); var d = q.src(0).src(1);
        for (var e2 : t.entrySet()) {
          var r = e2.getKey();
          if (r.op() != Ops.MOD || r.src(0) != x || r.src(1) != d || d.vmin() <= 0 || x.vmin() < 0) continue;
          long c = e2.getValue();
          if (PatternMatcher.graphRewrite(d.mul(c), RULES) != q.src(1)) continue;
          t.remove(q); t.remove(r);
          t.merge(x, c, Long::sum);
          again = true;
          break search;
        }
      }
    }
    var out = build(u.dtype(), t, s.constant());
    return out == u ? null : out;
  }

  /** x // c and x % c for x ≥ 0, c > 0: x = c·Q + R term by term; when 0 ≤ R &lt; c the quotient is Q and the remainder R. */
  private static UOp divMod(UOp d) {
    var x = d.src(0);
    long c = d.src(1).asLong();
    boolean isDiv = d.op() == Ops.IDIV;
    if (!isDiv && x.vmax() < c) return x;
    // (x % m) % c and (x % m) // c when c divides m
    if (x.op() == Ops.MOD && x.src(1).isConst() && x.src(1).asLong() % c == 0 && x.src(0).vmin() >= 0)
      return isDiv ? x.src(0).idiv(c).mod(x.src(1).asLong() / c) : x.src(0).mod(c);
    var s = terms(x);
    var quot = new LinkedHashMap<UOp, Long>();
    var rem = new LinkedHashMap<UOp, Long>();
    long g = c;
    for (var e : s.terms().entrySet()) { // coef = c·q + r with 0 ≤ r < c (negative coefs stay whole: bounds stay tight)
      long q = e.getValue() > 0 ? e.getValue() / c : 0, rr = e.getValue() > 0 ? e.getValue() % c : e.getValue();
      if (q != 0) quot.put(e.getKey(), q);
      if (rr != 0) rem.put(e.getKey(), rr);
      g = gcd(g, e.getValue());
    }
    long qc = Math.floorDiv(s.constant(), c), rc = Math.floorMod(s.constant(), c);
    var r = build(x.dtype(), rem, rc);
    if (r.vmin() < 0) return null;
    if (r.vmax() < c) return isDiv ? build(x.dtype(), quot, qc) : r;
    // a common factor of every coefficient, the constant and c cancels out
    long f = gcd(g, s.constant());
    if (f > 1) {
      var scaled = new LinkedHashMap<UOp, Long>();
      s.terms().forEach((k, v) -> scaled.put(k, v / f));
      var y = build(x.dtype(), scaled, s.constant() / f);
      return isDiv ? y.idiv(c / f) : y.mod(c / f).mul(f);
    }
    if (quot.isEmpty()) return null;
    var rest = isDiv ? r.idiv(c) : r.mod(c);
    return isDiv ? build(x.dtype(), quot, qc).add(rest) : rest;
  }

  private static long gcd(long a, long b) { return b == 0 ? Math.abs(a) : gcd(b, a % b); }
}
