package dev.tinygrad4j.uop;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.Flags;
import dev.tinygrad4j.uop.UOp.AxisType;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * The graph checker: what each stage's output must look like. A tensor graph has shapes that fit every op; a
 * kernel AST is a SINK of STOREs over loads, ALU ops and loop ranges (no movement ops left); a linearized program
 * defines every value before its use, nests its loops and holds only ops its device renders. Every op's argument has
 * its own type and every ALU op its sources' dtypes. The pipeline runs the checks under SPEC=1 (the tests set it);
 * a violation is an IllegalStateException naming the stage, the node and the rule.
 */
public final class Spec {
  private Spec() {}

  /** Whether the pipeline checks each stage (SPEC=1). */
  public static boolean enabled() { return Flags.getInt("SPEC", 0) != 0; }

  private static void require(boolean ok, String stage, UOp u, String rule) {
    if (!ok) throw new IllegalStateException("spec (" + stage + "): " + u.op() + " " + u.dtype().lowerName()
        + (u.arg() != null ? " arg=" + u.arg() : "") + ": " + rule);
  }

  /** Checks a tensor graph (what the Tensor layer builds, before scheduling). */
  @SuppressWarnings("unchecked")
  public static void tensor(UOp root) {
    for (var u : root.toposort()) {
      var s = u.src();
      switch (u.op()) {
        case BUFFER -> require(s.isEmpty() && u.arg() instanceof UOp.BufferRef(var b, var gen) && b.dtype() == u.dtype() && gen <= b.generation(), "tensor", u, "a buffer of its dtype, no sources");
        case ASSIGN -> require(s.size() == 2 && u.arg() instanceof UOp.AssignId && (s.get(0).op() == Ops.BUFFER || s.get(0).op() == Ops.RESHAPE && s.get(0).src(0).op() == Ops.BUFFER)
            && s.get(1).dtype() == u.dtype() && s.get(0).dtype() == u.dtype() && java.util.Arrays.equals(s.get(0).shape(), s.get(1).shape()), "tensor", u, "a view of the target buffer and a value of its shape and dtype");
        case CONST -> constant(u, "tensor");
        case ARANGE -> require(s.isEmpty() && u.arg() instanceof Integer n && n >= 0 && u.dtype().isInt(), "tensor", u, "a size, an int dtype");
        case RESHAPE -> require(s.size() == 1 && ints(u.arg()) && UOp.prod(u.shape()) == UOp.prod(s.getFirst().shape()), "tensor", u, "the same element count as its source " + java.util.Arrays.toString(s.getFirst().shape()));
        case EXPAND -> {
          var in = s.getFirst().shape(); var out = u.shape();
          boolean ok = ints(u.arg()) && in.length == out.length;
          for (int i = 0; ok && i < in.length; i++) ok = in[i] == out[i] || in[i] == 1;
          require(ok, "tensor", u, "same rank, each dim equal or from 1 (source " + java.util.Arrays.toString(in) + ")");
        }
        case PERMUTE -> {
          boolean ok = ints(u.arg()) && ((List<Integer>) u.arg()).size() == s.getFirst().shape().length
              && ((List<Integer>) u.arg()).stream().sorted().toList().equals(java.util.stream.IntStream.range(0, s.getFirst().shape().length).boxed().toList());
          require(ok, "tensor", u, "a permutation of the source's dims");
        }
        case PAD, SHRINK -> {
          var in = s.getFirst().shape();
          boolean ok = u.arg() instanceof List<?> l && l.size() == in.length;
          for (int i = 0; ok && i < in.length; i++) {
            var p = ((List<List<Integer>>) u.arg()).get(i);
            ok = p.size() == 2 && (u.op() == Ops.PAD ? p.get(0) >= 0 && p.get(1) >= 0 : 0 <= p.get(0) && p.get(0) <= p.get(1) && p.get(1) <= in[i]);
          }
          require(ok, "tensor", u, "a {before, after} or {start, end} pair per dim of " + java.util.Arrays.toString(in));
        }
        case FLIP -> require(ints(u.arg()) && ((List<Integer>) u.arg()).stream().allMatch(a -> a >= 0 && a < u.shape().length), "tensor", u, "axes of the source");
        case REDUCE_AXIS -> require(u.arg() instanceof UOp.ReduceArg(var op, var axes) && Set.of(Ops.ADD, Ops.MAX, Ops.MUL).contains(op)
            && axes.stream().allMatch(a -> a >= 0 && a < u.shape().length) && s.getFirst().dtype() == u.dtype(), "tensor", u, "ADD, MAX or MUL over axes of the source");
        case BIND -> require(s.size() == 1 && s.getFirst().dtype() == u.dtype() && u.arg() instanceof UOp.Bind(var v, var axis)
            && axis >= 0 && axis < u.shape().length && u.shape()[axis] >= v.min() && u.shape()[axis] <= v.max(), "tensor", u, "a variable bound to a dim of its source, within its range");
        case CONTIGUOUS, DETACH -> require(s.size() == 1 && s.getFirst().dtype() == u.dtype(), "tensor", u, "one source of its dtype");
        case COPY -> require(s.size() == 1 && u.arg() instanceof dev.tinygrad4j.runtime.Device && s.getFirst().dtype() == u.dtype(), "tensor", u, "a target device, one source of its dtype");
        case CUSTOM_GRAD -> require(!s.isEmpty() && u.arg() instanceof java.util.function.Function && s.getFirst().dtype() == u.dtype(), "tensor", u, "a gradient function and the value first");
        case GATHER -> require(s.size() == 2 && u.arg() instanceof Integer a && a >= 0 && a < u.shape().length && s.get(1).dtype().isInt()
            && s.get(0).shape().length == u.shape().length, "tensor", u, "an axis and int indices of the data's rank");
        default -> {
          require(u.op().isAlu() || u.op() == Ops.CAST || u.op() == Ops.BITCAST, "tensor", u, "not an op of tensor graphs");
          alu(u, "tensor");
          for (var x : s) require(java.util.Arrays.equals(x.shape(), u.shape()), "tensor", u, "sources of one shape, got " + java.util.Arrays.toString(x.shape()) + " and " + java.util.Arrays.toString(u.shape()));
        }
      }
    }
  }

  /** Checks a kernel AST (as lowered, and again after opts). */
  public static void kernel(UOp sink) {
    require(sink.op() == Ops.SINK && !sink.src().isEmpty() && sink.src().stream().allMatch(s -> s.op() == Ops.STORE), "kernel", sink, "a SINK of STOREs");
    for (var u : sink.toposort()) {
      var s = u.src();
      switch (u.op()) {
        case SINK -> require(u == sink, "kernel", u, "only at the root");
        case CONST -> constant(u, "kernel");
        case DEFINE_GLOBAL -> require(s.isEmpty() && u.arg() instanceof Integer i && i >= 0, "kernel", u, "a parameter number");
        case DEFINE_VAR -> require(s.isEmpty() && u.arg() instanceof Variable && u.dtype() == DType.INT32, "kernel", u, "a variable, int32");
        case DEFINE_LOCAL -> require(s.isEmpty() && u.arg() instanceof UOp.Acc a && a.size() > 0, "kernel", u, "an id and a size");
        case RANGE -> require(s.size() == 1 && s.getFirst().dtype() == DType.INT32 && (s.getFirst().isConst() ? s.getFirst().asLong() > 0 : s.getFirst().vmax() > 0)
            && u.arg() instanceof UOp.Axis && u.dtype() == DType.INT32, "kernel", u, "an int32 range with an Axis and a positive size (constant or symbolic)");
        case LOAD -> memory(u, 2, "kernel");
        case STORE -> {
          memory(u, 3, "kernel");
          require(s.get(2).dtype() == s.get(0).dtype(), "kernel", u, "a value of the buffer's dtype, got " + s.get(2).dtype().lowerName());
        }
        case BARRIER -> require(s.size() == 1 && s.getFirst().op() == Ops.STORE && s.getFirst().src(0).op() == Ops.DEFINE_LOCAL, "kernel", u, "a STORE into local memory");
        case REDUCE -> {
          require(u.arg() instanceof Ops op && Set.of(Ops.ADD, Ops.MAX, Ops.MUL).contains(op) && s.getFirst().dtype() == u.dtype(), "kernel", u, "ADD, MAX or MUL of a value of its dtype");
          for (var r : s.subList(1, s.size()))
            require(r.op() == Ops.RANGE && (r.axisType() == AxisType.REDUCE || r.axisType() == AxisType.UNROLL), "kernel", u, "reduces over REDUCE or UNROLL ranges, got " + r.op() + " " + r.arg());
        }
        default -> {
          require(u.op().isAlu() || u.op() == Ops.CAST || u.op() == Ops.BITCAST, "kernel", u, "not an op of kernels (movement and tensor ops are lowered away)");
          alu(u, "kernel");
        }
      }
    }
  }

  /** Checks a linearized program: values defined before use, loops nested, accumulators assigned, ops the device has. */
  public static void linear(List<UOp> prog, Set<Ops> supported) {
    var defined = Collections.newSetFromMap(new IdentityHashMap<UOp, Boolean>());
    var open = new ArrayList<UOp>();
    for (var u : prog) {
      for (var s : u.src()) require(defined.contains(s) || s.isConst(), "linear", u, "uses " + s.op() + " before it is defined");
      switch (u.op()) {
        case RANGE -> open.add(u);
        case ENDRANGE -> require(!open.isEmpty() && open.removeLast() == u.src(0), "linear", u, "closes the innermost open loop");
        case DEFINE_ACC -> require(u.arg() instanceof UOp.Acc && u.src().size() == 1, "linear", u, "an id, a size and its starting value");
        case ASSIGN -> require(u.src(0).op() == Ops.DEFINE_ACC && u.src(1).dtype() == u.src(0).dtype(), "linear", u, "a value of its dtype into an accumulator");
        case LOAD, STORE -> memory(u, u.op() == Ops.LOAD ? 2 : 3, "linear");
        case REDUCE, SINK -> require(false, "linear", u, "no " + u.op() + " after linearization");
        default -> {
          if (u.op().isAlu()) {
            require(supported.contains(u.op()), "linear", u, "the device does not render it (a decomposition rule should have removed it)");
            alu(u, "linear");
          }
        }
      }
      defined.add(u);
    }
    require(open.isEmpty(), "linear", open.isEmpty() ? prog.getLast() : open.getLast(), "every loop is closed");
  }

  private static void constant(UOp u, String stage) {
    require(u.src().isEmpty() && (u.dtype().isFloat() ? u.arg() instanceof Double : u.arg() instanceof Long), stage, u, "a Double for float types, a Long otherwise");
  }

  private static boolean ints(Object arg) { return arg instanceof List<?> l && l.stream().allMatch(x -> x instanceof Integer); }

  /** LOAD/STORE: a buffer (global, local after its barrier, or an accumulator), an int32 index, maybe a bool gate. */
  private static void memory(UOp u, int gateAt, String stage) {
    var s = u.src();
    var buf = s.getFirst();
    require(Set.of(Ops.DEFINE_GLOBAL, Ops.DEFINE_LOCAL, Ops.DEFINE_ACC, Ops.BARRIER).contains(buf.op()), stage, u, "reads or writes a buffer, not " + buf.op());
    require(s.size() == gateAt || s.size() == gateAt + 1 && s.get(gateAt).dtype() == DType.BOOL, stage, u, "a buffer, an index, " + (gateAt == 3 ? "a value, " : "") + "and maybe a bool gate");
    require(s.get(1).dtype() == DType.INT32, stage, u, "an int32 index, got " + s.get(1).dtype().lowerName());
    if (u.op() == Ops.LOAD) require(u.dtype() == buf.dtype(), stage, u, "the buffer's dtype " + buf.dtype().lowerName());
  }

  /** ALU dtype rules: comparisons give bool from sources of one dtype, WHERE selects by a bool, the rest keep their sources' dtype. */
  private static void alu(UOp u, String stage) {
    var s = u.src();
    var op = u.op();
    if (op == Ops.CAST) { require(s.size() == 1, stage, u, "one source"); return; }
    if (op == Ops.BITCAST) { require(s.size() == 1 && s.getFirst().dtype().itemsize() == u.dtype().itemsize(), stage, u, "one source of the same size"); return; }
    int arity = op.isUnary() ? 1 : op.isBinary() ? 2 : 3;
    require(s.size() == arity, stage, u, arity + " sources, got " + s.size());
    if (op == Ops.WHERE) {
      require(s.get(0).dtype() == DType.BOOL && s.get(1).dtype() == u.dtype() && s.get(2).dtype() == u.dtype(), stage, u, "a bool condition and two values of its dtype");
      return;
    }
    for (var x : s) require(x.dtype() == s.getFirst().dtype(), stage, u, "sources of one dtype, got " + s.stream().map(y -> y.dtype().lowerName()).toList());
    require(op.isComparison() ? u.dtype() == DType.BOOL : u.dtype() == s.getFirst().dtype(), stage, u, op.isComparison() ? "a bool result" : "its sources' dtype");
  }
}
