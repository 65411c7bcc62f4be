package dev.tinygrad4j.engine;

import dev.tinygrad4j.codegen.Codegen;
import dev.tinygrad4j.codegen.Lanes;
import dev.tinygrad4j.runtime.Buffer;
import dev.tinygrad4j.uop.Ops;
import dev.tinygrad4j.uop.UOp;
import dev.tinygrad4j.uop.UOp.AxisType;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * The scheduler's layout decisions for CPU register tiles. Panels: a product summed over the rows of a large K×N matrix (a
 * matmul's right operand) reads it from a copy laid out as panels of 32 columns, each panel's K rows one after the
 * other, so the tile walking down K reads memory in order instead of jumping a whole row (a page for N = 1024) per
 * step. Lanes: a small operand (a convolution's weights) read at rn·s + rest, rn an output dim of a multiple of the
 * vector width, is read from a copy with rn innermost, so rn can fill the vector lanes where the other operand's rows
 * (a convolution's 6, 10, 20 or 24 pixels) would fill them only partly. The values are the same; a copy costs next to
 * nothing against the product, and the copy of a buffer is kept while the buffer lives and is not written again.
 * GPU-like targets get none (their work-items read rows side by side).
 */
final class Panels {
  private Panels() {}

  static final int WIDTH = 32;

  /** A buffer's copy in another layout and the version of the buffer it was copied from. */
  private record Copy(Buffer panels, long version) {}
  /** Copies by source buffer, then by layout ("panels KxN", "lanes OxNxS"). */
  private static final Map<Buffer, Map<String, Copy>> CACHE = Collections.synchronizedMap(new WeakHashMap<>());

  /** The copies a plan made, recorded once the plan has run (see {@link #commit}). */
  static final class Made {
    private final Map<Buffer, Map<String, Copy>> made = new HashMap<>();
  }

  /** Records the copies of a plan that ran, so later plans reuse them. */
  static void commit(Made m) {
    synchronized (CACHE) { m.made.forEach((b, copies) -> CACHE.computeIfAbsent(b, k -> new HashMap<>()).putAll(copies)); }
  }

  /** Forgets copies held in these buffers or copied from them. */
  static void forget(java.util.Set<Buffer> bufs) {
    synchronized (CACHE) {
      CACHE.keySet().removeAll(bufs);
      for (var copies : CACHE.values()) copies.values().removeIf(c -> bufs.contains(c.panels()));
    }
  }

  /**
   * The kernel with every qualifying matrix read from its panel copy (appended to bufs); copy kernels for panels
   * not made yet are added to items first.
   */
  static UOp apply(UOp ast, List<Buffer> bufs, List<Schedule.Item> items, Made made, int width) {
    var found = new IdentityHashMap<UOp, Match>(); // qualifying load → how it walks the matrix
    for (var red : ast.toposort()) {
      if (red.op() != Ops.REDUCE || red.arg() != Ops.ADD || red.src(0).op() != Ops.MUL) continue;
      var mul = red.src(0);
      for (int side = 0; side < 2; side++)
        for (var load : mul.src(side).toposort())
          if (load.op() == Ops.LOAD && load.src().size() == 2 && load.src(0).op() == Ops.DEFINE_GLOBAL && !found.containsKey(load)) {
            var m = match(load, red, mul.src(1 - side), bufs);
            if (m != null) found.put(load, m);
          }
    }
    var lanes = new IdentityHashMap<UOp, LaneCopy>(); // loads whose buffer gets an output dim moved innermost
    if (found.isEmpty()) lanes = lanesMatches(ast, bufs, width);
    if (found.isEmpty() && lanes.isEmpty()) return ast;
    var repl = new IdentityHashMap<UOp, UOp>();
    var params = new HashMap<Integer, UOp>();
    var loads = ast.toposort().stream().filter(u -> u.op() == Ops.LOAD && u.src(0).op() == Ops.DEFINE_GLOBAL).toList();
    for (var e : lanes.entrySet()) {
      var load = e.getKey(); var m = e.getValue();
      int j = (Integer) load.src(0).arg();
      var copy = copy(bufs.get(j), "lanes " + m.outer() + "x" + m.n() + "x" + m.s(), new int[]{m.outer(), m.n(), m.s()}, new int[]{0, 2, 1}, items, made);
      // the copy takes the buffer's place when this is its only read, else a place of its own
      if (loads.stream().allMatch(u -> (Integer) u.src(0).arg() != j || u == load)) bufs.set(j, copy); else bufs.add(copy);
      repl.put(load, UOp.of(Ops.LOAD, load.dtype(), null, UOp.of(Ops.DEFINE_GLOBAL, copy.dtype(), bufs.get(j) == copy ? j : bufs.size() - 1), m.index()));
    }
    for (var e : found.entrySet()) {
      var load = e.getKey(); var m = e.getValue();
      int j = (Integer) load.src(0).arg();
      var p = params.computeIfAbsent(j, k -> {
        var panels = copy(bufs.get(k), "panels " + m.k() + "x" + m.n(), new int[]{m.k(), m.n() / WIDTH, WIDTH}, new int[]{1, 0, 2}, items, made);
        // the panels take the matrix's place when every read of it goes to them, else a place of their own
        if (loads.stream().allMatch(u -> (Integer) u.src(0).arg() != k || found.containsKey(u))) bufs.set(k, panels);
        else bufs.add(panels);
        return UOp.of(Ops.DEFINE_GLOBAL, panels.dtype(), bufs.get(k) == panels ? k : bufs.size() - 1);
      });
      var rn = m.rn(); var rk = m.rk();
      var idx = rn.idiv(WIDTH).mul((long) WIDTH * m.k()).add(rk.mul(WIDTH)).add(rn.mod(WIDTH));
      repl.put(load, UOp.of(Ops.LOAD, load.dtype(), null, p, idx));
    }
    return ast.substitute(repl);
  }

  private record Match(UOp rk, UOp rn, int k, int n) {}

  /** The reduce range (rows) and output range (columns) if load reads a whole K×N row-major buffer at rk·N + rn. */
  private static Match match(UOp load, UOp red, UOp other, List<Buffer> bufs) {
    var idx = Codegen.simplify(load.src(1));
    if (idx.op() != Ops.ADD) return null;
    for (int i = 0; i < 2; i++) {
      var term = idx.src(i); var rn = idx.src(1 - i);
      if (term.op() != Ops.MUL || !term.src(1).isConst() || rn.op() != Ops.RANGE || rn.axisType() != AxisType.LOOP || !rn.fixedSize()) continue;
      var rk = term.src(0);
      if (rk.op() != Ops.RANGE || !rk.fixedSize()) continue;
      int n = rn.rangeSize();
      if (rk.op() != Ops.RANGE || !red.src().contains(rk) || term.src(1).asLong() != n) continue;
      int k = rk.rangeSize();
      long size = bufs.get((Integer) load.src(0).arg()).size();
      // each value of the other factor serves a whole row of columns (a tile's reuse); narrow or short matrices gain nothing
      if (size != (long) k * n || n % WIDTH != 0 || n < 2 * WIDTH || k < 128 || other.allNodes().contains(rn)) continue;
      return new Match(rk, rn, k, n);
    }
    return null;
  }

  /**
   * Where a product summed over a reduction reads a whole small buffer (a convolution's weights) at rn·s + rest, rn
   * an output dim of a multiple of width elements that the other factor does not read, and no load of the kernel
   * reads a multiple of width elements in a row: that load, with the buffer's copy with rn's dim innermost (viewed as
   * [outer, n, s], stored as [outer, s, n]) and its index there. The tile then puts rn in the vector lanes, where a
   * convolution's rows (6, 10, 20 or 24 wide) fill them only partly.
   */
  private static IdentityHashMap<UOp, LaneCopy> lanesMatches(UOp ast, List<Buffer> bufs, int width) {
    var out = new IdentityHashMap<UOp, LaneCopy>();
    if (width <= 1) return out;
    var loads = ast.toposort().stream().filter(u -> u.op() == Ops.LOAD && u.src(0).op() == Ops.DEFINE_GLOBAL).toList();
    var loops = ast.toposort().stream().filter(u -> u.op() == Ops.RANGE && u.axisType() == AxisType.LOOP && u.fixedSize()).toList();
    for (var l : loads) {
      var idx = Codegen.simplify(l.src(1));
      for (var r : loops) if (r.rangeSize() % width == 0 && java.util.Objects.equals(Lanes.stride(idx, r), 1L)) return out; // already fills lanes
    }
    long work = ast.toposort().stream().filter(u -> u.op() == Ops.RANGE).mapToLong(u -> u.src(0).vmax()).reduce(1, (a, b) -> a * b);
    for (var red : ast.toposort()) {
      if (red.op() != Ops.REDUCE || red.arg() != Ops.ADD || red.src(0).op() != Ops.MUL) continue;
      var mul = red.src(0);
      for (int side = 0; side < 2; side++) {
        var load = mul.src(side);
        if (load.op() != Ops.LOAD || load.src().size() != 2 || load.src(0).op() != Ops.DEFINE_GLOBAL || out.containsKey(load)) continue;
        long size = bufs.get((Integer) load.src(0).arg()).size();
        long others = mul.src(1 - side).toposort().stream().filter(u -> u.op() == Ops.DEFINE_GLOBAL).mapToLong(u -> bufs.get((Integer) u.arg()).size()).max().orElse(0);
        // the copy must cost next to nothing against the product, and the operand is the small one (weights, not images)
        if (size * 64 > work || size * 8 > others) continue;
        var idx = Codegen.simplify(load.src(1));
        for (var rn : loops) {
          var stride = Lanes.stride(idx, rn); // exact: rest is idx with rn at 0
          long s = stride == null ? 0 : stride;
          int n = rn.rangeSize();
          if (n % width != 0 || s <= 1 || red.src().contains(rn) || mul.src(1 - side).allNodes().contains(rn) || size % (n * s) != 0) continue;
          var rest = Codegen.simplify(idx.substitute(Map.of(rn, UOp.idx(0))));
          var inner = Codegen.simplify(rest.mod(n * s));
          if (rest.allNodes().contains(rn) || inner.vmin() < 0 || inner.vmax() >= s) continue; // rest = outer·n·s + inner, inner < s
          var index = Codegen.simplify(rest.idiv(n * s).mul(n * s).add(inner.mul(n)).add(rn));
          out.put(load, new LaneCopy((int) (size / (n * s)), n, (int) s, index));
          break;
        }
      }
    }
    return out;
  }

  /** A load moved to a lanes copy: the source viewed as [outer, n, s], the copy [outer, s, n], the load's index there. */
  private record LaneCopy(int outer, int n, int s, UOp index) {}

  /**
   * The copy of b in a layout (b viewed as shape, permuted by perm): kept from an earlier plan, made earlier in this
   * plan, or made now by a copy kernel.
   */
  private static Buffer copy(Buffer b, String layout, int[] shape, int[] perm, List<Schedule.Item> items, Made made) {
    Copy kept;
    synchronized (CACHE) { kept = CACHE.getOrDefault(b, Map.of()).get(layout); }
    if (kept != null && kept.version() == b.version()) {
      Runner.kept(kept.panels(), b);
      return kept.panels();
    }
    var mine = made.made.getOrDefault(b, Map.of()).get(layout);
    if (mine != null) return mine.panels();
    var out = new Buffer(b.device(), b.dtype(), b.size());
    var value = Schedule.view(b, shape).permute(perm);
    var bufs = new ArrayList<Buffer>();
    var ast = Lowerer.lower(value, out, bufs);
    items.add(new Schedule.Kernel(layout.replace(' ', '_').replace('x', '_'), ast, bufs));
    made.made.computeIfAbsent(b, k -> new HashMap<>()).put(layout, new Copy(out, b.version()));
    return out;
  }
}
