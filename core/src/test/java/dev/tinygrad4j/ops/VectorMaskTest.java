package dev.tinygrad4j.ops;

import static org.junit.jupiter.api.Assertions.fail;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.Tensor;
import java.util.Random;
import java.util.function.DoubleBinaryOperator;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Column sums of comparisons, masks and selections (relu, where, lt, eq, ne, and, or, xor, bool to float): on the CPU
 * the columns are vector lanes, so these run as vector compares and selects. Values include NaN, ±0, ties and
 * infinities; each column sum is checked against the same float32 sum computed here in the same order.
 */
class VectorMaskTest {
  static final int ROWS = 24, COLS = 52; // 52 = 16 + 16 + 16 + 4 lanes

  static float[] values(long seed) {
    var r = new Random(seed);
    float[] special = {Float.NaN, 0f, -0f, 0.5f, -0.5f, 1f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
    var v = new float[ROWS * COLS];
    for (int i = 0; i < v.length; i++) v[i] = r.nextInt(4) == 0 ? special[r.nextInt(special.length)] : (r.nextInt(9) - 4) * 0.5f;
    return v;
  }

  /** Checks t(x, y).sum(0) against the per-element function f summed down each column in float32. */
  static void check(String name, Function<Tensor[], Tensor> t, DoubleBinaryOperator f) {
    var xs = values(1); var ys = values(2);
    var x = Tensor.of(xs).reshape(ROWS, COLS).realize(); var y = Tensor.of(ys).reshape(ROWS, COLS).realize();
    var got = t.apply(new Tensor[]{x, y}).sum(0).toFloatArray();
    for (int c = 0; c < COLS; c++) {
      float want = 0;
      for (int r = 0; r < ROWS; r++) want += (float) f.applyAsDouble(xs[r * COLS + c], ys[r * COLS + c]);
      if (Float.compare(want, got[c]) != 0 && !(Math.abs(want - got[c]) <= 1e-6 * Math.abs(want)))
        fail(name + ": column " + c + " expected " + want + ", got " + got[c]);
    }
  }

  static double b(boolean v) { return v ? 1 : 0; }

  @Test void masksInVectorLanesMatchScalarSemantics() {
    check("relu", t -> t[0].relu(), (a, b) -> a != a ? a : a <= 0 ? 0 : a);
    check("where(x < y, x, y*2)", t -> t[0].lt(t[1]).where(t[0], t[1].mul(2)), (a, b) -> a < b ? a : b * 2);
    check("(x == y) as float", t -> t[0].eq(t[1]).cast(DType.FLOAT32), (a, b) -> b(a == b));
    check("(x != y) as float", t -> t[0].ne(t[1]).cast(DType.FLOAT32), (a, b) -> b(a != b));
    check("x < 0 or y > 0", t -> t[0].lt(0).or(t[1].gt(0)).where(1.0, t[0]), (a, b) -> a < 0 || b > 0 ? 1 : a);
    check("x < 0 and y < 0", t -> t[0].lt(0).and(t[1].lt(0)).where(t[1], 0.25), (a, b) -> a < 0 && b < 0 ? b : 0.25);
    check("x < 0 xor y < 0", t -> t[0].lt(0).xor(t[1].lt(0)).cast(DType.FLOAT32), (a, b) -> b(a < 0 ^ b < 0));
  }
}
