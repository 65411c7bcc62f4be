package dev.tinygrad4j.engine;

import dev.tinygrad4j.codegen.Codegen;
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
 * The scheduler's layout decision for CPU register tiles: a product summed over the rows of a large K×N matrix (a
 * matmul's right operand) reads it from a copy laid out as panels of 32 columns, each panel's K rows one after the
 * other, so the tile walking down K reads memory in order instead of jumping a whole row (a page for N = 1024) per
 * step. The values are the same; the copy costs K·N of the product's M·K·N work, and the copy of a buffer is kept
 * while the buffer lives and is not written again. GPU-like targets get none (their work-items read rows side by side).
 */
final class Panels {
  private Panels() {}

  static final int WIDTH = 32;

  /** A buffer's panel copy and the version of the buffer it was copied from. */
  private record Copy(Buffer panels, long version) {}
  private static final Map<Buffer, Copy> CACHE = Collections.synchronizedMap(new WeakHashMap<>());

  /** The panel copies a plan made, recorded once the plan has run (see {@link #commit}). */
  static final class Made {
    private final Map<Buffer, Copy> made = new HashMap<>();
  }

  /** Records the panel copies of a plan that ran, so later plans reuse them. */
  static void commit(Made m) { CACHE.putAll(m.made); }

  /** Forgets panel copies held in these buffers or copied from them. */
  static void forget(java.util.Set<Buffer> bufs) {
    synchronized (CACHE) { CACHE.entrySet().removeIf(e -> bufs.contains(e.getKey()) || bufs.contains(e.getValue().panels())); }
  }

  /**
   * The kernel with every qualifying matrix read from its panel copy (appended to bufs); copy kernels for panels
   * not made yet are added to items first.
   */
  static UOp apply(UOp ast, List<Buffer> bufs, List<Schedule.Item> items, Made made) {
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
    if (found.isEmpty()) return ast;
    var repl = new IdentityHashMap<UOp, UOp>();
    var params = new HashMap<Integer, UOp>();
    var loads = ast.toposort().stream().filter(u -> u.op() == Ops.LOAD && u.src(0).op() == Ops.DEFINE_GLOBAL).toList();
    for (var e : found.entrySet()) {
      var load = e.getKey(); var m = e.getValue();
      int j = (Integer) load.src(0).arg();
      var p = params.computeIfAbsent(j, k -> {
        var panels = panels(bufs.get(k), m.k(), m.n(), items, made);
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

  /** The panel copy of b: kept from an earlier plan, made earlier in this plan, or made now by a copy kernel. */
  private static Buffer panels(Buffer b, int k, int n, List<Schedule.Item> items, Made made) {
    var kept = CACHE.get(b);
    if (kept != null && kept.version() == b.version()) {
      Runner.kept(kept.panels(), b);
      return kept.panels();
    }
    var mine = made.made.get(b);
    if (mine != null) return mine.panels();
    var out = new Buffer(b.device(), b.dtype(), b.size());
    var value = Schedule.view(b, new int[]{k, n / WIDTH, WIDTH}).permute(1, 0, 2);
    var bufs = new ArrayList<Buffer>();
    var ast = Lowerer.lower(value, out, bufs);
    items.add(new Schedule.Kernel("panels_" + k + "_" + n, ast, bufs));
    made.made.put(b, new Copy(out, b.version()));
    return out;
  }
}
