package dev.tinygrad4j.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Gather, windows of any rank, products, integer division and logic ops, against plain Java loops (exact where the
 * result is exact). Part of the device suite.
 */
class IndexOpsTest {
  private static float[] randoms(int n, long seed) {
    var r = new Random(seed);
    var v = new float[n];
    for (int i = 0; i < n; i++) v[i] = r.nextFloat() * 2 - 1;
    return v;
  }

  @Test void gatherReadsAlongAnAxisWithNegativeIndicesAndRejectsOutOfRange() {
    int a = 3, b = 5, c = 4;
    var x = randoms(a * b * c, 1);
    int[] idx = new int[a * 2 * c];
    var r = new Random(2);
    for (int i = 0; i < idx.length; i++) idx[i] = r.nextInt(2 * b) - b; // -b .. b-1: negative ones count from the end
    var t = Tensor.of(x).reshape(a, b, c);
    var out = t.gather(1, Tensor.of(idx).reshape(a, 2, c)).toFloatArray();
    for (int i = 0; i < a; i++)
      for (int j = 0; j < 2; j++)
        for (int k = 0; k < c; k++) {
          int v = idx[(i * 2 + j) * c + k], w = v < 0 ? v + b : v;
          assertEquals(x[(i * b + w) * c + k], out[(i * 2 + j) * c + k], 0f, "at " + i + "," + j + "," + k + " index " + v);
        }
    for (int bad : new int[]{b, -b - 1}) {
      var wrong = idx.clone();
      wrong[7] = bad;
      var e = assertThrows(IllegalArgumentException.class, () -> t.gather(1, Tensor.of(wrong).reshape(a, 2, c)).toFloatArray(), "index " + bad);
      assertTrue(e.getMessage().contains("out of range [-5, 5) for axis 1 of input [3, 5, 4]"), e.getMessage());
    }
  }

  @Test void gatherFusesWithItsIndicesAndPassesGradientsBack() {
    var x = Tensor.of(randoms(6 * 4, 3)).reshape(6, 4).requiresGrad(true);
    var ids = Tensor.of(new int[]{5, 0, 5, 2}).reshape(4, 1).expand(4, 4); // rows 5, 0, 5, 2: row 5 twice
    var w = Tensor.of(randoms(16, 4)).reshape(4, 4);
    x.gather(0, ids.add(Tensor.of(new int[]{0}))).mul(w).sum().backward();
    var g = x.grad().toFloatArray();
    var wv = w.toFloatArray();
    var want = new float[24];
    int[] rows = {5, 0, 5, 2};
    for (int i = 0; i < 4; i++) for (int k = 0; k < 4; k++) want[rows[i] * 4 + k] += wv[i * 4 + k];
    assertArrayEquals(want, g, 1e-6f);
  }

  @Test void gatherRejectsWhatDoesNotFit() {
    var x = Tensor.zeros(3, 4);
    assertThrows(IllegalArgumentException.class, () -> x.gather(0, Tensor.zeros(2, 4)), "float indices");
    assertThrows(IllegalArgumentException.class, () -> x.gather(0, Tensor.of(new int[]{1, 2}))); // rank
    assertThrows(IllegalArgumentException.class, () -> x.gather(0, Tensor.of(new int[10]).reshape(2, 5))); // wider than input
  }

  @Test void poolMakesWindowsOfAnyRank() {
    int n = 2, d = 7, h = 6, w = 5;
    var x = randoms(n * d * h * w, 5);
    int[] k = {2, 3, 2}, s = {2, 1, 3}, dil = {1, 2, 1};
    var t = Tensor.of(x).reshape(n, d, h, w).pool(k, s, dil);
    int[] o = new int[3];
    int[] in = {d, h, w};
    for (int j = 0; j < 3; j++) o[j] = (in[j] - dil[j] * (k[j] - 1) - 1) / s[j] + 1;
    assertArrayEquals(new int[]{n, o[0], o[1], o[2], k[0], k[1], k[2]}, t.shape());
    var got = t.toFloatArray();
    int at = 0;
    for (int b = 0; b < n; b++)
      for (int i0 = 0; i0 < o[0]; i0++) for (int i1 = 0; i1 < o[1]; i1++) for (int i2 = 0; i2 < o[2]; i2++)
        for (int k0 = 0; k0 < k[0]; k0++) for (int k1 = 0; k1 < k[1]; k1++) for (int k2 = 0; k2 < k[2]; k2++) {
          int z = i0 * s[0] + k0 * dil[0], y = i1 * s[1] + k1 * dil[1], xx = i2 * s[2] + k2 * dil[2];
          assertEquals(x[((b * d + z) * h + y) * w + xx], got[at++], 0f);
        }
    var one = Tensor.of(new float[]{1, 2, 3, 4, 5}).pool(new int[]{2}, new int[]{2}, new int[]{1});
    assertArrayEquals(new float[]{1, 2, 3, 4}, one.toFloatArray());
  }

  @Test void productsDivisionAndLogic() {
    var x = randoms(12, 6);
    var p = Tensor.of(x).reshape(3, 4).prod(false, 1).toFloatArray();
    for (int i = 0; i < 3; i++) assertEquals(x[4 * i] * x[4 * i + 1] * x[4 * i + 2] * x[4 * i + 3], p[i], 1e-6f);
    int[] a = {7, -7, 7, -7, 5, 0}, b = {2, 2, -2, -2, 0, 3};
    var ta = Tensor.of(a); var tb = Tensor.of(b);
    var q = ta.idiv(tb).toIntArray(); var m = ta.mod(tb).toIntArray();
    for (int i = 0; i < a.length; i++) {
      assertEquals(b[i] == 0 ? 0 : a[i] / b[i], q[i]);
      assertEquals(b[i] == 0 ? 0 : a[i] % b[i], m[i]);
    }
    assertArrayEquals(new int[]{7 << 2, -7 << 2}, Tensor.of(new int[]{7, -7}).shl(Tensor.of(new int[]{2, 2})).toIntArray());
    assertArrayEquals(new int[]{7 >> 1, -7 >> 1}, Tensor.of(new int[]{7, -7}).shr(Tensor.of(new int[]{1, 1})).toIntArray());
    var t = Tensor.of(new int[]{1, 1, 0, 0}).cast(DType.BOOL); var f = Tensor.of(new int[]{1, 0, 1, 0}).cast(DType.BOOL);
    assertArrayEquals(new int[]{1, 0, 0, 0}, t.and(f).cast(DType.INT32).toIntArray());
    assertArrayEquals(new int[]{1, 1, 1, 0}, t.or(f).cast(DType.INT32).toIntArray());
    assertArrayEquals(new int[]{0, 1, 1, 0}, t.xor(f).cast(DType.INT32).toIntArray());
    assertArrayEquals(new int[]{0, 0, 1, 1}, t.not().cast(DType.INT32).toIntArray());
    assertArrayEquals(new int[]{0, 1, 1, 0}, Tensor.of(new int[]{3, 4, 5, 6}).ne(Tensor.of(new int[]{3, 0, 0, 6})).cast(DType.INT32).toIntArray());
    assertThrows(IllegalArgumentException.class, () -> Tensor.of(x).idiv(Tensor.of(x)));
  }
}
