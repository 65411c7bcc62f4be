package dev.tinygrad4j.engine;

import dev.tinygrad4j.DType;
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
  private int ranges;

  /** The kernel AST that computes value into out, and the buffers its parameters stand for (out first). */
  static UOp lower(UOp value, Buffer out, List<Buffer> bufsOut) {
    var l = new Lowerer();
    l.param(out);
    var shape = value.shape();
    var idx = new ArrayList<UOp>();
    for (int s : shape) idx.add(l.range(s, UOp.AxisType.LOOP));
    var v = l.lower(value, idx, UOp.cnst(DType.BOOL, 1L));
    var store = UOp.of(Ops.STORE, DType.BOOL, null, l.params.get(out), flat(idx, shape), v);
    bufsOut.addAll(l.params.keySet());
    return UOp.of(Ops.SINK, DType.BOOL, null, store);
  }

  private UOp param(Buffer b) {
    return params.computeIfAbsent(b, k -> UOp.of(Ops.DEFINE_GLOBAL, k.dtype(), params.size()));
  }

  private UOp range(int size, UOp.AxisType type) { return size == 1 ? UOp.idx(0) : UOp.range(size, ranges++, type); }

  /** Row-major flat index of idx in shape. */
  static UOp flat(List<UOp> idx, int[] shape) {
    UOp out = null;
    long stride = 1;
    for (int i = shape.length - 1; i >= 0; i--) {
      var term = stride == 1 ? idx.get(i) : idx.get(i).mul(stride);
      out = out == null ? term : term.add(out);
      stride *= shape[i];
    }
    return out == null ? UOp.idx(0) : out;
  }

  /**
   * The index into shape `in` of the element at idx in `shape` (same size). Dims are matched in groups of equal
   * product, so dims a reshape leaves alone keep their index and only a regrouped run is flattened and split.
   */
  static List<UOp> reshapeIndex(List<UOp> idx, int[] shape, int[] in) {
    var old = new ArrayList<UOp>();
    if (UOp.prod(in) == 0) { for (int ignored : in) old.add(UOp.idx(0)); return old; }
    int i = 0, j = 0;
    while (i < in.length || j < shape.length) {
      int i0 = i, j0 = j;
      long po = i < in.length ? in[i++] : 1, pn = j < shape.length ? shape[j++] : 1;
      while (po != pn) {
        if (po < pn && i < in.length) po *= in[i++];
        else if (j < shape.length) pn *= shape[j++];
        else break;
      }
      var f = flat(idx.subList(j0, j), java.util.Arrays.copyOfRange(shape, j0, j));
      long stride = po;
      boolean outer = true; // no dim of size > 1 before this one in the group: no wrap-around to take off
      for (int m = i0; m < i; m++) {
        stride /= in[m];
        var d = stride == 1 ? f : f.idiv(stride);
        old.add(in[m] == 1 ? UOp.idx(0) : outer ? d : d.mod(in[m]));
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
      case RESHAPE -> lower(u.src(0), reshapeIndex(idx, shape, in), valid);
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
        for (int i = 0; i < in.length; i++) old.add(idx.get(i).add(a.get(i).get(0)));
        yield lower(u.src(0), old, valid);
      }
      case FLIP -> {
        var axes = (List<Integer>) u.arg();
        var old = new ArrayList<UOp>();
        for (int i = 0; i < in.length; i++) old.add(axes.contains(i) ? idx.get(i).mul(-1).add(in[i] - 1) : idx.get(i));
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
          if (before > 0 || a.get(i).get(1) > 0) cond = cond.and(UOp.idx(-1).lt(j)).and(j.lt(in[i]));
        }
        var inner = lower(u.src(0), old, valid.and(cond));
        yield UOp.alu(Ops.WHERE, cond, inner, UOp.cnst(u.dtype(), 0L));
      }
      case GATHER -> { // data-dependent index: the load is gated to the axis' range, like padding
        int ax = (Integer) u.arg();
        var v = lower(u.src(1), idx, valid);
        var cond = UOp.idx(-1).lt(v).and(v.lt(in[ax]));
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
          var r = range(in[ax], UOp.AxisType.REDUCE);
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
