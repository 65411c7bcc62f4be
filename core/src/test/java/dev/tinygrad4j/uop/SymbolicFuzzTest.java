package dev.tinygrad4j.uop;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.tinygrad4j.DType;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Soundness of the symbolic rules: random int32 index expressions over loop variables with random bounds (sums,
 * products, divisions and remainders by constants, negatives, maxima, comparisons, selects, bool logic), simplified
 * by {@link Symbolic#RULES} and evaluated before and after at every value the variables can take. A rule that
 * holds only for some values (a division folded without the bounds that allow it) fails here. 3000 expressions with
 * a fixed seed; -Dfuzz.symbolic=N -Dfuzz.seed=S for more or others.
 */
class SymbolicFuzzTest {
  private static final int EXPRESSIONS = Integer.getInteger("fuzz.symbolic", 3000);
  private static final long SEED = Long.getLong("fuzz.seed", 20261208L);

  @Test void simplifiedExpressionsEqualTheOriginalsEverywhere() {
    var rnd = new Random(SEED);
    int changed = 0;
    for (int e = 0; e < EXPRESSIONS; e++) {
      int nv = 1 + rnd.nextInt(3);
      var vars = new UOp[nv];
      var bounds = new int[nv];
      for (int v = 0; v < nv; v++) { bounds[v] = 1 + rnd.nextInt(12); vars[v] = UOp.range(bounds[v], v, UOp.AxisType.LOOP); }
      var x = expr(rnd, vars, 4);
      var s = PatternMatcher.graphRewrite(x, Symbolic.RULES);
      if (s != x) changed++;
      var at = new HashMap<UOp, Long>();
      var ix = new int[nv];
      for (long k = 0, total = prod(bounds); k < total; k++) {
        long r = k;
        for (int v = 0; v < nv; v++) { ix[v] = (int) (r % bounds[v]); r /= bounds[v]; at.put(vars[v], (long) ix[v]); }
        long want = eval(x, at), got = eval(s, at);
        if (want != got) fail("expression " + e + ": " + x + "\nsimplified to " + s + "\nat " + java.util.Arrays.toString(ix) + " (bounds "
            + java.util.Arrays.toString(bounds) + ") gives " + got + ", the original " + want);
      }
    }
    assertTrue(changed > EXPRESSIONS / 4, "only " + changed + " of " + EXPRESSIONS + " expressions changed: the generator misses the rules");
  }

  private static long prod(int[] b) { long p = 1; for (int v : b) p *= v; return p; }

  /** A random int32 expression of at most depth levels. */
  private static UOp expr(Random rnd, UOp[] vars, int depth) {
    if (depth == 0 || rnd.nextInt(5) == 0)
      return rnd.nextInt(3) == 0 ? UOp.idx(rnd.nextInt(18) - 5) : vars[rnd.nextInt(vars.length)];
    var a = expr(rnd, vars, depth - 1);
    return switch (rnd.nextInt(11)) {
      case 0, 1 -> a.add(expr(rnd, vars, depth - 1));
      case 2 -> a.mul(rnd.nextInt(9) - 3);
      case 3 -> a.mul(expr(rnd, vars, depth - 1));
      case 4, 5 -> a.idiv(1 + rnd.nextInt(8));
      case 6, 7 -> a.mod(1 + rnd.nextInt(8));
      case 8 -> UOp.alu(Ops.MAX, a, expr(rnd, vars, depth - 1));
      case 9 -> UOp.alu(Ops.NEG, a);
      default -> {
        var c = switch (rnd.nextInt(4)) {
          case 0 -> a.lt(expr(rnd, vars, depth - 1));
          case 1 -> UOp.alu(Ops.CMPEQ, a, expr(rnd, vars, depth - 1));
          case 2 -> UOp.alu(Ops.CMPNE, a, expr(rnd, vars, depth - 1));
          default -> a.lt(rnd.nextInt(12)).and(expr(rnd, vars, depth - 1).lt(rnd.nextInt(12)));
        };
        yield UOp.alu(Ops.WHERE, c, expr(rnd, vars, depth - 1), expr(rnd, vars, depth - 1));
      }
    };
  }

  /** The value of an int or bool expression with the loop variables at the given values. */
  private static long eval(UOp u, Map<UOp, Long> at) {
    if (at.containsKey(u)) return at.get(u);
    if (u.op() == Ops.CONST) return u.asLong();
    var s = u.src();
    if (u.op() == Ops.WHERE) return eval(s.get(0), at) != 0 ? eval(s.get(1), at) : eval(s.get(2), at);
    long a = eval(s.get(0), at), b = s.size() > 1 ? eval(s.get(1), at) : 0;
    if (u.op().isComparison()) return Alu.compare(u.op(), s.get(0).dtype(), 0, 0, a, b);
    return Alu.intOp(u.op(), u.dtype(), a, b, 0);
  }
}
