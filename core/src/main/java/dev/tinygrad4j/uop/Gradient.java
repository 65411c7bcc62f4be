package dev.tinygrad4j.uop;

import dev.tinygrad4j.uop.UOp.ReduceArg;

import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.tinygrad4j.uop.Ops.*;
import static dev.tinygrad4j.uop.PatternMatcher.rule;

/** Reverse-mode gradients: a table of rules, one per primitive, run by the pattern engine over the graph. */
public final class Gradient {
  private Gradient() {}

  /**
   * The gradient of root with respect to each target reachable from it, given root's own gradient. Targets with no
   * differentiable path get no entry.
   */
  public static Map<UOp, UOp> compute(UOp root, UOp rootGrad, Set<UOp> targets) {
    var order = root.toposort();
    var onPath = Collections.newSetFromMap(new IdentityHashMap<UOp, Boolean>());
    for (var u : order) if (targets.contains(u) || u.src().stream().anyMatch(onPath::contains)) onPath.add(u);
    var grads = new IdentityHashMap<UOp, UOp>();
    grads.put(root, rootGrad);
    for (var u : order.reversed()) {
      var g = grads.get(u);
      if (g == null || !onPath.contains(u) || u.src().isEmpty()) continue;
      var local = RULES.match(u, Map.of("grad", g));
      if (local == null) continue;
      for (int i = 0; i < u.src().size(); i++) {
        var s = u.src(i);
        if (local.get(i) == null || !onPath.contains(s)) continue;
        grads.merge(s, local.get(i), UOp::add);
      }
    }
    var out = new IdentityHashMap<UOp, UOp>();
    for (var t : targets) if (grads.containsKey(t)) out.put(t, grads.get(t));
    return out;
  }

  private static UOp c(UOp like, double v) { return UOp.full(like.dtype(), v, like.shape()); }
  private static UOp un(Ops op, UOp x) { return UOp.alu(op, x); }
  private static UOp where(UOp cond, UOp a, UOp b) { return UOp.alu(WHERE, cond, a, b); }

  private static UOp g(Map<String, UOp> b) { return b.get("grad"); }
  private static UOp r(Map<String, UOp> b) { return b.get("ret"); }
  private static UPat ret(Ops op) { return UPat.op(op).named("ret"); }

  /** Gradients of a node's sources from the node ("ret") and its gradient ("grad"); null where a source gets none. */
  @SuppressWarnings("unchecked")
  private static final PatternMatcher<List<UOp>> RULES = new PatternMatcher<>(List.<PatternMatcher.Rule<List<UOp>>>of(
      rule(ret(ADD), b -> List.of(g(b), g(b))),
      rule(ret(MUL), b -> List.of(g(b).mul(r(b).src(1)), g(b).mul(r(b).src(0)))),
      rule(ret(MULACC), b -> List.of(g(b).mul(r(b).src(1)), g(b).mul(r(b).src(0)), g(b))),
      rule(ret(NEG), b -> List.of(un(NEG, g(b)))),
      rule(ret(EXP2), b -> List.of(g(b).mul(r(b)).mul(c(r(b), Math.log(2))))),
      rule(ret(LOG2), b -> List.of(g(b).mul(un(RECIPROCAL, r(b).src(0).mul(c(r(b), Math.log(2))))))),
      rule(ret(SIN), b -> List.of(g(b).mul(UOp.alu(SIN, c(r(b), Math.PI / 2).add(un(NEG, r(b).src(0))))))), // cos x = sin(π/2 - x)
      rule(ret(SQRT), b -> List.of(g(b).mul(un(RECIPROCAL, r(b).mul(c(r(b), 2)))))),
      rule(ret(RECIPROCAL), b -> List.of(un(NEG, g(b)).mul(r(b)).mul(r(b)))),
      rule(ret(TRUNC), b -> List.of(c(g(b), 0))),
      rule(ret(MAX), b -> { // ties share the gradient equally
        var x = r(b).src(0); var y = r(b).src(1); var gr = g(b);
        var tie = where(UOp.alu(CMPEQ, x, y), gr.mul(c(gr, 0.5)), c(gr, 0));
        return List.of(where(UOp.alu(CMPLT, y, x), gr, tie), where(UOp.alu(CMPLT, x, y), gr, tie));
      }),
      rule(ret(WHERE), b -> Arrays.asList(null, where(r(b).src(0), g(b), c(g(b), 0)), where(r(b).src(0), c(g(b), 0), g(b)))),
      rule(ret(CAST), b -> List.of(g(b).cast(r(b).src(0).dtype()))),
      rule(ret(CONTIGUOUS), b -> List.of(g(b))),
      rule(ret(BIND), b -> List.of(g(b))),
      rule(ret(CUSTOM_GRAD), b -> {
        var out = new java.util.ArrayList<UOp>();
        out.add(null);
        out.addAll(((java.util.function.Function<UOp, List<UOp>>) r(b).arg()).apply(g(b)));
        return out;
      }),
      rule(ret(COPY), b -> List.of(UOp.of(COPY, g(b).dtype(), r(b).src(0).device(), g(b)))),
      rule(ret(RESHAPE), b -> List.of(g(b).reshape(r(b).src(0).shape()))),
      rule(ret(PERMUTE), b -> {
        var p = (List<Integer>) r(b).arg();
        var inv = new int[p.size()];
        for (int i = 0; i < inv.length; i++) inv[p.get(i)] = i;
        return List.of(g(b).permute(inv));
      }),
      rule(ret(EXPAND), b -> {
        var in = r(b).src(0).shape(); var out = r(b).shape();
        return List.of(g(b).reduce(ADD, java.util.stream.IntStream.range(0, in.length).filter(i -> in[i] != out[i]).toArray()));
      }),
      rule(ret(PAD), b -> {
        var a = (List<List<Integer>>) r(b).arg(); var in = r(b).src(0).shape();
        var se = new int[in.length][];
        for (int i = 0; i < in.length; i++) se[i] = new int[]{a.get(i).get(0), a.get(i).get(0) + in[i]};
        return List.of(g(b).shrink(se));
      }),
      rule(ret(SHRINK), b -> {
        var a = (List<List<Integer>>) r(b).arg(); var in = r(b).src(0).shape();
        var ba = new int[in.length][];
        for (int i = 0; i < in.length; i++) ba[i] = new int[]{a.get(i).get(0), in[i] - a.get(i).get(1)};
        return List.of(g(b).pad(ba));
      }),
      rule(ret(FLIP), b -> List.of(g(b).flip(UOp.ints((List<Integer>) r(b).arg())))),
      rule(ret(REDUCE_AXIS), b -> {
        var u = r(b); var x = u.src(0); var in = x.shape(); var arg = (ReduceArg) u.arg();
        var ge = g(b).expand(in);
        return List.of(switch (arg.op()) {
          case ADD -> ge;
          case MAX -> { // ties share the gradient equally
            var mask = where(UOp.alu(CMPEQ, x, u.expand(in)), c(x, 1), c(x, 0));
            yield ge.mul(mask).mul(un(RECIPROCAL, mask.reduce(ADD, UOp.ints(arg.axes())).expand(in)));
          }
          case MUL -> { // the product of the others: out/x without zeros, the product of the rest at a lone zero, else 0
            var ax = UOp.ints(arg.axes());
            var zero = UOp.alu(CMPEQ, x, c(x, 0));
            var nz = where(zero, c(x, 1), x);
            var rest = nz.reduce(MUL, ax).expand(in);
            var zeros = where(zero, c(x, 1), c(x, 0)).reduce(ADD, ax).expand(in);
            var lone = where(UOp.alu(CMPEQ, zeros, c(x, 1)), rest, c(x, 0));
            yield ge.mul(where(UOp.alu(CMPEQ, zeros, c(x, 0)), rest.mul(un(RECIPROCAL, nz)), where(zero, lone, c(x, 0))));
          }
          default -> throw new IllegalStateException("no gradient for reduce " + arg.op());
        });
      })
      // every other op (comparisons, bit and integer ops, DETACH) passes no gradient
  ));
}
