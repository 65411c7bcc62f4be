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
 * @param threads the size of the THREAD range split across cores (0: none)
 * @param vars    the variables the kernel reads, in the order of the values its last buffer holds (none: no such buffer)
 * @param sized   the memory accesses whose extent depends on the variables (their buffers' needs are settled at launch)
 */
public record ProgramSpec(String name, UOp ast, List<Optimizer.Opt> opts, List<UOp> linear, List<Param> params, Launch launch,
                          int threads, Source source, List<Variable> vars, List<Access> sized) {
  /** A load or store into buffer parameter buffer at index, an expression of the variables. */
  public record Access(int buffer, UOp index) {}

  /**
   * The elements each buffer parameter must hold for a launch with these variable values (in {@link #vars} order):
   * the fixed needs, raised by the accesses that depend on the variables, evaluated at these values.
   */
  public long[] needs(int[] values) {
    var out = params.stream().mapToLong(Param::needs).toArray();
    if (sized.isEmpty()) return out;
    if (values.length != vars.size()) throw new IllegalArgumentException("kernel " + name + " reads " + vars + ", got " + values.length + " values");
    var bound = new java.util.HashMap<UOp, UOp>();
    for (int i = 0; i < values.length; i++) bound.put(vars.get(i).node(), UOp.idx(vars.get(i).check(values[i])));
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
