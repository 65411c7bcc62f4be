package dev.tinygrad4j.uop;

import dev.tinygrad4j.uop.UOp.ReduceArg;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.tinygrad4j.uop.Ops.*;

/** Reverse-mode gradients: one rule per primitive, giving each source's gradient from the node's gradient g. */
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
      var local = rule(u, g);
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

  /** Gradients of u's sources (null where a source gets none). */
  @SuppressWarnings("unchecked")
  private static List<UOp> rule(UOp u, UOp g) {
    var x = u.src(0);
    var in = x.shape();
    return switch (u.op()) {
      case ADD -> List.of(g, g);
      case MUL -> List.of(g.mul(u.src(1)), g.mul(x));
      case MULACC -> List.of(g.mul(u.src(1)), g.mul(x), g);
      case NEG -> List.of(un(NEG, g));
      case EXP2 -> List.of(g.mul(u).mul(c(u, Math.log(2))));
      case LOG2 -> List.of(g.mul(un(RECIPROCAL, x.mul(c(x, Math.log(2))))));
      case SIN -> List.of(g.mul(UOp.alu(SIN, c(x, Math.PI / 2).add(un(NEG, x)))));
      case SQRT -> List.of(g.mul(un(RECIPROCAL, u.mul(c(u, 2)))));
      case RECIPROCAL -> List.of(un(NEG, g).mul(u).mul(u));
      case TRUNC -> List.of(c(g, 0));
      case MAX -> {
        var a = x; var b = u.src(1);
        var tie = where(UOp.alu(CMPEQ, a, b), g.mul(c(g, 0.5)), c(g, 0));
        yield List.of(where(UOp.alu(CMPLT, b, a), g, tie), where(UOp.alu(CMPLT, a, b), g, tie));
      }
      case WHERE -> Arrays.asList(null, where(x, g, c(g, 0)), where(x, c(g, 0), g));
      case CAST -> List.of(g.cast(x.dtype()));
      case CONTIGUOUS -> List.of(g);
      case COPY -> List.of(UOp.of(COPY, g.dtype(), deviceOf(x), g));
      case RESHAPE -> List.of(g.reshape(in));
      case PERMUTE -> {
        var p = (List<Integer>) u.arg();
        var inv = new int[p.size()];
        for (int i = 0; i < inv.length; i++) inv[p.get(i)] = i;
        yield List.of(g.permute(inv));
      }
      case EXPAND -> {
        var axes = new ArrayList<Integer>();
        var out = u.shape();
        for (int i = 0; i < in.length; i++) if (in[i] != out[i]) axes.add(i);
        yield List.of(g.reduce(ADD, UOp.ints(axes)));
      }
      case PAD -> {
        var a = (List<List<Integer>>) u.arg();
        var se = new int[in.length][];
        for (int i = 0; i < in.length; i++) se[i] = new int[]{a.get(i).get(0), a.get(i).get(0) + in[i]};
        yield List.of(g.shrink(se));
      }
      case SHRINK -> {
        var a = (List<List<Integer>>) u.arg();
        var ba = new int[in.length][];
        for (int i = 0; i < in.length; i++) ba[i] = new int[]{a.get(i).get(0), in[i] - a.get(i).get(1)};
        yield List.of(g.pad(ba));
      }
      case FLIP -> List.of(g.flip(UOp.ints((List<Integer>) u.arg())));
      case REDUCE_AXIS -> {
        var arg = (ReduceArg) u.arg();
        var ge = g.expand(in);
        yield List.of(switch (arg.op()) {
          case ADD -> ge;
          case MAX -> { // ties share the gradient equally
            var mask = where(UOp.alu(CMPEQ, x, u.expand(in)), c(x, 1), c(x, 0));
            var count = mask.reduce(ADD, UOp.ints(arg.axes())).expand(in);
            yield ge.mul(mask).mul(un(RECIPROCAL, count));
          }
          case MUL -> ge.mul(u.expand(in)).mul(un(RECIPROCAL, x));
          default -> throw new IllegalStateException("no gradient for reduce " + arg.op());
        });
      }
      default -> Arrays.asList(new UOp[u.src().size()]); // comparisons, bit ops, integer ops, DETACH: no gradient
    };
  }

  private static Object deviceOf(UOp x) {
    for (var n : x.toposort()) if (n.op() == BUFFER) return ((dev.tinygrad4j.runtime.Buffer) n.arg()).device();
    throw new IllegalStateException("COPY gradient: the source reads no buffer");
  }
}
