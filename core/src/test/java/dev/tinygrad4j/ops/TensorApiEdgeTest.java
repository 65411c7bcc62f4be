package dev.tinygrad4j.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The newer Tensor methods where the stored torch values do not reach: values at the edges of float32, NaN and
 * infinity, empty tensors, random-number statistics, and the errors a wrong argument gives (naming the method called).
 */
class TensorApiEdgeTest {
  private static Tensor f(float... v) { return Tensor.of(v); }

  @Test void roundHalvesToEvenEvenWhereAddingAHalfWouldRound() {
    // 0.49999997 + 0.5 rounds up to 1 in float32, and 2^23 + 1 has no room for a half: neither may change the result
    assertArrayEquals(new float[]{0, 8388609, -8388609, 2, -2, -0f, 4, 1e30f},
        f(0.49999997f, 8388609, -8388609, 2.5f, -2.5f, -0.5f, 3.5f, 1e30f).round().toFloatArray());
    assertTrue(Float.isNaN(f(Float.NaN).round().toFloatArray()[0]));
    assertEquals(Float.NEGATIVE_INFINITY, f(Float.NEGATIVE_INFINITY).round().toFloatArray()[0]);
  }

  @Test void signOfNaNAndInverseTrigonometryItsDomain() {
    assertArrayEquals(new float[]{0, 0, 1, -1}, f(Float.NaN, -0f, 3, Float.NEGATIVE_INFINITY).sign().toFloatArray(), "torch: NaN and -0 give +0");
    assertArrayEquals(new float[]{(float) (Math.PI / 2), (float) (-Math.PI / 2), 0}, f(Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0).atan().toFloatArray(), 1e-6f);
    assertArrayEquals(new float[]{(float) (Math.PI / 2), (float) Math.PI}, f(1, -1).asin().abs().add(f(0, (float) (Math.PI / 2))).toFloatArray(), 1e-6f);
    var out = f(1.5f, -2).asin().toFloatArray();
    assertTrue(Float.isNaN(out[0]) && Float.isNaN(out[1]), "asin outside [-1, 1] is NaN");
    assertEquals(1f, f(10).erf().toFloatArray()[0], 1e-7f);
  }

  @Test void nanAndInfinityTests() {
    var x = f(Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0, -1e38f);
    assertArrayEquals(new int[]{1, 0, 0, 0, 0}, x.isnan().cast(DType.INT32).toIntArray());
    assertArrayEquals(new int[]{0, 1, 1, 0, 0}, x.isinf().cast(DType.INT32).toIntArray());
    assertArrayEquals(new int[]{0, 0, 0, 1, 1}, x.isfinite().cast(DType.INT32).toIntArray());
    assertArrayEquals(new int[]{0, 0}, Tensor.of(new int[]{Integer.MIN_VALUE, 7}).isinf().cast(DType.INT32).toIntArray());
    assertArrayEquals(new int[]{0, 0, 0, 0, 0}, x.ge(Float.NaN).cast(DType.INT32).toIntArray(), "a comparison with NaN is false");
    assertArrayEquals(new int[]{0, 1, 0, 1, 0}, x.ge(0).cast(DType.INT32).toIntArray());
  }

  @Test void allAndAnyOfNothing() {
    assertTrue(Tensor.zeros(0).all().item() != 0, "all of nothing is true");
    assertFalse(Tensor.zeros(0).any().item() != 0, "any of nothing is false");
    assertEquals(DType.BOOL, Tensor.zeros(2, 3).any(1).dtype());
    assertArrayEquals(new int[]{1, 1}, Tensor.zeros(2, 0).all(1).cast(DType.INT32).toIntArray());
    assertTrue(f(Float.NaN).all().item() != 0, "NaN is non-zero, so true");
  }

  @Test void logaddexpAndLogcumsumexpAtInfinities() {
    var r = f(Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, 1000).logaddexp(f(Float.NEGATIVE_INFINITY, 0, 1000)).toFloatArray();
    assertArrayEquals(new float[]{Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, 1000 + (float) Math.log(2)}, r, 1e-3f);
    assertArrayEquals(new float[]{-1000, -1000 + (float) Math.log1p(Math.exp(-1)), 1000}, f(-1000, -1001, 1000).logcumsumexp(0).toFloatArray(), 1e-3f);
  }

  @Test void movementEdges() {
    assertArrayEquals(new int[]{2, 0}, Tensor.zeros(2, 3).slice(1, 5, 1).shape(), "an empty Python slice");
    assertArrayEquals(new float[]{3, 1, 2}, f(1, 2, 3).roll(7, 0).toFloatArray());
    assertArrayEquals(new float[]{}, Tensor.zeros(0).roll(2, 0).toFloatArray());
    assertEquals(0, Tensor.zeros(0, 4).diagonal().numel());
    assertArrayEquals(new int[]{4, 2, 3}, Tensor.zeros(4, 6).unflatten(1, 2, -1).shape());
    assertArrayEquals(new int[]{4, 0, 5}, Tensor.zeros(4, 0).unflatten(1, 0, 5).shape());
    var parts = Tensor.arange(5).chunk(3, 0);
    assertEquals(3, parts.length);
    assertArrayEquals(new int[]{4}, parts[2].toIntArray());
    assertEquals(1, Tensor.arange(5).split(10, 0).length);
    assertArrayEquals(new int[]{0, 0, 0, 1, 1, 1}, Tensor.arange(2).repeatInterleave(3, 0).toIntArray());
    assertArrayEquals(new float[]{1, 0, 0, 1}, Tensor.eye(2).tril(Integer.MIN_VALUE + 1).add(Tensor.eye(2)).toFloatArray(), "no int overflow in the diagonal");
  }

  @Test void creationAndRandomNumbers() {
    assertEquals(0, Tensor.linspace(0, 1, 0).numel());
    float[] l = Tensor.linspace(-1, 1, 101).toFloatArray();
    assertEquals(-1f, l[0]); assertEquals(1f, l[100]); assertEquals(0f, l[50], 1e-7f);
    assertEquals(DType.INT32, Tensor.of(new int[]{1, 2}).fullLike(2.7).dtype());
    assertArrayEquals(new int[]{2, 2}, Tensor.of(new int[]{1, 2}).fullLike(2.7).toIntArray());
    assertEquals(DType.FLOAT32, Tensor.of(new int[]{1, 2}).randLike().dtype());
    Tensor.manualSeed(11);
    var u = Tensor.uniform(2, 5, 20000).toFloatArray();
    double sum = 0, min = 9, max = -9;
    for (float v : u) { sum += v; min = Math.min(min, v); max = Math.max(max, v); }
    assertTrue(min >= 2 && max < 5 && min < 2.01 && max > 4.99, "uniform(2, 5) spans [2, 5): " + min + " .. " + max);
    assertEquals(3.5, sum / u.length, 0.03);
    var n = Tensor.normal(3, 2, 20000);
    assertEquals(3, n.mean().item(), 0.06);
    assertEquals(2, n.std(0).item(), 0.05);
  }

  @Test void errorsNameTheMethodAndTheArguments() {
    var x = Tensor.zeros(3, 4);
    assertMessage(() -> x.narrow(1, 2, 3), "narrow", "[3, 4]");
    assertMessage(() -> x.select(0, 3), "select", "index 3");
    assertMessage(() -> x.unfold(1, 5, 1), "unfold", "[3, 4]");
    assertMessage(() -> Tensor.zeros(4).tril(0), "tril", "[4]");
    assertMessage(() -> x.chunk(0, 0), "chunk", "0");
    assertMessage(() -> x.unflatten(1, 3, -1), "unflatten", "[3, 4]");
    assertMessage(() -> x.cumprod(2), "cumprod", "axis 2");
    assertMessage(() -> x.argmin(-3), "argmin", "axis -3");
    assertMessage(() -> x.all(5), "all", "axis 5");
    assertMessage(() -> Tensor.linspace(0, 1, -1), "linspace", "-1");
    assertMessage(() -> Tensor.uniform(1, 0, 3), "uniform", "1.0");
  }

  private static void assertMessage(org.junit.jupiter.api.function.Executable call, String... parts) {
    var e = assertThrows(IllegalArgumentException.class, call);
    for (var p : parts) assertTrue(e.getMessage().contains(p), "message '" + e.getMessage() + "' lacks '" + p + "'");
  }
}
