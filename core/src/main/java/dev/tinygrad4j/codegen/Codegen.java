package dev.tinygrad4j.codegen;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.Flags;
import dev.tinygrad4j.uop.Ops;
import dev.tinygrad4j.uop.PatternMatcher;
import dev.tinygrad4j.uop.Spec;
import dev.tinygrad4j.uop.Symbolic;
import dev.tinygrad4j.uop.UOp;
import dev.tinygrad4j.uop.Variable;
import dev.tinygrad4j.uop.UOp.AxisType;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * The compile pipeline, one pure function from a kernel AST to a {@link ProgramSpec}: simplify → opts (given, or the
 * heuristic's) → linearize (ops the target lacks decomposed) → vector-lane plan → render. Production, tests, the JIT
 * and searches all come through here.
 */
public final class Codegen {
  private Codegen() {}

  /** The kernel compiled with the opts the target's heuristic picks (none with NOOPT=1). */
  public static ProgramSpec compile(String name, UOp ast, Target target) { return compile(name, ast, target, null); }

  /** The kernel compiled with these opts (null: the heuristic's), which index the simplified kernel's ranges. */
  public static ProgramSpec compile(String name, UOp ast, Target target, List<Optimizer.Opt> opts) {
    boolean check = Spec.enabled();
    if (check) Spec.kernel(ast);
    var dtypes = buffers(ast);
    var vars = vars(ast);
    var simple = simplify(ast);
    var chosen = opts != null ? List.copyOf(opts) : heuristic(simple, target);
    var optimized = Optimizer.apply(simple, chosen);
    if (check) Spec.kernel(optimized);
    var linear = Linearizer.linearize(optimized, target.ops());
    if (check) Spec.linear(linear, target.ops());
    var sized = new ArrayList<ProgramSpec.Access>();
    var needs = Linearizer.needs(name, linear, dtypes.size(), sized); // before any code is made: a bad index throws here
    var params = new ArrayList<ProgramSpec.Param>();
    for (int i = 0; i < dtypes.size(); i++) params.add(new ProgramSpec.Param(i, dtypes.get(i), needs[i]));
    if (!vars.isEmpty()) {
      params.add(new ProgramSpec.Param(dtypes.size(), DType.INT32, vars.size()));
      linear = readVars(linear, vars, dtypes.size());
    }
    var source = render(name, params, linear, target);
    int threads = linear.stream().filter(u -> u.op() == Ops.RANGE && u.axisType() == AxisType.THREAD).mapToInt(u -> u.fixedSize() ? u.rangeSize() : -1).findFirst().orElse(0);
    return new ProgramSpec(name, ast, chosen, linear, List.copyOf(params), ProgramSpec.Launch.of(linear), threads, source, vars, List.copyOf(sized));
  }

  /** The variables a kernel AST reads (DEFINE_VAR), by name: the order their values are passed in. */
  public static List<Variable> vars(UOp ast) {
    return ast.toposort().stream().filter(u -> u.op() == Ops.DEFINE_VAR).map(u -> (Variable) u.arg())
        .sorted(java.util.Comparator.comparing(Variable::name).thenComparingInt(Variable::min).thenComparingInt(Variable::max)).toList();
  }

  /**
   * The linearized program with each variable read from the values buffer (parameter number at): a LOAD where its
   * DEFINE_VAR stood, at the program's top level. Only here, after every simplification: until now the rules knew each
   * variable's range, which a load from memory would not have told them.
   */
  private static List<UOp> readVars(List<UOp> linear, List<Variable> vars, int at) {
    var values = UOp.of(Ops.DEFINE_GLOBAL, DType.INT32, at);
    var repl = new java.util.HashMap<UOp, UOp>();
    for (int i = 0; i < vars.size(); i++) repl.put(vars.get(i).node(), UOp.of(Ops.LOAD, DType.INT32, null, values, UOp.idx(i)));
    var memo = new java.util.IdentityHashMap<UOp, UOp>();
    var out = new ArrayList<UOp>(linear.size() + 1);
    out.add(values);
    for (var u : linear) {
      if (u.op() == Ops.DEFINE_VAR) out.add(UOp.idx(vars.indexOf((Variable) u.arg())));
      out.add(u.substitute(repl, memo));
    }
    return out;
  }

  /**
   * A linearized kernel printed by the target's renderer: the vector-lane pass in its richest form whose code the
   * renderer can express and run well (a JVM method under HotSpot's size limit), else with fewer copied loop bodies.
   * Every form computes each value with the same operations in the same order, so they give the same bits.
   */
  public static ProgramSpec.Source render(String name, List<ProgramSpec.Param> params, List<UOp> linear, Target target) {
    ProgramSpec.Source source = null;
    for (var form : Lanes.Form.values()) {
      var plan = Lanes.plan(linear, target.lanes(), target.vectorOps(), form);
      try {
        source = target.renderer().render(name, params, plan);
      } catch (Renderer.TooLarge tooLarge) { // a form with fewer copied loop bodies
        if (form == Lanes.Form.SCALAR) throw tooLarge;
        continue;
      }
      if (form == Lanes.Form.SCALAR || target.renderer().fits(source)) break;
    }
    return source;
  }

  /** The kernel with the symbolic rules applied: what opts are chosen on and applied to. */
  public static UOp simplify(UOp ast) { return PatternMatcher.graphRewrite(ast, Symbolic.RULES); }

  /** The opts the hand-written heuristic picks for a simplified kernel on this target (none with NOOPT=1). */
  public static List<Optimizer.Opt> heuristic(UOp simplified, Target target) {
    if (Flags.getInt("NOOPT", 0) != 0) return List.of();
    return target.gpu() ? Optimizer.gpu(simplified, target.localSize()) : Optimizer.heuristic(simplified, target.threads(), target.lanes().isEmpty() ? 1 : target.lanes().getFirst());
  }

  /** The dtypes of a kernel's buffer parameters by number; every number from 0 to the highest must be there. */
  static List<DType> buffers(UOp ast) {
    var bufs = new TreeMap<Integer, DType>();
    for (var u : ast.toposort()) if (u.op() == Ops.DEFINE_GLOBAL) bufs.put((Integer) u.arg(), u.dtype());
    var out = new ArrayList<DType>();
    for (var e : bufs.entrySet()) {
      if (e.getKey() != out.size()) throw new IllegalArgumentException("kernel parameters must be numbered 0.." + (bufs.size() - 1) + ", got " + bufs.keySet());
      out.add(e.getValue());
    }
    return out;
  }
}
