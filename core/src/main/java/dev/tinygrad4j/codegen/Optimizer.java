package dev.tinygrad4j.codegen;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.uop.Ops;
import dev.tinygrad4j.uop.UOp;
import dev.tinygrad4j.uop.UOp.AxisType;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;

/**
 * Kernel optimizations as a small vocabulary of opts applied to a kernel AST, in the spirit of tinygrad's:
 * UPCAST (register-tile an output dim), UNROLL (a reduce dim), THREAD (split an output dim across cores), and for
 * GPUs MERGE (two output dims into one), LOCAL (an output dim into work-groups of work-items) and GROUP (a reduce
 * dim across the work-items of a group, partial results combined through local memory). Each opt splits or retags
 * loop ranges; the linearizer and renderers turn the result into tiled loops or launch dimensions. A hand-coded
 * heuristic picks opts by default; a search could enumerate them the same way.
 */
public final class Optimizer {
  private Optimizer() {}

  /** What an opt does. */
  public enum OptOp { UPCAST, UNROLL, THREAD, SWAP, PADTO, MERGE, LOCAL, GROUP }
  /**
   * One opt: UNROLL and GROUP name a reduce axis, the others an output axis, by index among those ranges. SWAP's
   * amount is the other axis; MERGE joins axis and axis + 1 (amount unused); LOCAL's amount is the work-group size
   * (1: all work-groups).
   */
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
    var axes = opt.op() == OptOp.UNROLL || opt.op() == OptOp.GROUP ? reduces(ast) : loops(ast);
    if (opt.axis() < 0 || opt.axis() >= axes.size()) throw new IllegalArgumentException(opt + ": no such axis in " + axes.size());
    var r = axes.get(opt.axis());
    if (opt.op() == OptOp.SWAP) { // loops nest in id order: exchanging ids exchanges their nesting
      if (opt.amount() < 0 || opt.amount() >= axes.size()) throw new IllegalArgumentException(opt + ": no such axis in " + axes.size());
      var o = axes.get(opt.amount());
      var swapped = replace(ast, r, List.of(r.withAxis(-1, r.axisType())), null);
      swapped = replace(swapped, o, List.of(o.withAxis(r.axisId(), o.axisType())), null);
      var tmp = r.withAxis(-1, r.axisType());
      return replace(swapped, tmp, List.of(r.withAxis(o.axisId(), r.axisType())), null);
    }
    boolean split = opt.op() == OptOp.UPCAST || opt.op() == OptOp.UNROLL || opt.op() == OptOp.LOCAL && opt.amount() > 1;
    if (!r.fixedSize() && opt.op() != OptOp.PADTO && opt.op() != OptOp.THREAD && !(split && quotient(r.src(0), opt.amount()) != null)
        || opt.op() == OptOp.MERGE && opt.axis() + 1 < axes.size() && !axes.get(opt.axis() + 1).fixedSize())
      throw new IllegalArgumentException(opt + ": the range's size is symbolic (" + r.src(0) + "): it can be padded to a multiple (PADTO), then split, or moved (SWAP)");
    if (opt.op() == OptOp.GROUP) return group(ast, r, opt.amount());
    if (opt.op() == OptOp.MERGE) {
      if (opt.axis() + 1 >= axes.size() || r.axisType() != AxisType.LOOP || axes.get(opt.axis() + 1).axisType() != AxisType.LOOP)
        throw new IllegalArgumentException(opt + ": needs two output loops, has " + axes);
      var o = axes.get(opt.axis() + 1);
      var m = UOp.range(r.rangeSize() * o.rangeSize(), r.axisId(), AxisType.LOOP);
      return ast.substitute(java.util.Map.of(r, m.idiv(o.rangeSize()), o, m.mod(o.rangeSize())));
    }
    if (opt.op() == OptOp.LOCAL && r.axisType() != AxisType.LOOP) throw new IllegalArgumentException(opt + ": needs an output loop, not " + r.axisType());
    if (opt.op() == OptOp.LOCAL && opt.amount() == 1) return replace(ast, r, List.of(UOp.range(r.rangeSize(), r.axisId(), AxisType.GLOBAL)), null);
    if (opt.op() == OptOp.THREAD && r.fixedSize()) return replace(ast, r, List.of(UOp.range(r.rangeSize(), r.axisId(), AxisType.THREAD)), null);
    if (opt.op() == OptOp.THREAD) { // a symbolic range: the device splits it as it is at launch
      if (r.axisType() != AxisType.LOOP) throw new IllegalArgumentException(opt + ": needs an output loop, not " + r.axisType());
      return replace(ast, r, List.of(r.withAxis(r.axisId(), AxisType.THREAD)), null);
    }
    if (opt.op() == OptOp.PADTO) return padTo(ast, r, opt.amount());

    int k = opt.amount();
    var q = quotient(r.src(0), k);
    if (k <= 1 || q == null) throw new IllegalArgumentException(opt + ": " + k + " does not divide " + r.src(0));
    int id = 1 + ast.toposort().stream().filter(u -> u.op() == Ops.RANGE).mapToInt(UOp::axisId).max().orElse(0);
    var inner = UOp.range(k, id, switch (opt.op()) { case UPCAST -> AxisType.UPCAST; case LOCAL -> AxisType.LOCAL; default -> AxisType.UNROLL; });
    var outer = q.isConst(1) ? UOp.idx(0) : UOp.range(q, r.axisId(), opt.op() == OptOp.LOCAL ? AxisType.GLOBAL : r.axisType());
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
    var n = r.src(0);
    if (quotient(n, k) != null) return ast;
    // a symbolic size n grows to (n + k - 1) // k * k, a product UPCAST and LOCAL can split
    var m = n.isConst() ? UOp.idx((n.asLong() + k - 1) / k * k) : n.add(k - 1).idiv(k).mul(k);
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

  /**
   * Splits reduce range r (size n) across k work-items of a group: each reduces n / k elements (work-item g takes
   * g, g + k, ...: neighbours read neighbouring memory), stores its partial result into local memory, and after a
   * barrier every work-item combines the k partials; only work-item 0 stores. The reduction's other outputs must be
   * launch dimensions (GLOBAL, LOCAL): a loop around the barrier would reuse local memory other work-items still read.
   */
  private static UOp group(UOp ast, UOp r, int k) {
    int n = r.rangeSize();
    if (k <= 1 || n % k != 0) throw new IllegalArgumentException("GROUP " + k + ": does not divide " + n);
    var reds = ast.toposort().stream().filter(u -> u.op() == Ops.REDUCE && u.src().contains(r)).toList();
    if (reds.size() != 1) throw new IllegalArgumentException("GROUP " + k + ": range " + r.axisId() + " belongs to " + reds.size() + " reductions");
    var red = reds.getFirst();
    var free = red.src(0).toposort().stream().filter(u -> u.op() == Ops.RANGE && !red.src().contains(u)).toList();
    if (free.stream().anyMatch(u -> u.axisType() != AxisType.GLOBAL && u.axisType() != AxisType.LOCAL)
        || ast.toposort().stream().anyMatch(u -> u.op() == Ops.REDUCE && u != red && u.allNodes().contains(red)))
      throw new IllegalArgumentException("GROUP " + k + ": the reduction's outputs must all be GLOBAL or LOCAL and it must not sit in another reduction, has " + free);
    int id = 1 + ast.toposort().stream().filter(u -> u.op() == Ops.RANGE).mapToInt(UOp::axisId).max().orElse(0);
    var g = UOp.range(k, id, AxisType.LOCAL);
    var part = replace(red, r, List.of(UOp.range(n / k, r.axisId(), AxisType.REDUCE)), UOp.range(n / k, r.axisId(), AxisType.REDUCE).mul(k).add(g));
    var j = UOp.range(k, id + 1, AxisType.REDUCE);
    var locals = new ArrayList<>(free.stream().filter(u -> u.axisType() == AxisType.LOCAL).toList());
    locals.add(g);
    var buf = UOp.of(Ops.DEFINE_LOCAL, red.dtype(), new UOp.Acc(id, locals.stream().mapToInt(UOp::rangeSize).reduce(1, (a, b) -> a * b)));
    var stored = UOp.of(Ops.BARRIER, red.dtype(), null, UOp.of(Ops.STORE, DType.BOOL, null, buf, flat(locals), part));
    var reread = new ArrayList<>(locals);
    reread.set(reread.size() - 1, j);
    var total = UOp.of(Ops.REDUCE, red.dtype(), red.arg(), UOp.of(Ops.LOAD, red.dtype(), null, stored, flat(reread)), j);
    var first = g.lt(1);
    var memo = new IdentityHashMap<UOp, UOp>();
    for (var u : ast.toposort()) {
      var out = u == red ? total : u.withSrc(u.src().stream().map(s -> memo.getOrDefault(s, s)).toList());
      if (u.op() == Ops.STORE && u.src(0).op() == Ops.DEFINE_GLOBAL) { // work-item 0 stores
        var src = new ArrayList<>(out.src());
        if (src.size() > 3) src.set(3, src.get(3).and(first)); else src.add(first);
        out = UOp.of(u.op(), u.dtype(), u.arg(), src);
      }
      memo.put(u, out);
    }
    return memo.get(ast);
  }

  private static UOp flat(List<UOp> rs) {
    UOp idx = rs.getFirst();
    for (var x : rs.subList(1, rs.size())) idx = idx.mul(x.rangeSize()).add(x);
    return idx;
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

  /**
   * The opts the hand-coded heuristic picks for a kernel on a device with this many threads and float vector lanes
   * (1: scalar code).
   */
  public static List<Opt> heuristic(UOp ast, int threads, int lanes) {
    var opts = new ArrayList<Opt>();
    var cur = ast;
    var loops = loops(ast);
    // a register tile pays when some reduced load does not depend on the tile's wide dim, so each value it loads
    // serves a whole tile row (a matmul's left operand); a reduction along rows (layer norm) has none
    var wide = loops.isEmpty() ? null : widest(ast, loops, lanes);
    boolean reuse = wide != null && ast.toposort().stream().anyMatch(u -> u.op() == Ops.LOAD && !u.src(1).allNodes().contains(wide)
        && u.src(1).allNodes().stream().anyMatch(n -> n.op() == Ops.RANGE && n.axisType() == AxisType.REDUCE));
    if (!reduces(ast).isEmpty() && loops.size() >= 2 && reuse) {
      // register tile: the dim loads read contiguously goes wide; deep is a dim that load does not depend on, so each
      // vector it loads serves the whole tile column (matmul: rows of A; conv: out channels). Its accumulators fit in
      // 16 vector registers: 8x32 with 16 lanes, 4x32 with 8 (measured: 8x32 spills there, 64 vs 95 GFLOPS at 1024)
      var wideLoad = ast.toposort().stream().filter(u -> u.op() == Ops.LOAD && strideOne(u.src(1), wide)).findFirst();
      UOp deep = null;
      for (var r : loops.reversed()) {
        if (r == wide || tileDivisor(r) == 0) continue;
        boolean reused = wideLoad.isPresent() && !wideLoad.get().src(1).allNodes().contains(r);
        if (deep == null || reused && (tileDivisor(r) > tileDivisor(deep)
            || wideLoad.get().src(1).allNodes().contains(deep))) deep = r;
      }
      // a long wide dim with no divisor to tile by is padded to a multiple of 16 (masked: the gated loads cost, so
      // only then); a short one is taken whole
      if (wide.fixedSize() ? wide.rangeSize() > 32 && firstDivisor(wide.rangeSize(), 16, 8) == 0 : quotient(wide.src(0), 16) == null) {
        cur = add(opts, cur, new Opt(OptOp.PADTO, loops(cur).indexOf(wide), 16));
      }
      int w;
      if (wide.fixedSize()) {
        int wideSize = byId(loops(cur), wide.axisId()).rangeSize();
        w = wideSize <= 32 && wideSize > 4 ? wideSize : firstDivisor(wideSize, 32, 16, 8, 4);
      } else w = 16;
      for (var pick : new UOp[]{deep, wide}) {
        if (pick == null || (pick == wide && w == 0)) continue;
        int vectors = lanes > 1 ? (w + lanes - 1) / lanes : 1;
        var allowed = java.util.stream.IntStream.of(w > 16 ? new int[]{8, 4} : new int[]{16, 8, 4})
            .filter(x -> lanes <= 1 || x * vectors <= 16 || x == 4).toArray(); // the tile stays near 256
        int d = pick.fixedSize() ? firstDivisor(pick.rangeSize(), allowed) : allowed[0];
        var ls = loops(cur);
        int amount = pick == wide ? w : d;
        if (quotient(byId(ls, pick.axisId()).src(0), amount) == null) { // a symbolic dim is padded to a multiple of the tile (masked), then split
          cur = add(opts, cur, new Opt(OptOp.PADTO, ls.indexOf(byId(ls, pick.axisId())), amount));
          ls = loops(cur);
        }
        cur = add(opts, cur, new Opt(OptOp.UPCAST, ls.indexOf(byId(ls, pick.axisId())), pick == wide ? w : d));
      }
      // the loop over tiles of the wide dim goes outermost: its column strip stays in cache across the others; of
      // the others, those that move the loads furthest go outer, so the inner ones walk data that stays in cache (a
      // convolution's weight gradient: a block of images while filter taps and channels vary)
      var ls0 = loops(cur);
      int wideOuter = -1;
      for (int i = 0; i < ls0.size(); i++) if (ls0.get(i).axisId() == wide.axisId()) wideOuter = i;
      if (wideOuter > 0) cur = add(opts, cur, new Opt(OptOp.SWAP, 0, wideOuter));
      for (int i = wideOuter >= 0 ? 1 : 0; i < loops(cur).size(); i++) {
        var ls = loops(cur);
        int far = i;
        for (int j = i + 1; j < ls.size(); j++) if (reach(cur, ls.get(j)) > reach(cur, ls.get(far))) far = j;
        if (far != i) cur = add(opts, cur, new Opt(OptOp.SWAP, i, far));
      }
    }
    if (!reduces(ast).isEmpty() && opts.isEmpty() && !loops.isEmpty() && loops.getLast().fixedSize()) {
      // no tile, the innermost output dim read contiguously: a vector of accumulators (independent sums, vector loads)
      int n = loops.getLast().rangeSize(), w = n >= 4 && n <= 32 ? n : firstDivisor(n, 16, 8, 4);
      if (w > 0 && contiguousAxis(ast, loops) == loops.size() - 1 && strideOneSomewhere(ast, loops.getLast())) cur = add(opts, cur, new Opt(OptOp.UPCAST, loops.size() - 1, w));
    }
    var remaining = loops(cur);
    long work = ast.toposort().stream().filter(u -> u.op() == Ops.RANGE).mapToLong(u -> u.src(0).vmax()).reduce(1, (a, b) -> a * b);
    // the outermost loop (a symbolic one too: the device splits it at launch)
    if (threads > 1 && !remaining.isEmpty() && remaining.getFirst().src(0).vmax() >= 2 && work >= 1 << 16)
      opts.add(new Opt(OptOp.THREAD, 0, threads));
    return opts;
  }

  /**
   * The opts the hand-coded heuristic picks for a GPU whose work-groups hold up to maxLocal work-items: a 4x4
   * register tile for large reductions' outputs, all output loops merged into one launch dimension split into
   * work-groups, and a small output's long reduction shared by the work-items of a group.
   */
  public static List<Opt> gpu(UOp ast, int maxLocal) {
    var opts = new ArrayList<Opt>();
    var cur = ast;
    // symbolic loops go innermost and stay loops inside each work-item: launch dimensions are fixed sizes
    for (int i = loops(cur).size() - 1, end = i; i >= 0; i--)
      if (!loops(cur).get(i).fixedSize()) {
        if (i != end) cur = add(opts, cur, new Opt(OptOp.SWAP, i, end));
        end--;
      }
    var loops = loops(cur).stream().filter(UOp::fixedSize).toList();
    long outputs = loops.stream().mapToLong(UOp::rangeSize).reduce(1, (a, b) -> a * b);
    if (!reduces(ast).isEmpty() && loops.size() >= 2 && outputs >= 1 << 16) {
      var wide = loops.get(contiguousAxis(cur, loops));
      var deep = loops.reversed().stream().filter(r -> r != wide && r.rangeSize() % 4 == 0).findFirst();
      if (wide.rangeSize() % 4 == 0 && deep.isPresent())
        for (var pick : List.of(deep.get(), wide)) cur = add(opts, cur, new Opt(OptOp.UPCAST, loops(cur).indexOf(byId(loops(cur), pick.axisId())), 4));
    }
    while (loops(cur).size() > 1 && loops(cur).get(1).fixedSize()) cur = add(opts, cur, new Opt(OptOp.MERGE, 0, 0));
    int cap = Math.min(256, maxLocal);
    boolean launch = !loops(cur).isEmpty() && loops(cur).getFirst().fixedSize();
    long items = launch ? loops(cur).getFirst().rangeSize() : 1;
    var reds = reduces(cur);
    UOp shared = null;
    int k = 0;
    if (items <= 2048)
      for (var r : reds) {
        int d = !r.fixedSize() || r.rangeSize() < 128 ? 0 : firstDivisor(r.rangeSize(), java.util.stream.IntStream.of(256, 128, 64, 32, 16).filter(x -> x <= cap && x * 4 <= r.rangeSize()).toArray());
        if (d > k) { k = d; shared = r; }
      }
    if (launch) {
      int n = loops(cur).getFirst().rangeSize();
      int l = shared != null ? 1 : n <= Math.min(32, cap) ? n : firstDivisor(n, java.util.stream.IntStream.of(256, 128, 64, 32).filter(x -> x <= cap).toArray());
      if (l == 0) cur = add(opts, cur, new Opt(OptOp.PADTO, 0, l = Math.min(32, cap)));
      cur = add(opts, cur, new Opt(OptOp.LOCAL, 0, l));
    }
    if (shared != null) {
      var o = new Opt(OptOp.GROUP, reds.indexOf(shared), k);
      try {
        apply(cur, o);
        opts.add(o);
      } catch (IllegalArgumentException e) { /* nested or several reductions: each work-item reduces on its own */ }
    }
    return opts;
  }

  /** The most elements one step of loop r moves any load from a buffer (0: none depends on it linearly). */
  private static long reach(UOp ast, UOp r) {
    return ast.toposort().stream().filter(u -> u.op() == Ops.LOAD && u.src(0).op() == Ops.DEFINE_GLOBAL)
        .mapToLong(u -> { var s = Lanes.stride(u.src(1), r); return s == null ? 0 : Math.abs(s); }).max().orElse(0);
  }

  /** The tile size a dim allows: the largest of 16, 8, 4 dividing it, 8 for a symbolic one (padded), 0 if none. */
  private static int tileDivisor(UOp r) { return r.fixedSize() ? firstDivisor(r.rangeSize(), 16, 8, 4) : 8; }

  /** size / k where k divides size: a constant's quotient, or q·(c/k) for a symbolic size q·c with k dividing c; else null. */
  private static UOp quotient(UOp size, int k) {
    if (k < 1) return null;
    if (size.isConst()) return size.asLong() % k == 0 ? UOp.idx(size.asLong() / k) : null;
    if (size.op() != Ops.MUL || !size.src(1).isConst() || size.src(1).asLong() % k != 0) return null;
    long c = size.src(1).asLong() / k;
    return c == 1 ? size.src(0) : size.src(0).mul(c);
  }

  private static UOp add(List<Opt> opts, UOp ast, Opt o) {
    opts.add(o);
    return apply(ast, o);
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

  /** The output loop some load reads with stride 1, one that fills the vector lanes if there is one. */
  private static UOp widest(UOp ast, List<UOp> loops, int lanes) {
    var wide = loops.get(contiguousAxis(ast, loops));
    if (lanes > 1 && wide.fixedSize() && wide.rangeSize() % lanes != 0)
      for (var r : loops) if (r.fixedSize() && r.rangeSize() % lanes == 0 && strideOneSomewhere(ast, r)) return r;
    return wide;
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
