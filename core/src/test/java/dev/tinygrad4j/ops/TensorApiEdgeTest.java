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
    // halves compute the polynomials in float32: in half precision the sums would lose most digits
    var h = f(0.1f, 0.5f, -0.9f, 3).cast(DType.FLOAT16);
    assertEquals(DType.FLOAT16, h.erf().dtype());
    assertArrayEquals(new float[]{0.1124629f, 0.5204999f, -0.7969082f, 0.9999779f}, h.erf().cast(DType.FLOAT32).toFloatArray(), 1e-3f);
    assertArrayEquals(new float[]{0.0996687f, 0.4636476f, -0.7328151f, 1.2490458f}, h.atan().cast(DType.FLOAT32).toFloatArray(), 1e-3f);
    assertArrayEquals(new float[]{0.1001674f, 0.5235988f, -1.1197695f}, f(0.1f, 0.5f, -0.9f).cast(DType.BFLOAT16).asin().cast(DType.FLOAT32).toFloatArray(), 2e-2f);
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

  @Test void sortPutsNaNAboveEverythingAndKeepsTiesInOrder() {
    var x = f(3, Float.NaN, -1, Float.POSITIVE_INFINITY, 3, Float.NEGATIVE_INFINITY);
    var up = x.sort(0, false);
    var v = up[0].toFloatArray();
    assertArrayEquals(new float[]{Float.NEGATIVE_INFINITY, -1, 3, 3, Float.POSITIVE_INFINITY}, java.util.Arrays.copyOf(v, 5));
    assertTrue(Float.isNaN(v[5]));
    assertArrayEquals(new int[]{5, 2, 0, 4, 3, 1}, up[1].toIntArray());
    assertArrayEquals(new int[]{1, 3, 0, 4, 2, 5}, x.sort(0, true)[1].toIntArray(), "descending: NaN first, equal values in order");
    assertEquals(0, Tensor.zeros(0).sort(0, false)[0].numel());
    assertArrayEquals(new int[]{2, 0}, Tensor.zeros(2, 5).topk(0, 1, true, true)[0].shape());
    assertArrayEquals(new int[]{1, 1, 0, 0}, Tensor.of(new int[]{1, 0, 1, 0}).cast(DType.BOOL).sort(0, true)[0].cast(DType.INT32).toIntArray());
  }

  @Test void randpermAndMultinomial() {
    Tensor.manualSeed(5);
    var p = Tensor.randperm(1000).toIntArray();
    var seen = new boolean[1000];
    for (int i : p) { assertFalse(seen[i], "randperm repeats " + i); seen[i] = true; }
    assertFalse(java.util.Arrays.equals(p, java.util.stream.IntStream.range(0, 1000).toArray()), "randperm shuffles");
    var w = f(1, 0, 3, 6);
    var draws = w.multinomial(20000, true).toIntArray();
    var count = new int[4];
    for (int d : draws) count[d]++;
    assertEquals(0, count[1], "a zero weight is never drawn");
    assertEquals(0.1, count[0] / 20000.0, 0.012);
    assertEquals(0.3, count[2] / 20000.0, 0.015);
    assertEquals(0.6, count[3] / 20000.0, 0.015);
    var rows = Tensor.ones(50, 6).multinomial(6, false).toIntArray();
    for (int r = 0; r < 50; r++) {
      var row = java.util.Arrays.copyOfRange(rows, 6 * r, 6 * r + 6);
      java.util.Arrays.sort(row);
      assertArrayEquals(new int[]{0, 1, 2, 3, 4, 5}, row, "without replacement every category once");
    }
    var first = new int[4];
    var picks = f(1, 0, 3, 6).unsqueeze(0).expand(4000, 4).contiguous().multinomial(1, false).toIntArray();
    for (int d : picks) first[d]++;
    assertEquals(0, first[1]);
    assertEquals(0.6, first[3] / 4000.0, 0.03);
  }

  @Test void scatterIndexOutOfRangeAndBadWeightsAreErrors() {
    var e = assertThrows(RuntimeException.class, () -> Tensor.zeros(3).scatter(0, Tensor.of(new int[]{3}), f(1)).toFloatArray());
    assertTrue(e.getMessage().contains("scatter") && e.getMessage().contains("out of range"), e.getMessage());
    var e2 = assertThrows(RuntimeException.class, () -> Tensor.of(new int[]{0, 5}).oneHot(5).toIntArray());
    assertTrue(e2.getMessage().contains("oneHot"), e2.getMessage());
    var e3 = assertThrows(RuntimeException.class, () -> f(1, -1).multinomial(1, true).toIntArray());
    assertTrue(e3.getMessage().contains("multinomial") && e3.getMessage().contains("negative"), e3.getMessage());
    var e4 = assertThrows(RuntimeException.class, () -> f(1, 0, 0).multinomial(2, false).toIntArray());
    assertTrue(e4.getMessage().contains("fewer than 2"), e4.getMessage());
    assertArrayEquals(new float[]{1, 2}, f(1, 2).toFloatArray(), "the program stays usable");
  }

  /**
   * GCC 12.2 at -O3 -march=native miscompiled this kernel (a max over where(index == place, position, -1), then
   * (0 < m) | (m == 0) selecting a float): its loop if-conversion vectorized the outer loop wrongly and every output
   * was 0. The CPU device compiles with -fno-tree-loop-if-convert since; JVM, INTERP and CL were right throughout.
   */
  @Test void theScatterGradientGccOnceMiscompiled() {
    var a = Tensor.zeros(4, 3).contiguous().realize().requiresGrad(true);
    var up = Tensor.of(new float[]{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}).reshape(4, 3);
    a.scatter(0, Tensor.of(new int[]{0, 3, 2, 1, 0, 0}).reshape(2, 3), Tensor.ones(2, 3)).mul(up).sum().backward();
    assertArrayEquals(new float[]{0, 0, 0, 0, 5, 6, 7, 8, 0, 10, 0, 12}, a.grad().toFloatArray(), "places written by the scatter get no gradient");
  }

  @Test void nnFunctionsRejectWhatTorchRejects() {
    var e = assertThrows(RuntimeException.class, () -> Tensor.zeros(2, 3).nllLoss(Tensor.of(new int[]{7, 1})).item());
    assertTrue(e.getMessage().contains("nllLoss") && e.getMessage().contains("out of range"), e.getMessage());
    var e2 = assertThrows(RuntimeException.class, () -> Tensor.randn(2, 3).crossEntropy(Tensor.of(new int[]{7, 1}), 0.1).item());
    assertTrue(e2.getMessage().contains("out of range"), e2.getMessage());
    assertMessage(() -> Tensor.zeros(1, 2, 3, 3).convTranspose2d(Tensor.zeros(2, 1, 3, 3), null, 1, 0, 1, 1, 1), "convTranspose2d", "outputPadding 1");
    assertMessage(() -> Tensor.zeros(1, 2, 3, 3).convTranspose2d(Tensor.zeros(3, 1, 3, 3), null, 1, 0, 0, 1, 1), "convTranspose2d", "[3, 1, 3, 3]");
    assertMessage(() -> Tensor.zeros(2, 3).scaledDotProductAttention(Tensor.zeros(4, 2), Tensor.zeros(4, 5), null, false), "scaledDotProductAttention", "[4, 2]");
    assertMessage(() -> Tensor.zeros(1, 3).interpolate(new int[]{0}, "linear", false), "interpolate", "[0]");
    assertMessage(() -> Tensor.zeros(1, 3).interpolate(new int[]{4}, "cubic", false), "interpolate", "cubic");
    assertMessage(() -> Tensor.of(new float[]{1, 2, 3}, 2, 2), "of", "[2, 2]");
    assertArrayEquals(new int[]{2, 3}, Tensor.of(new float[6], 2, 3).shape());
    // a query that may see nothing gets NaN, as in torch; the others are unaffected
    var out = Tensor.ones(2, 4).scaledDotProductAttention(Tensor.ones(3, 4), Tensor.ones(3, 2), Tensor.of(new int[]{0, 0, 0, 1, 0, 1}).reshape(2, 3).cast(DType.BOOL), false).toFloatArray();
    assertTrue(Float.isNaN(out[0]) && Float.isNaN(out[1]));
    assertArrayEquals(new float[]{1, 1}, new float[]{out[2], out[3]});
  }

  @Test void checksCanBeTurnedOff() {
    var was = dev.tinygrad4j.Flags.get("CHECKS");
    try {
      dev.tinygrad4j.Flags.set("CHECKS", "0");
      assertTrue(Double.isFinite(Tensor.randn(2, 3).crossEntropy(Tensor.of(new int[]{7, 1})).item()), "with CHECKS=0 no error is raised");
    } finally {
      dev.tinygrad4j.Flags.set("CHECKS", was);
    }
    assertThrows(IllegalArgumentException.class, () -> Tensor.randn(2, 3).crossEntropy(Tensor.of(new int[]{7, 1})).item());
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
    assertMessage(() -> x.topk(5, 1, true, true), "topk", "k 5");
    assertMessage(() -> x.scatter(0, Tensor.of(new int[]{0}).reshape(1, 1), Tensor.zeros(1)), "scatter", "[1]");
    assertMessage(() -> x.scatterReduce(0, Tensor.zeros(1, 1).cast(DType.INT32), Tensor.zeros(1, 1), "median", true), "scatterReduce", "median");
    assertMessage(() -> x.maskedFill(Tensor.zeros(3, 4), 1), "maskedFill", "bool");
    assertMessage(() -> x.multinomial(5, false), "multinomial", "5");
    assertMessage(() -> x.oneHot(3), "oneHot", "float32");
    // composites name themselves, not the op inside them that would fail
    assertMessage(() -> x.softmax(2), "softmax", "axis 2");
    assertMessage(() -> x.logSoftmax(-3), "logSoftmax", "axis -3");
    assertMessage(() -> x.logsumexp(2), "logsumexp", "axis 2");
    assertMessage(() -> x.std(2), "std", "axis 2");
    assertMessage(() -> x.min(2), "min", "axis 2");
    assertMessage(() -> x.min(true, 0, 2), "min", "axis 2");
    assertMessage(() -> x.layernorm(2, 1e-5), "layernorm", "axis 2");
    assertMessage(() -> Tensor.zeros(4).maxPool2d(2, 2), "maxPool2d", "[4]");
    assertMessage(() -> x.avgPool2d(5, 1), "avgPool2d", "[3, 4]");
  }

  private static void assertMessage(org.junit.jupiter.api.function.Executable call, String... parts) {
    var e = assertThrows(IllegalArgumentException.class, call);
    for (var p : parts) assertTrue(e.getMessage().contains(p), "message '" + e.getMessage() + "' lacks '" + p + "'");
  }
}
