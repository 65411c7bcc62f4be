package dev.tinygrad4j.uop;

import dev.tinygrad4j.DType;

import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The one node type. Immutable and interned: structurally equal nodes are the same object, so equality is identity
 * and every map can key on nodes. Build them with {@link #of}.
 */
public final class UOp {
  /** The argument of REDUCE_AXIS: which reduction and over which axes. */
  public record ReduceArg(Ops op, List<Integer> axes) {}
  /**
   * What a loop range is for: split across CPU threads, a GPU work-group index (GLOBAL) or work-item index within
   * its group (LOCAL) — both launch dimensions, not loops —, an output loop, a reduction, or a small loop to unroll.
   */
  public enum AxisType { THREAD, GLOBAL, LOCAL, LOOP, REDUCE, UNROLL, UPCAST }
  /** The argument of RANGE: a kernel-unique id and the range's role. */
  public record Axis(int id, AxisType type) {}
  /** The argument of DEFINE_ACC and DEFINE_LOCAL: a kernel-unique id and how many values it holds (more than one: an array). */
  public record Acc(int id, int size) {}
  /**
   * The argument of BUFFER: the buffer, and how many times an assign had overwritten it in place when this node was
   * made — a graph over its new contents is a different node from one over its old contents.
   */
  public record BufferRef(dev.tinygrad4j.runtime.Buffer buffer, int generation) {}
  /** The argument of BIND: the variable and the dimension of the source whose size it is bound to. */
  public record Bind(Variable variable, int axis) {}
  /** The argument of a tensor-graph ASSIGN: a number of its own, so no two assigns are the same node. */
  public record AssignId(long id) {}

  private final Ops op;
  private final DType dtype;
  private final List<UOp> src;
  private final Object arg;
  private int[] shape; // derived, computed on first use
  private long[] bounds; // derived: vmin, vmax

  private UOp(Ops op, DType dtype, List<UOp> src, Object arg) {
    this.op = op; this.dtype = dtype; this.src = src; this.arg = arg;
  }

  /** The operation. */
  public Ops op() { return op; }
  /** The element type of the value this node produces. */
  public DType dtype() { return dtype; }
  /** The sources, in order. */
  public List<UOp> src() { return src; }
  /** The source at position i. */
  public UOp src(int i) { return src.get(i); }
  /** The op-specific argument (constant value, shape, axes, buffer, ...), or null. */
  public Object arg() { return arg; }

  // ---- interning ----
  // The table holds nodes only weakly and nothing else: a dropped graph is collectable in one GC cycle.
  private static final class Ref extends WeakReference<UOp> {
    final int hash;
    Ref(UOp u, int hash, ReferenceQueue<UOp> q) { super(u, q); this.hash = hash; }
  }
  private static final Map<Integer, List<Ref>> TABLE = new HashMap<>();
  private static final ReferenceQueue<UOp> QUEUE = new ReferenceQueue<>();

  private static int hash(Ops op, DType dtype, Object arg, List<UOp> src) {
    int h = op.hashCode() * 31 + dtype.hashCode();
    for (var s : src) h = h * 31 + System.identityHashCode(s);
    return h * 31 + java.util.Objects.hashCode(arg);
  }

  private boolean is(Ops op, DType dtype, Object arg, List<UOp> src) {
    if (this.op != op || this.dtype != dtype || this.src.size() != src.size() || !java.util.Objects.equals(this.arg, arg)) return false;
    for (int i = 0; i < src.size(); i++) if (this.src.get(i) != src.get(i)) return false;
    return true;
  }

  /** The unique node with these fields. */
  public static UOp of(Ops op, DType dtype, Object arg, List<UOp> src) {
    int h = hash(op, dtype, arg, src);
    synchronized (TABLE) {
      for (Ref r; (r = (Ref) QUEUE.poll()) != null; ) {
        var bucket = TABLE.get(r.hash);
        if (bucket != null && bucket.remove(r) && bucket.isEmpty()) TABLE.remove(r.hash);
      }
      var bucket = TABLE.computeIfAbsent(h, k -> new ArrayList<>(1));
      for (var r : bucket) {
        var u = r.get();
        if (u != null && u.is(op, dtype, arg, src)) return u;
      }
      var u = new UOp(op, dtype, List.copyOf(src), arg);
      bucket.add(new Ref(u, h, QUEUE));
      return u;
    }
  }

  /** The unique node with these fields. */
  public static UOp of(Ops op, DType dtype, Object arg, UOp... src) { return of(op, dtype, arg, List.of(src)); }

  /** This node with other sources. */
  public UOp withSrc(List<UOp> newSrc) { return newSrc.equals(src) ? this : of(op, dtype, arg, newSrc); }

  // ---- constants ----
  /** A scalar constant of the given type; the value is rounded/wrapped to the type. */
  public static UOp cnst(DType dtype, double v) {
    return of(Ops.CONST, dtype, dtype.isFloat() ? (Object) Alu.roundFloat(dtype, v) : (Object) Alu.wrap(dtype, (long) v));
  }
  /** An integer constant of the given type (exact for 64-bit values). */
  public static UOp cnst(DType dtype, long v) {
    return of(Ops.CONST, dtype, dtype.isFloat() ? (Object) Alu.roundFloat(dtype, v) : (Object) Alu.wrap(dtype, v));
  }
  /** An int32 index constant. */
  public static UOp idx(long v) { return cnst(DType.INT32, v); }
  /** The starting value of a reduction: 0 for ADD, 1 for MUL, the type's minimum for MAX. */
  public static UOp identity(Ops op, DType dt) {
    return switch (op) {
      case ADD -> cnst(dt, 0L);
      case MUL -> cnst(dt, 1L);
      case MAX -> dt.isFloat() ? cnst(dt, Double.NEGATIVE_INFINITY)
          : cnst(dt, dt == DType.BOOL || dt.isUnsigned() ? 0L : Long.MIN_VALUE >> (64 - dt.bits()));
      default -> throw new IllegalArgumentException("no reduction for " + op);
    };
  }
  /** True if this is a CONST. */
  public boolean isConst() { return op == Ops.CONST; }
  /** True if this is a CONST equal to v. */
  public boolean isConst(double v) { return op == Ops.CONST && asDouble() == v; }
  /** The constant's value as a double (CONST only). */
  public double asDouble() { return arg instanceof Double d ? d : Alu.toDouble(dtype, (Long) arg); }
  /** The constant's value as a long (CONST of int or bool type only). */
  public long asLong() { return (Long) arg; }

  // ---- ALU helpers ----
  /** An elementwise op; comparisons give bool, WHERE takes the type of its second source. */
  public static UOp alu(Ops op, UOp... src) {
    var dt = op.isComparison() ? DType.BOOL : op == Ops.WHERE ? src[1].dtype : src[0].dtype;
    return of(op, dt, null, src);
  }
  /** this + o. */
  public UOp add(UOp o) { return alu(Ops.ADD, this, o); }
  /** this * o. */
  public UOp mul(UOp o) { return alu(Ops.MUL, this, o); }
  /** this + c (same type). */
  public UOp add(long c) { return add(cnst(dtype, c)); }
  /** this * c (same type). */
  public UOp mul(long c) { return mul(cnst(dtype, c)); }
  /** this / c, truncating (ints). */
  public UOp idiv(long c) { return alu(Ops.IDIV, this, cnst(dtype, c)); }
  /** this % c (ints). */
  public UOp mod(long c) { return alu(Ops.MOD, this, cnst(dtype, c)); }
  /** this &lt; o. */
  public UOp lt(UOp o) { return alu(Ops.CMPLT, this, o); }
  /** this &lt; c. */
  public UOp lt(long c) { return lt(cnst(dtype, c)); }
  /** this AND o. */
  public UOp and(UOp o) { return alu(Ops.AND, this, o); }
  /** cast to another type (no node if already that type). */
  public UOp cast(DType dt) { return dt == dtype ? this : of(Ops.CAST, dt, null, this); }

  // ---- tensor-graph builders (shapes are checked by the Tensor layer) ----
  /** A constant of this type broadcast to shape. */
  public static UOp full(DType dt, double v, int... shape) { return cnst(dt, v).broadcast(shape); }
  /** This scalar broadcast to shape (itself for a 0-d shape). */
  public UOp broadcast(int... shape) {
    if (shape.length == 0) return this;
    var ones = new int[shape.length];
    Arrays.fill(ones, 1);
    return reshape(ones).expand(shape);
  }
  /** RESHAPE (no node if the shape is unchanged). */
  public UOp reshape(int... s) { return Arrays.equals(s, shape()) ? this : of(Ops.RESHAPE, dtype, list(s), this); }
  /** EXPAND (no node if the shape is unchanged). */
  public UOp expand(int... s) { return Arrays.equals(s, shape()) ? this : of(Ops.EXPAND, dtype, list(s), this); }
  /** PERMUTE (no node for the identity order). */
  public UOp permute(int... p) {
    for (int i = 0; i < p.length; i++) if (p[i] != i) return of(Ops.PERMUTE, dtype, list(p), this);
    return this;
  }
  /** PAD by {before, after} per dim (no node if all zero). */
  public UOp pad(int[][] ba) { return Arrays.stream(ba).allMatch(x -> x[0] == 0 && x[1] == 0) ? this : of(Ops.PAD, dtype, pairs(ba), this); }
  /** SHRINK to {start, end} per dim (no node if nothing is cut). */
  public UOp shrink(int[][] se) {
    var s = shape();
    for (int i = 0; i < s.length; i++) if (se[i][0] != 0 || se[i][1] != s[i]) return of(Ops.SHRINK, dtype, pairs(se), this);
    return this;
  }
  /** FLIP these axes. */
  public UOp flip(int... axes) { return axes.length == 0 ? this : of(Ops.FLIP, dtype, list(Arrays.stream(axes).sorted().toArray()), this); }
  /** REDUCE_AXIS over axes, keeping them as size 1 (no node if there are no axes). */
  public UOp reduce(Ops op, int... axes) {
    return axes.length == 0 ? this : of(Ops.REDUCE_AXIS, dtype, new ReduceArg(op, list(Arrays.stream(axes).sorted().toArray())), this);
  }

  private static List<List<Integer>> pairs(int[][] a) { return Arrays.stream(a).map(UOp::list).toList(); }

  // ---- shapes (tensor graph) ----
  /** The shape of a tensor-graph node. */
  public int[] shape() {
    if (shape == null) shape = computeShape();
    return shape;
  }

  @SuppressWarnings("unchecked")
  private int[] computeShape() {
    return switch (op) {
      case BUFFER -> new int[]{Math.toIntExact(((BufferRef) arg).buffer().size())};
      case ARANGE -> new int[]{(Integer) arg};
      case ASSIGN -> arg instanceof AssignId ? src(0).shape() : new int[0]; // a tensor's assign, or a linearized accumulator's
      case CONST, DEFINE_GLOBAL, DEFINE_VAR, RANGE, LOAD, STORE, REDUCE, SINK, DEFINE_ACC, ENDRANGE -> new int[0];
      case RESHAPE, EXPAND -> ints((List<Integer>) arg);
      case PERMUTE -> {
        var s = src(0).shape(); var p = (List<Integer>) arg; var out = new int[p.size()];
        for (int i = 0; i < out.length; i++) out[i] = s[p.get(i)];
        yield out;
      }
      case PAD, SHRINK -> {
        var s = src(0).shape().clone(); var a = (List<List<Integer>>) arg;
        for (int i = 0; i < s.length; i++)
          s[i] = op == Ops.PAD ? s[i] + a.get(i).get(0) + a.get(i).get(1) : a.get(i).get(1) - a.get(i).get(0);
        yield s;
      }
      case REDUCE_AXIS -> {
        var s = src(0).shape().clone();
        for (int ax : ((ReduceArg) arg).axes()) s[ax] = 1;
        yield s;
      }
      case WHERE, GATHER -> src(1).shape();
      default -> src(0).shape();
    };
  }

  /** Converts a list of Integers to an int array. */
  public static int[] ints(List<Integer> l) { return l.stream().mapToInt(Integer::intValue).toArray(); }
  /** Converts an int array to an immutable list. */
  public static List<Integer> list(int... a) { return Arrays.stream(a).boxed().toList(); }
  /** Product of the dims. */
  public static long prod(int[] shape) { long p = 1; for (int s : shape) p *= s; return p; }

  // ---- value bounds (index arithmetic) ----
  /** The smallest value this int/bool node can take. */
  public long vmin() { return bounds()[0]; }
  /** The largest value this int/bool node can take. */
  public long vmax() { return bounds()[1]; }

  private long[] bounds() {
    if (bounds == null) bounds = computeBounds();
    return bounds;
  }

  private long[] computeBounds() {
    if (dtype.isFloat()) return new long[]{Long.MIN_VALUE, Long.MAX_VALUE};
    long lo = dtype == DType.BOOL ? 0 : dtype.isUnsigned() ? 0 : dtype.bits() >= 64 ? Long.MIN_VALUE : -(1L << (dtype.bits() - 1));
    long hi = dtype == DType.BOOL ? 1 : dtype.bits() >= 63 ? Long.MAX_VALUE : dtype.isUnsigned() ? (1L << dtype.bits()) - 1 : (1L << (dtype.bits() - 1)) - 1;
    long[] full = {lo, hi};
    if (op == Ops.CONST) return new long[]{asLong(), asLong()};
    if (op == Ops.DEFINE_VAR) return new long[]{((Variable) arg).lowest(), ((Variable) arg).highest()};
    if (op == Ops.RANGE) return new long[]{0, Math.max(0, src(0).vmax() - 1)};
    if (op == Ops.ARANGE) return new long[]{0, Math.max(0, (Integer) arg - 1)};
    if (src.isEmpty() || dtype.bits() >= 64) return full;
    long a0 = src(0).vmin(), a1 = src(0).vmax();
    long[] r = switch (op) {
      case ADD -> new long[]{a0 + src(1).vmin(), a1 + src(1).vmax()};
      case MUL -> {
        long b0 = src(1).vmin(), b1 = src(1).vmax();
        long[] c = {a0 * b0, a0 * b1, a1 * b0, a1 * b1};
        yield new long[]{Arrays.stream(c).min().getAsLong(), Arrays.stream(c).max().getAsLong()};
      }
      case NEG -> new long[]{-a1, -a0};
      case IDIV -> src(1).isConst() && src(1).asLong() > 0
          ? new long[]{a0 / src(1).asLong(), a1 / src(1).asLong()} : full;
      case MOD -> src(1).isConst() && src(1).asLong() > 0
          ? (a0 >= 0 ? new long[]{0, Math.min(a1, src(1).asLong() - 1)} : new long[]{-(src(1).asLong() - 1), src(1).asLong() - 1}) : full;
      case MAX -> new long[]{Math.max(a0, src(1).vmin()), Math.max(a1, src(1).vmax())};
      case WHERE -> new long[]{Math.min(src(1).vmin(), src(2).vmin()), Math.max(src(1).vmax(), src(2).vmax())};
      case CAST -> src(0).dtype().isFloat() ? full : new long[]{a0, a1};
      case CMPLT -> src(0).vmax() < src(1).vmin() ? new long[]{1, 1} : src(0).vmin() >= src(1).vmax() ? new long[]{0, 0} : full;
      case CMPEQ, CMPNE -> {
        boolean disjoint = a1 < src(1).vmin() || a0 > src(1).vmax();
        long v = op == Ops.CMPEQ ? 0 : 1;
        yield disjoint ? new long[]{v, v} : full;
      }
      case AND -> dtype == DType.BOOL ? new long[]{Math.min(a0, src(1).vmin()), Math.min(a1, src(1).vmax())} : full;
      default -> full;
    };
    // a range we cannot trust past the type's limits falls back to the type's range
    return r[0] < lo || r[1] > hi || r[0] > r[1] ? full : r;
  }

  /** A loop range 0 ≤ r &lt; size. */
  public static UOp range(int size, int id, AxisType type) { return range(idx(size), id, type); }
  /** A loop range 0 ≤ r &lt; end, where end is a constant or an int32 expression of variables (a symbolic size). */
  public static UOp range(UOp end, int id, AxisType type) { return of(Ops.RANGE, DType.INT32, new Axis(id, type), end); }
  /** This RANGE with another id or role, over the same end. */
  public UOp withAxis(int id, AxisType type) { return range(src(0), id, type); }
  /** True if this RANGE's size is a constant (not symbolic). */
  public boolean fixedSize() { return src(0).isConst(); }
  /** The role of a RANGE. */
  public AxisType axisType() { return ((Axis) arg).type(); }
  /** The id of a RANGE. */
  public int axisId() { return ((Axis) arg).id(); }
  /** The size of a RANGE of constant size (see {@link #fixedSize}). */
  public int rangeSize() {
    if (!fixedSize()) throw new IllegalStateException("range " + arg + " has a symbolic size");
    return (int) src(0).asLong();
  }

  /** The graph with some nodes replaced (memoized; nodes not reached stay shared). */
  public UOp substitute(Map<UOp, UOp> repl) { return substitute(this, repl, new IdentityHashMap<>()); }
  /** As {@link #substitute(Map)}, sharing memo (node → result) across calls on one graph. */
  public UOp substitute(Map<UOp, UOp> repl, Map<UOp, UOp> memo) { return substitute(this, repl, memo); }

  private static UOp substitute(UOp u, Map<UOp, UOp> repl, Map<UOp, UOp> memo) {
    var r = repl.get(u);
    if (r != null) return r;
    var done = memo.get(u);
    if (done != null) return done;
    var src = new ArrayList<UOp>(u.src.size());
    for (var s : u.src) src.add(substitute(s, repl, memo));
    var out = u.withSrc(src);
    memo.put(u, out);
    return out;
  }

  // ---- traversal ----
  /** The generation of the buffer contents a view was made for (see {@link BufferRef}). */
  public int generation() { return ((BufferRef) (op == Ops.RESHAPE ? src(0) : this).arg).generation(); }

  /** The buffer of a BUFFER node, or of a RESHAPE of one (a view of a whole buffer). */
  public dev.tinygrad4j.runtime.Buffer buffer() {
    var b = op == Ops.RESHAPE ? src(0) : this;
    if (b.op != Ops.BUFFER) throw new IllegalStateException("not a buffer view: " + op);
    return ((BufferRef) b.arg).buffer();
  }

  /** The device this node computes on: that of the buffers it reads, or the target of a COPY it reads; null if neither. */
  public dev.tinygrad4j.runtime.Device device() {
    var seen = java.util.Collections.newSetFromMap(new IdentityHashMap<UOp, Boolean>());
    var stack = new ArrayList<>(List.of(this));
    while (!stack.isEmpty()) {
      var n = stack.removeLast();
      if (!seen.add(n)) continue;
      if (n.op == Ops.BUFFER) return ((BufferRef) n.arg).buffer().device();
      if (n.op == Ops.COPY && n != this) return (dev.tinygrad4j.runtime.Device) n.arg; // beyond it lies another device
      stack.addAll(n.src);
    }
    return null;
  }

  /** All nodes reachable from this one, sources before users. */
  public List<UOp> toposort() {
    var seen = new LinkedHashSet<UOp>();
    var stack = new ArrayList<Object[]>();
    stack.add(new Object[]{this, 0});
    while (!stack.isEmpty()) {
      var top = stack.getLast();
      var u = (UOp) top[0];
      int i = (Integer) top[1];
      if (i < u.src.size()) {
        top[1] = i + 1;
        var s = u.src.get(i);
        if (!seen.contains(s)) stack.add(new Object[]{s, 0});
      } else {
        stack.removeLast();
        seen.add(u);
      }
    }
    return new ArrayList<>(seen);
  }

  /** The set of all nodes reachable from this one. */
  public Set<UOp> allNodes() {
    var s = java.util.Collections.newSetFromMap(new IdentityHashMap<UOp, Boolean>());
    s.addAll(toposort());
    return s;
  }

  @Override public String toString() { return render(this, new IdentityHashMap<>(), 0); }

  private static String render(UOp u, Map<UOp, Integer> seen, int depth) {
    var sb = new StringBuilder("UOp(").append(u.op).append(", ").append(u.dtype.lowerName());
    if (u.arg != null) sb.append(", arg=").append(u.arg instanceof List<?> || u.arg instanceof Number || u.arg instanceof ReduceArg ? u.arg : u.arg.toString());
    if (seen.containsKey(u)) return sb.append(", <see #").append(seen.get(u)).append(">)").toString();
    seen.put(u, seen.size());
    for (var s : u.src) sb.append(",\n").append("  ".repeat(depth + 1)).append(render(s, seen, depth + 1));
    return sb.append(")").toString();
  }
}
