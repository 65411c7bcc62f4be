package dev.tinygrad4j.engine;

import dev.tinygrad4j.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Random;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Random chains of movement ops, reductions and elementwise ops, checked against a plain eager evaluation on
 * Java arrays: the index arithmetic the scheduler generates must agree with the definition of each op.
 */
class MovementFuzzTest {
  /** An eagerly computed array: row-major values and a shape. */
  private record Ref(double[] v, int[] s) {
    double at(int[] ix) {
      int f = 0;
      for (int i = 0; i < s.length; i++) f = f * s[i] + ix[i];
      return v[f];
    }
    static Ref build(int[] s, Function<int[], Double> g) {
      var v = new double[(int) Arrays.stream(s).asLongStream().reduce(1, (a, b) -> a * b)];
      for (int f = 0; f < v.length; f++) {
        var ix = new int[s.length];
        for (int i = s.length - 1, r = f; i >= 0; i--) { ix[i] = r % s[i]; r /= s[i]; }
        v[f] = g.apply(ix);
      }
      return new Ref(v, s);
    }
  }

  @Test void randomChainsMatchEagerEvaluation() {
    var rnd = new Random(1234);
    for (int iter = 0; iter < 400; iter++) {
      int nd = 1 + rnd.nextInt(3);
      var shape = new int[nd];
      for (int i = 0; i < nd; i++) shape[i] = 1 + rnd.nextInt(5);
      int n0 = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
      var data = new float[n0];
      for (int i = 0; i < n0; i++) data[i] = i + 1;
      var t = Tensor.of(data).reshape(shape);
      var ref = Ref.build(shape, ix -> 0.0);
      for (int i = 0; i < n0; i++) ref.v()[i] = i + 1;
      var log = new StringBuilder(Arrays.toString(shape));
      int steps = 1 + rnd.nextInt(7);
      for (int k = 0; k < steps; k++) {
        var s = ref.s();
        int n = s.length;
        final var r0 = ref;
        switch (rnd.nextInt(7)) {
          case 0 -> { // reshape into a random factorization, maybe with a 1 inserted
            int total = r0.v().length;
            var dims = new ArrayList<Integer>();
            for (int rest = total; rest > 1 && dims.size() < 3; ) {
              var divs = new ArrayList<Integer>();
              for (int d = 2; d <= rest; d++) if (rest % d == 0) divs.add(d);
              int d = divs.get(rnd.nextInt(divs.size()));
              dims.add(d);
              rest /= d;
              if (dims.size() == 3 && rest > 1) dims.set(2, dims.get(2) * rest);
            }
            if (dims.isEmpty() || rnd.nextBoolean()) dims.add(rnd.nextInt(dims.size() + 1), 1);
            var ns = dims.stream().mapToInt(Integer::intValue).toArray();
            t = t.reshape(ns); ref = new Ref(r0.v(), ns); log.append(" reshape").append(Arrays.toString(ns));
          }
          case 1 -> {
            var p = new ArrayList<Integer>();
            for (int i = 0; i < n; i++) p.add(i);
            Collections.shuffle(p, rnd);
            var pa = p.stream().mapToInt(Integer::intValue).toArray();
            var ns = new int[n];
            for (int i = 0; i < n; i++) ns[i] = s[pa[i]];
            ref = Ref.build(ns, ix -> { var o = new int[n]; for (int i = 0; i < n; i++) o[pa[i]] = ix[i]; return r0.at(o); });
            t = t.permute(pa); log.append(" permute").append(Arrays.toString(pa));
          }
          case 2 -> {
            var pd = new int[n][2];
            var ns = new int[n];
            for (int i = 0; i < n; i++) { pd[i][0] = rnd.nextInt(3); pd[i][1] = rnd.nextInt(3); ns[i] = s[i] + pd[i][0] + pd[i][1]; }
            ref = Ref.build(ns, ix -> {
              var o = new int[n];
              for (int i = 0; i < n; i++) { o[i] = ix[i] - pd[i][0]; if (o[i] < 0 || o[i] >= s[i]) return 0.0; }
              return r0.at(o);
            });
            t = t.pad(pd); log.append(" pad").append(Arrays.deepToString(pd));
          }
          case 3 -> {
            var se = new int[n][2];
            var ns = new int[n];
            for (int i = 0; i < n; i++) { se[i][0] = rnd.nextInt(s[i]); se[i][1] = se[i][0] + 1 + rnd.nextInt(s[i] - se[i][0]); ns[i] = se[i][1] - se[i][0]; }
            ref = Ref.build(ns, ix -> { var o = new int[n]; for (int i = 0; i < n; i++) o[i] = ix[i] + se[i][0]; return r0.at(o); });
            t = t.shrink(se); log.append(" shrink").append(Arrays.deepToString(se));
          }
          case 4 -> {
            int ax = rnd.nextInt(n);
            ref = Ref.build(s, ix -> { var o = ix.clone(); o[ax] = s[ax] - 1 - ix[ax]; return r0.at(o); });
            t = t.flip(ax); log.append(" flip").append(ax);
          }
          case 5 -> { // expand size-1 dims, or add a leading dim
            var ns = n < 4 && rnd.nextBoolean() ? prepend(2 + rnd.nextInt(2), s) : s.clone();
            int off = ns.length - n;
            for (int i = 0; i < n; i++) if (s[i] == 1) ns[i + off] = 1 + rnd.nextInt(3);
            ref = Ref.build(ns, ix -> { var o = new int[n]; for (int i = 0; i < n; i++) o[i] = s[i] == 1 ? 0 : ix[i + off]; return r0.at(o); });
            t = t.expand(ns); log.append(" expand").append(Arrays.toString(ns));
          }
          default -> {
            if (rnd.nextBoolean()) {
              int ax = rnd.nextInt(n);
              var ns = s.clone();
              ns[ax] = 1;
              ref = Ref.build(ns, ix -> { double acc = 0; var o = ix.clone(); for (int j = 0; j < s[ax]; j++) { o[ax] = j; acc += r0.at(o); } return acc; });
              t = t.sum(ax, true); log.append(" sum").append(ax);
            } else {
              ref = Ref.build(s, ix -> r0.at(ix) * 2 - 1);
              t = t.mul(2).sub(1); log.append(" *2-1");
            }
          }
        }
      }
      var got = t.toFloatArray();
      var chain = log.toString();
      assertArrayEquals(ref.s(), t.shape(), chain);
      for (int i = 0; i < got.length; i++) assertEquals(ref.v()[i], got[i], 1e-3 * Math.max(1, Math.abs(ref.v()[i])), () -> chain);
    }
  }

  private static int[] prepend(int d, int[] s) {
    var out = new int[s.length + 1];
    out[0] = d;
    System.arraycopy(s, 0, out, 1, s.length);
    return out;
  }
}
