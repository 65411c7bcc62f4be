package dev.tinygrad4j.codegen;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.uop.Ops;
import dev.tinygrad4j.uop.UOp;
import dev.tinygrad4j.uop.Variable;
import dev.tinygrad4j.uop.UOp.AxisType;

import java.util.Arrays;
import java.util.List;

/**
 * A compiled kernel as its device needs it: the buffer parameters in buffer-number order (a buffer the simplified
 * kernel no longer reads keeps its place), how many elements each must hold, the launch (GPU work-groups and
 * work-items, or the THREAD range a CPU splits across cores), the opts applied, the linearized program and its
 * source. {@link Codegen#compile} is the only way to make one.
 *
 * A kernel symbolic in some {@link Variable}s takes their values as one more int32 buffer, the last parameter (the
 * program reads them from it at its start); the elements the other buffers must hold then depend on the values, and
 * {@link #needs(int[])} computes them for a launch.
 *
 * @param threads the size of the THREAD range split across cores (0: none; -1: symbolic, see {@link #threads(int[])})
 * @param vars    the variables the kernel reads, in the order of the values its last buffer holds (none: no such buffer)
 * @param sized   the memory accesses whose extent depends on the variables (their buffers' needs are settled at launch)
 */
public record ProgramSpec(String name, UOp ast, List<Optimizer.Opt> opts, List<UOp> linear, List<Param> params, Launch launch,
                          int threads, Source source, List<Variable> vars, List<Access> sized) {
  /** The THREAD range's size at these variable values (in {@link #vars} order): for a symbolic one, evaluated. */
  public int threads(int[] values) {
    if (threads >= 0) return threads;
    var r = linear.stream().filter(u -> u.op() == Ops.RANGE && u.axisType() == AxisType.THREAD).findFirst().orElseThrow();
    return (int) Math.max(0, eval(r.src(0), values));
  }

  /** The value of an int expression of constants and the values buffer's elements (as the program reads them). */
  private long eval(UOp u, int[] values) {
    if (u.isConst()) return u.asLong();
    if (u.op() == Ops.LOAD && u.src(0).op() == Ops.DEFINE_GLOBAL && (Integer) u.src(0).arg() == params.size() - 1 && u.src(1).isConst())
      return values[(int) u.src(1).asLong()];
    if (u.op() == Ops.NEG) return -eval(u.src(0), values);
    if (u.src().size() == 2 && u.op().isBinary())
      return dev.tinygrad4j.uop.Alu.intOp(u.op(), u.dtype(), eval(u.src(0), values), eval(u.src(1), values), 0);
    throw new IllegalStateException("kernel " + name + ": a THREAD range of size " + u.op() + " cannot be evaluated at launch");
  }

  /** A load or store into buffer parameter buffer at index, an expression of the variables. */
  public record Access(int buffer, UOp index) {}

  /**
   * The elements each buffer parameter must hold for a launch with these variable values (in {@link #vars} order,
   * each a size divided by its variable's step):
   * the fixed needs, raised by the accesses that depend on the variables, evaluated at these values.
   */
  public long[] needs(int[] values) {
    var out = params.stream().mapToLong(Param::needs).toArray();
    if (sized.isEmpty()) return out;
    if (values.length != vars.size()) throw new IllegalArgumentException("kernel " + name + " reads " + vars + ", got " + values.length + " values");
    var bound = new java.util.HashMap<UOp, UOp>();
    for (int i = 0; i < values.length; i++) {
      var v = vars.get(i).node();
      if (values[i] < v.vmin() || values[i] > v.vmax()) throw new IllegalArgumentException("kernel " + name + ": " + vars.get(i) + " given the value " + values[i]);
      bound.put(v, UOp.idx(values[i]));
    }
    var memo = new java.util.IdentityHashMap<UOp, UOp>();
    for (var a : sized) {
      var idx = Codegen.simplify(a.index().substitute(bound, memo));
      if (idx.vmin() < 0) throw new IllegalStateException("kernel " + name + ": an index into buffer " + a.buffer() + " can be " + idx.vmin() + " at " + vars + " = " + java.util.Arrays.toString(values));
      out[a.buffer()] = Math.max(out[a.buffer()], idx.vmax() + 1);
    }
    return out;
  }

  /**
   * The operations one launch executes: every ALU op, load and store counted once per iteration of the loops around
   * it (a launch's size, for choosing how to run it; not a timing).
   */
  public long work() {
    long total = 0, times = 1;
    var outer = new java.util.ArrayDeque<Long>(); // iterations outside each open loop
    for (var u : linear) {
      switch (u.op()) {
        case RANGE -> { outer.push(times); times *= u.src(0).vmax(); } // a symbolic size counts as its largest
        case ENDRANGE -> times = outer.pop();
        case CONST, DEFINE_GLOBAL, DEFINE_LOCAL, DEFINE_ACC, BARRIER -> { }
        default -> total += times;
      }
    }
    return total;
  }

  /** Buffer parameter index (buffer number) of dtype; a launch needs a buffer of at least needs elements there. */
  public record Param(int index, DType dtype, long needs) {}

  /** What a renderer produced. */
  public sealed interface Source {
    /** Source code (C, OpenCL C, CUDA C++, or the interpreter's listing). */
    record Text(String code) implements Source {
      @Override public String toString() { return code; }
    }
    /** A JVM class file. */
    record ClassFile(byte[] bytes) implements Source {
      @Override public String toString() { return "class file of " + bytes.length + " bytes"; }
    }
  }

  /** The sizes of a GPU kernel's launch: work-groups and work-items per group, three dimensions each. */
  public record Launch(long[] groups, long[] locals) {
    /** The launch of a linearized program: its GLOBAL and LOCAL ranges, each kind numbered in id order. */
    public static Launch of(List<UOp> prog) {
      var l = new Launch(new long[]{1, 1, 1}, new long[]{1, 1, 1});
      for (var u : prog)
        if (u.op() == Ops.RANGE && (u.axisType() == AxisType.GLOBAL || u.axisType() == AxisType.LOCAL))
          (u.axisType() == AxisType.GLOBAL ? l.groups : l.locals)[dim(prog, u)] = u.rangeSize();
      return l;
    }

    /** The launch dimension (0-2) of a GLOBAL or LOCAL range: its place among the ranges of its kind, by id. */
    public static int dim(List<UOp> prog, UOp r) {
      int d = (int) prog.stream().filter(u -> u.op() == Ops.RANGE && u.axisType() == r.axisType() && u.axisId() < r.axisId()).count();
      if (d > 2) throw new IllegalStateException("a GPU launch has 3 dimensions, this kernel has more " + r.axisType() + " ranges");
      return d;
    }

    @Override public boolean equals(Object o) { return o instanceof Launch l && Arrays.equals(groups, l.groups) && Arrays.equals(locals, l.locals); }
    @Override public int hashCode() { return 31 * Arrays.hashCode(groups) + Arrays.hashCode(locals); }
    @Override public String toString() { return "Launch" + Arrays.toString(groups) + "x" + Arrays.toString(locals); }
  }
}
