package dev.tinygrad4j.codegen;

import dev.tinygrad4j.uop.Ops;
import dev.tinygrad4j.uop.UOp;
import dev.tinygrad4j.uop.UOp.AxisType;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;

/**
 * Kernel optimizations as a small vocabulary of opts applied to a kernel AST, in the spirit of tinygrad's:
 * UPCAST (register-tile an output dim), UNROLL (a reduce dim), THREAD (split an output dim across cores). Each opt
 * splits or retags one loop range; the linearizer and renderers turn the result into tiled loops. A hand-coded
 * heuristic picks opts by default; a search could enumerate them the same way.
 */
public final class Optimizer {
  private Optimizer() {}

  /** What an opt does. */
  public enum OptOp { UPCAST, UNROLL, THREAD, SWAP, PADTO }
  /** One opt: UPCAST/THREAD/SWAP name an output axis, UNROLL a reduce axis, by index among those ranges; SWAP's amount is the other axis. */
  public record Opt(OptOp op, int axis, int amount) {}

  /** The output loop ranges (THREAD, LOOP) of a kernel in order. */
  public static List<UOp> loops(UOp ast) { return rangesOf(ast, AxisType.THREAD, AxisType.LOOP); }
  /** The reduce ranges of a kernel in order. */
  public static List<UOp> reduces(UOp ast) { return rangesOf(ast, AxisType.REDUCE, AxisType.REDUCE); }

  private static List<UOp> rangesOf(UOp ast, AxisType lo, AxisType hi) {
    return ast.toposort().stream().filter(u -> u.op() == Ops.RANGE && u.axisType().compareTo(lo) >= 0 && u.axisType().compareTo(hi) <= 0)
        .sorted(Comparator.comparingInt(UOp::axisId)).toList();
  }

  /** The kernel with one opt applied; throws IllegalArgumentException if the opt does not fit. */
  public static UOp apply(UOp ast, Opt opt) {
    var axes = opt.op() == OptOp.UNROLL ? reduces(ast) : loops(ast);
    if (opt.axis() < 0 || opt.axis() >= axes.size()) throw new IllegalArgumentException(opt + ": no such axis in " + axes.size());
    var r = axes.get(opt.axis());
    if (opt.op() == OptOp.THREAD) return replace(ast, r, List.of(UOp.range(r.rangeSize(), r.axisId(), AxisType.THREAD)), null);
    if (opt.op() == OptOp.PADTO) return padTo(ast, r, opt.amount());
    if (opt.op() == OptOp.SWAP) { // loops nest in id order: exchanging ids exchanges their nesting
      if (opt.amount() < 0 || opt.amount() >= axes.size()) throw new IllegalArgumentException(opt + ": no such axis in " + axes.size());
      var o = axes.get(opt.amount());
      var swapped = replace(ast, r, List.of(UOp.range(r.rangeSize(), -1, r.axisType())), null);
      swapped = replace(swapped, o, List.of(UOp.range(o.rangeSize(), r.axisId(), o.axisType())), null);
      var tmp = UOp.range(r.rangeSize(), -1, r.axisType());
      return replace(swapped, tmp, List.of(UOp.range(r.rangeSize(), o.axisId(), r.axisType())), null);
    }
    int n = r.rangeSize(), k = opt.amount();
    if (k <= 1 || n % k != 0) throw new IllegalArgumentException(opt + ": " + k + " does not divide " + n);
    int id = 1 + ast.toposort().stream().filter(u -> u.op() == Ops.RANGE).mapToInt(UOp::axisId).max().orElse(0);
    var inner = UOp.range(k, id, opt.op() == OptOp.UPCAST ? AxisType.UPCAST : AxisType.UNROLL);
    var outer = n == k ? UOp.idx(0) : UOp.range(n / k, r.axisId(), r.axisType());
    var parts = outer.op() == Ops.RANGE ? List.of(outer, inner) : List.of(inner);
    return replace(ast, r, parts, outer.mul(k).add(inner));
  }

  /**
   * Grows output range r to a multiple of k; the extra iterations are masked: loads that depend on r and the store
   * are gated by r &lt; its old size, so they never touch memory out there.
   */
  private static UOp padTo(UOp ast, UOp r, int k) {
    if (k <= 1 || r.axisType() != AxisType.LOOP && r.axisType() != AxisType.THREAD)
      throw new IllegalArgumentException("PADTO " + k + ": needs an amount above 1 and an output loop, not " + r.axisType());
    int n = r.rangeSize(), m = (n + k - 1) / k * k;
    if (m == n) return ast;
    var grown = UOp.range(m, r.axisId(), r.axisType());
    var inside = grown.lt(n);
    var memo = new IdentityHashMap<UOp, UOp>();
    for (var u : ast.toposort()) {
      var src = new ArrayList<UOp>();
      for (var s : u.src()) src.add(s == r ? grown : memo.getOrDefault(s, s));
      var out = u.withSrc(src);
      boolean touches = (u.op() == Ops.LOAD || u.op() == Ops.STORE) && u.src(0).op() == Ops.DEFINE_GLOBAL && u.src(1).allNodes().contains(r);
      if (touches || u.op() == Ops.STORE && u.src(0).op() == Ops.DEFINE_GLOBAL) {
        int gate = u.op() == Ops.LOAD ? 2 : 3;
        src = new ArrayList<>(out.src());
        if (src.size() > gate) src.set(gate, src.get(gate).and(inside)); else src.add(inside);
        out = UOp.of(u.op(), u.dtype(), u.arg(), src);
      }
      memo.put(u, u == r ? u : out);
    }
    return memo.get(ast);
  }

  /** Replaces range r by parts in REDUCE range lists and by value (if not null) everywhere else. */
  private static UOp replace(UOp ast, UOp r, List<UOp> parts, UOp value) {
    var memo = new IdentityHashMap<UOp, UOp>();
    for (var u : ast.toposort()) {
      var src = new ArrayList<UOp>();
      for (int i = 0; i < u.src().size(); i++) {
        var s = u.src(i);
        if (s == r && u.op() == Ops.REDUCE && i > 0) src.addAll(parts);
        else src.add(s == r ? (value != null ? value : parts.getFirst()) : memo.getOrDefault(s, s));
      }
      memo.put(u, u.op() == Ops.RANGE && u == r ? u : u.withSrc(src));
    }
    return memo.get(ast);
  }

  /** The opts the hand-coded heuristic picks for a kernel on a device with this many threads. */
  public static List<Opt> heuristic(UOp ast, int threads) {
    var opts = new ArrayList<Opt>();
    var cur = ast;
    var loops = loops(ast);
    if (!reduces(ast).isEmpty() && loops.size() >= 2) {
      // register tile (8x32 measured best here, 16 vector registers of 16 lanes): the dim loads read contiguously goes wide; deep is a dim that
      // load does not depend on, so each vector it loads serves the whole tile column (matmul: rows of A; conv: out channels)
      var wide = loops.get(contiguousAxis(ast, loops));
      var wideLoad = ast.toposort().stream().filter(u -> u.op() == Ops.LOAD && strideOne(u.src(1), wide)).findFirst();
      UOp deep = null;
      for (var r : loops.reversed()) {
        if (r == wide || firstDivisor(r.rangeSize(), 16, 8, 4) == 0) continue;
        boolean reused = wideLoad.isPresent() && !wideLoad.get().src(1).allNodes().contains(r);
        if (deep == null || reused && (firstDivisor(r.rangeSize(), 16, 8, 4) > firstDivisor(deep.rangeSize(), 16, 8, 4)
            || wideLoad.get().src(1).allNodes().contains(deep))) deep = r;
      }
      // a long wide dim with no divisor to tile by is padded to a multiple of 16 (masked: the gated loads cost, so
      // only then); a short one is taken whole
      if (wide.rangeSize() > 32 && firstDivisor(wide.rangeSize(), 16, 8) == 0) {
        var o = new Opt(OptOp.PADTO, loops(cur).indexOf(wide), 16);
        opts.add(o);
        cur = apply(cur, o);
      }
      int wideSize = byId(loops(cur), wide.axisId()).rangeSize();
      int w = wideSize <= 32 && wideSize > 4 ? wideSize : firstDivisor(wideSize, 32, 16, 8, 4);
      for (var pick : new UOp[]{deep, wide}) {
        if (pick == null || (pick == wide && w == 0)) continue;
        int d = firstDivisor(pick.rangeSize(), w > 16 ? new int[]{8, 4} : new int[]{16, 8, 4}); // the tile stays near 256
        var ls = loops(cur);
        var o = new Opt(OptOp.UPCAST, ls.indexOf(byId(ls, pick.axisId())), pick == wide ? w : d);
        opts.add(o);
        cur = apply(cur, o);
      }
      // the loop over tiles of the wide dim goes outermost: its column strip stays in cache across the others
      var ls = loops(cur);
      int wideOuter = -1;
      for (int i = 0; i < ls.size(); i++) if (ls.get(i).axisId() == wide.axisId()) wideOuter = i;
      if (wideOuter > 0) {
        var o = new Opt(OptOp.SWAP, 0, wideOuter);
        opts.add(o);
        cur = apply(cur, o);
      }
    }
    if (!reduces(ast).isEmpty() && loops.size() == 1) {
      // one output dim read contiguously: a vector of accumulators (independent sums, vector loads)
      int w = firstDivisor(loops.getFirst().rangeSize(), 16, 8, 4);
      if (w > 0 && contiguousAxis(ast, loops) == 0 && strideOneSomewhere(ast, loops.getFirst())) {
        var o = new Opt(OptOp.UPCAST, 0, w);
        opts.add(o);
        cur = apply(cur, o);
      }
    }
    var remaining = loops(cur);
    long work = ast.toposort().stream().filter(u -> u.op() == Ops.RANGE).mapToLong(UOp::rangeSize).reduce(1, (a, b) -> a * b);
    if (threads > 1 && !remaining.isEmpty() && remaining.getFirst().rangeSize() >= 2 && work >= 1 << 16)
      opts.add(new Opt(OptOp.THREAD, 0, threads));
    return opts;
  }

  /** Applies opts in order. */
  public static UOp apply(UOp ast, List<Opt> opts) {
    for (var o : opts) ast = apply(ast, o);
    return ast;
  }

  private static UOp byId(List<UOp> ranges, int id) {
    return ranges.stream().filter(r -> r.axisId() == id).findFirst().orElseThrow();
  }

  private static int firstDivisor(int n, int... ks) {
    for (int k : ks) if (n % k == 0 && n >= k) return k;
    return 0;
  }

  /** The output axis some load reads with stride 1 (the last axis if none does). */
  private static int contiguousAxis(UOp ast, List<UOp> loops) {
    for (var u : ast.toposort()) {
      if (u.op() != Ops.LOAD) continue;
      var idx = u.src(1);
      for (int i = loops.size() - 1; i >= 0; i--) if (strideOne(idx, loops.get(i))) return i;
    }
    return loops.size() - 1;
  }

  private static boolean strideOneSomewhere(UOp ast, UOp r) {
    return ast.toposort().stream().anyMatch(u -> u.op() == Ops.LOAD && strideOne(u.src(1), r));
  }

  private static boolean strideOne(UOp idx, UOp r) {
    if (idx == r) return true;
    return idx.op() == Ops.ADD && (strideOne(idx.src(0), r) || strideOne(idx.src(1), r));
  }
}
