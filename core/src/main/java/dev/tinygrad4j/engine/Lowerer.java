package dev.tinygrad4j.engine;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.codegen.Codegen;
import dev.tinygrad4j.runtime.Buffer;
import dev.tinygrad4j.uop.Ops;
import dev.tinygrad4j.uop.UOp;
import dev.tinygrad4j.uop.UOp.ReduceArg;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns the tensor graph of one kernel into its AST: movement ops become index arithmetic over loop ranges, buffers
 * become LOADs from parameters, reductions become REDUCE over fresh ranges, and the result is STOREd to parameter 0.
 */
final class Lowerer {
  private record Key(UOp u, List<UOp> idx, UOp valid) {}

  private final Map<Buffer, UOp> params = new LinkedHashMap<>();
  private final Map<Key, UOp> memo = new HashMap<>();
  private final Map<Integer, UOp> vars;
  private final Map<Buffer, Made> made;
  /** A buffer a symbolic kernel of the schedule wrote: the shape it was written in, and its sizes as that kernel saw them. */
  record Made(int[] shape, UOp[] sizes) {
    /** Its element count, an expression of the variables. */
    UOp count() { return prod(sizes, 0, sizes.length); }
  }
  private final Map<UOp, List<UOp.Bind>> tags;
  private final Map<UOp, UOp[]> symbolic = new java.util.IdentityHashMap<>();
  private int ranges;

  private Lowerer(Map<Integer, UOp> vars, Map<Buffer, Made> made, Map<UOp, List<UOp.Bind>> tags) { this.vars = vars; this.made = made; this.tags = tags; }

  /** The kernel AST that computes value into out, and the buffers its parameters stand for (out first). */
  static UOp lower(UOp value, Buffer out, List<Buffer> bufsOut) { return lower(value, out, bufsOut, Map.of(), new java.util.HashMap<>(), Map.of()); }

  /**
   * As {@link #lower(UOp, Buffer, List)}, with every dimension whose size is a key of vars given as that variable
   * (DEFINE_VAR): loop ranges, strides and bounds over it are symbolic, so the AST is the same for every size the
   * variable is bound to. Every decision the lowering takes (which dims are 1, how a reshape regroups) comes from the
   * actual sizes, and the variable holds the actual size at launch: the kernel computes what the fixed-size one would.
   * made holds the symbolic element counts of the buffers earlier kernels of the schedule wrote (a view of one
   * regroups from that count); this kernel's output is added. tags names the dims Tensor.bind bound, by node.
   */
  static UOp lower(UOp value, Buffer out, List<Buffer> bufsOut, Map<Integer, UOp> vars, Map<Buffer, Made> made, Map<UOp, List<UOp.Bind>> tags) {
    var l = new Lowerer(vars, made, tags);
    l.param(out);
    var shape = value.shape();
    var sizes = l.sizes(value);
    var idx = new ArrayList<UOp>();
    for (int i = 0; i < shape.length; i++) idx.add(l.range(shape[i], sizes[i], UOp.AxisType.LOOP));
    var v = l.lower(value, idx, UOp.cnst(DType.BOOL, 1L));
    var store = UOp.of(Ops.STORE, DType.BOOL, null, l.params.get(out), flat(idx, sizes), v);
    bufsOut.addAll(l.params.keySet());
    if (!prod(sizes, 0, sizes.length).isConst()) made.put(out, new Made(shape, sizes));
    return UOp.of(Ops.SINK, DType.BOOL, null, store);
  }

  private UOp param(Buffer b) {
    return params.computeIfAbsent(b, k -> UOp.of(Ops.DEFINE_GLOBAL, k.dtype(), params.size()));
  }

  private UOp range(int size, UOp sym, UOp.AxisType type) { return size == 1 ? UOp.idx(0) : UOp.range(sym, ranges++, type); }

  /** A size as the kernel sees it where nothing says more: its variable if one is bound to this size, else the constant. */
  private UOp dim(long size) {
    var v = size > 1 && size <= Integer.MAX_VALUE ? vars.get((int) size) : null;
    return v != null ? v : UOp.idx(size);
  }

  /**
   * The sizes of u's dims as the kernel sees them, each equal to the actual size at the bound values: the variable
   * where Tensor.bind bound it; for a derived node, from its sources' sizes (a dim a reshape merges is the product of
   * the merged ones, so [n, 16] flattened is n*16); for a leaf, a broadcast or a cut, {@link #dim}.
   */
  @SuppressWarnings("unchecked")
  private UOp[] sizes(UOp u) {
    var done = symbolic.get(u);
    if (done != null) return done;
    var shape = u.shape();
    var out = new UOp[shape.length];
    var in = u.src().isEmpty() ? null : u.src(0).shape();
    var src = in == null || vars.isEmpty() ? null : sizes(u.src(0));
    // a leaf's dims are guessed by value; a derived node's dims follow its sources, so a fixed dim stays fixed (a
    // weight's 32 columns while the bound size is 32) unless nothing but its value says what it is (an expand)
    for (int i = 0; i < out.length; i++) out[i] = src == null ? dim(shape[i]) : UOp.idx(shape[i]);
    if (u.op() == Ops.BUFFER && made.containsKey(u.buffer())) out[0] = made.get(u.buffer()).count();
    var from = u.op() == Ops.RESHAPE && u.src(0).op() == Ops.BUFFER ? made.get(u.src(0).buffer()) : null;
    if (from != null) { in = from.shape(); src = from.sizes(); } // a view of what a kernel wrote: regrouped from its dims
    if (src != null) switch (u.op()) {
      case RESHAPE -> {
        for (int[] g : groups(in, shape)) {
          boolean fixed = true;
          for (int m = g[0]; m < g[1]; m++) fixed &= src[m].isConst();
          if (fixed) continue; // fixed dims regrouped: fixed
          for (int j = g[2]; j < g[3]; j++) out[j] = dim(shape[j]); // a symbolic one regrouped: guessed by value, then
          if (g[3] - g[2] == 1) out[g[2]] = prod(src, g[0], g[1]); // one dim made of several: their product
          else if (g[1] - g[0] == 1 && !src[g[0]].isConst() // a symbolic one split, its size not yet accounted for by the
              && Codegen.simplify(prod(out, g[2], g[3])) != Codegen.simplify(src[g[0]])) { // parts: the outermost fixed part is the quotient
            for (int j = g[2]; j < g[3]; j++) {
              if (shape[j] == 1 || !out[j].isConst()) continue;
              var rest = new ArrayList<UOp>(java.util.Arrays.asList(out).subList(g[2], g[3]));
              rest.remove(j - g[2]);
              out[j] = Codegen.simplify(UOp.alu(Ops.IDIV, src[g[0]], prod(rest.toArray(UOp[]::new), 0, rest.size())));
              break;
            }
          }
        }
      }
      case PERMUTE -> {
        var p = (List<Integer>) u.arg();
        for (int i = 0; i < out.length; i++) out[i] = src[p.get(i)];
      }
      case EXPAND -> { for (int i = 0; i < out.length; i++) out[i] = shape[i] == in[i] ? src[i] : dim(shape[i]); }
      case PAD, SHRINK -> { // a symbolic dim padded, or cut by less than half, stays symbolic: n + 3, n - 2; a fixed
        for (int i = 0; i < out.length; i++) // one cut to a bound size is that size (a KV cache cut at the position)
          if (shape[i] == in[i]) out[i] = src[i];
          else if (!src[i].isConst() && (u.op() == Ops.PAD || 2L * shape[i] > in[i])) out[i] = src[i].add(shape[i] - in[i]);
          else out[i] = dim(shape[i]);
      }
      case REDUCE_AXIS -> { for (int i = 0; i < out.length; i++) out[i] = shape[i] == in[i] ? src[i] : UOp.idx(1); }
      case FLIP -> System.arraycopy(src, 0, out, 0, out.length);
      default -> { // elementwise: a source's symbolic size where it has one
        for (int k = 0; k < u.src().size(); k++) {
          if (!java.util.Arrays.equals(u.src(k).shape(), shape)) continue;
          var sk = sizes(u.src(k));
          for (int i = 0; i < out.length; i++) if (out[i].isConst() && !sk[i].isConst()) out[i] = sk[i];
        }
      }
    }
    var bound = tags.get(u);
    if (bound != null) for (var b : bound) out[b.axis()] = b.variable().size(); // what Tensor.bind said
    symbolic.put(u, out);
    return out;
  }

  /** The product of sizes from..to-1 (constants folded). */
  private static UOp prod(UOp[] sizes, int from, int to) {
    long c = 1;
    UOp sym = null;
    for (int i = from; i < to; i++) {
      var d = sizes[i];
      if (d.isConst()) c *= d.asLong(); else sym = sym == null ? d : sym.mul(d);
    }
    return sym == null ? UOp.idx(c) : c == 1 ? sym : sym.mul(c);
  }

  /** Row-major flat index of idx in a shape of these sizes. */
  private static UOp flat(List<UOp> idx, UOp[] sizes) {
    UOp out = null;
    for (int i = sizes.length - 1; i >= 0; i--) {
      var stride = prod(sizes, i + 1, sizes.length);
      var term = stride.isConst(1) ? idx.get(i) : idx.get(i).mul(stride);
      out = out == null ? term : term.add(out);
    }
    return out == null ? UOp.idx(0) : out;
  }

  /**
   * How a reshape from `in` to `shape` (same size) regroups dims: runs {i0, i1, j0, j1} where in[i0..i1) and
   * shape[j0..j1) have equal products, as short as possible.
   */
  private static List<int[]> groups(int[] in, int[] shape) {
    var out = new ArrayList<int[]>();
    int i = 0, j = 0;
    while (i < in.length || j < shape.length) {
      int i0 = i, j0 = j;
      long po = i < in.length ? in[i++] : 1, pn = j < shape.length ? shape[j++] : 1;
      while (po != pn) {
        if (po < pn && i < in.length) po *= in[i++];
        else if (j < shape.length) pn *= shape[j++];
        else break;
      }
      out.add(new int[]{i0, i, j0, j});
    }
    return out;
  }

  /**
   * The index into shape `in` of the element at idx in `shape` (same size). Dims are matched in groups of equal
   * product, so dims a reshape leaves alone keep their index and only a regrouped run is flattened and split.
   */
  static List<UOp> reshapeIndex(List<UOp> idx, int[] shape, int[] in) {
    var l = new Lowerer(Map.of(), Map.of(), Map.of());
    return l.regroup(idx, shape, in, java.util.Arrays.stream(shape).mapToObj(UOp::idx).toArray(UOp[]::new),
        java.util.Arrays.stream(in).mapToObj(UOp::idx).toArray(UOp[]::new));
  }

  private List<UOp> regroup(List<UOp> idx, int[] shape, int[] in, UOp[] sizes, UOp[] inSizes) {
    var old = new ArrayList<UOp>();
    if (UOp.prod(in) == 0) { for (int ignored : in) old.add(UOp.idx(0)); return old; }
    for (int[] g : groups(in, shape)) {
      var f = flat(idx.subList(g[2], g[3]), java.util.Arrays.copyOfRange(sizes, g[2], g[3]));
      boolean outer = true; // no dim of size > 1 before this one in the group: no wrap-around to take off
      for (int m = g[0]; m < g[1]; m++) {
        var stride = prod(inSizes, m + 1, g[1]);
        var d = stride.isConst(1) ? f : UOp.alu(Ops.IDIV, f, stride);
        old.add(in[m] == 1 ? UOp.idx(0) : outer ? d : UOp.alu(Ops.MOD, d, inSizes[m]));
        if (in[m] > 1) outer = false;
      }
    }
    return old;
  }

  private UOp lower(UOp u, List<UOp> idx, UOp valid) {
    var key = new Key(u, idx, valid);
    var done = memo.get(key);
    if (done != null) return done;
    var out = lowerNew(u, idx, valid);
    memo.put(key, out);
    return out;
  }

  @SuppressWarnings("unchecked")
  private UOp lowerNew(UOp u, List<UOp> idx, UOp valid) {
    var in = u.src().isEmpty() ? null : u.src(0).shape();
    var sin = in == null ? null : sizes(u.src(0));
    var shape = u.shape();
    return switch (u.op()) {
      case BUFFER -> {
        if (u.generation() < u.buffer().generation()) // (a later one is what an assign earlier in this plan writes)
          throw new IllegalStateException("a graph reads the contents a " + u.dtype().lowerName() + " buffer of " + u.buffer().size()
              + " elements had before an assign overwrote them: realize it before the assign (pass a loss to Optimizer.step)");
        var gate = valid.isConst() ? List.<UOp>of() : List.of(valid);
        var src = new ArrayList<UOp>(List.of(param(u.buffer()), idx.get(0))); // its contents now, whatever the generation
        src.addAll(gate);
        yield UOp.of(Ops.LOAD, u.dtype(), null, src);
      }
      case CONST -> u;
      case ARANGE -> idx.get(0).cast(u.dtype());
      case RESHAPE -> lower(u.src(0), regroup(idx, shape, in, sizes(u), sin), valid);
      case PERMUTE -> {
        var p = (List<Integer>) u.arg();
        var old = new UOp[p.size()];
        for (int i = 0; i < old.length; i++) old[p.get(i)] = idx.get(i);
        yield lower(u.src(0), List.of(old), valid);
      }
      case EXPAND -> {
        var old = new ArrayList<UOp>();
        for (int i = 0; i < in.length; i++) old.add(in[i] == 1 ? UOp.idx(0) : idx.get(i));
        yield lower(u.src(0), old, valid);
      }
      case SHRINK -> {
        var a = (List<List<Integer>>) u.arg();
        var old = new ArrayList<UOp>();
        for (int i = 0; i < in.length; i++) {
          int start = a.get(i).get(0), fromEnd = in[i] - start;
          // over a symbolic dim, a start nearer its end than its beginning (x[-1]) is counted from the end
          old.add(!sin[i].isConst() && fromEnd < start ? idx.get(i).add(sin[i]).add(-fromEnd) : idx.get(i).add(start));
        }
        yield lower(u.src(0), old, valid);
      }
      case FLIP -> {
        var axes = (List<Integer>) u.arg();
        var old = new ArrayList<UOp>();
        for (int i = 0; i < in.length; i++) old.add(axes.contains(i) ? idx.get(i).mul(-1).add(sin[i]).add(-1) : idx.get(i));
        yield lower(u.src(0), old, valid);
      }
      case PAD -> {
        var a = (List<List<Integer>>) u.arg();
        var old = new ArrayList<UOp>();
        UOp cond = UOp.cnst(DType.BOOL, 1L);
        for (int i = 0; i < in.length; i++) {
          int before = a.get(i).get(0);
          var j = idx.get(i).add(-before);
          old.add(j);
          if (before > 0 || a.get(i).get(1) > 0) cond = cond.and(UOp.idx(-1).lt(j)).and(j.lt(sin[i]));
        }
        var inner = lower(u.src(0), old, valid.and(cond));
        yield UOp.alu(Ops.WHERE, cond, inner, UOp.cnst(u.dtype(), 0L));
      }
      case GATHER -> { // data-dependent index: the load is gated to the axis' range, like padding
        int ax = (Integer) u.arg();
        var v = lower(u.src(1), idx, valid);
        var cond = UOp.idx(-1).lt(v).and(v.lt(sin[ax]));
        var old = new ArrayList<>(idx);
        old.set(ax, v);
        yield UOp.alu(Ops.WHERE, cond, lower(u.src(0), old, valid.and(cond)), UOp.cnst(u.dtype(), 0L));
      }
      case REDUCE_AXIS -> {
        var arg = (ReduceArg) u.arg();
        if (arg.axes().stream().anyMatch(ax -> in[ax] == 0)) yield UOp.identity(arg.op(), u.dtype()); // empty reduction
        var inner = new ArrayList<>(idx);
        var rs = new ArrayList<UOp>();
        for (int ax : arg.axes()) {
          var r = range(in[ax], sin[ax], UOp.AxisType.REDUCE);
          inner.set(ax, r);
          if (r.op() == Ops.RANGE) rs.add(r);
        }
        var v = lower(u.src(0), inner, valid);
        if (rs.isEmpty()) yield v;
        var src = new ArrayList<UOp>(List.of(v));
        src.addAll(rs);
        yield UOp.of(Ops.REDUCE, u.dtype(), arg.op(), src);
      }
      default -> {
        if (!u.op().isAlu() && u.op() != Ops.CAST && u.op() != Ops.BITCAST)
          throw new IllegalStateException("cannot lower " + u.op() + " inside a kernel");
        var src = new ArrayList<UOp>();
        for (var s : u.src()) src.add(lower(s, idx, valid));
        yield u.withSrc(src);
      }
    };
  }
}
