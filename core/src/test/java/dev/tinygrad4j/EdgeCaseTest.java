package dev.tinygrad4j;

import dev.tinygrad4j.engine.Schedule;
import dev.tinygrad4j.runtime.Devices;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Corner cases found by review: empty dims, NaN, extreme ranges, gradients at kinks, wide dtypes. */
class EdgeCaseTest {
  private static Tensor f(float... v) { return Tensor.of(v); }

  @Test void reductionOfBroadcastInputFeedsElementwiseOps() {
    assertArrayEquals(new float[]{1, 1}, Tensor.ones(2, 3).mean(1).toFloatArray());
    assertArrayEquals(new float[]{12, 12}, f(1, 2, 3).expand(2, 3).sum(1).mul(2).toFloatArray());
    assertArrayEquals(new float[]{(float) Math.sqrt(6), (float) Math.sqrt(6)}, f(1, 2, 3).expand(2, 3).sum(1).sqrt().toFloatArray(), 1e-6f);
  }

  @Test void aScheduleRecordsResultsOnlyWhenCommitted() {
    var t = f(1, 2, 3).add(1);
    var plan = Schedule.create(List.of(t.uop()), List.of(Devices.get(t.device())));
    assertNull(Schedule.realized(t.uop(), Devices.get(t.device())), "nothing is recorded before the plan has run");
    assertFalse(plan.items().isEmpty());
    assertArrayEquals(new float[]{2, 3, 4}, t.toFloatArray());
  }

  @Test void emptyDims() {
    assertEquals("[]", Tensor.zeros(0, 3).toString());
    assertArrayEquals(new int[]{2, 3}, Tensor.zeros(2, 0).matmul(Tensor.zeros(0, 3)).shape());
    assertArrayEquals(new float[6], Tensor.zeros(2, 0).matmul(Tensor.zeros(0, 3)).toFloatArray());
    assertEquals(0, Tensor.eye(0).numel());
    assertArrayEquals(new float[]{0, 0}, Tensor.zeros(2, 0).sum(1).toFloatArray());
    assertTrue(Double.isNaN(Tensor.zeros(0).mean().item()));
  }

  @Test void randintCoversWideRanges() {
    Tensor.manualSeed(3);
    var wide = Tensor.randint(-2_000_000_000, 2_000_000_000, 2000).toIntArray();
    assertTrue(Arrays.stream(wide).allMatch(v -> v >= -2_000_000_000 && v < 2_000_000_000));
    assertTrue(Arrays.stream(wide).min().getAsInt() < -1_500_000_000 && Arrays.stream(wide).max().getAsInt() > 1_500_000_000);
    var top = Tensor.randint(2147483600, 2147483647, 200).toIntArray();
    assertTrue(Arrays.stream(top).allMatch(v -> v >= 2147483600));
    assertTrue(Arrays.stream(top).distinct().count() > 20);
    var narrow = Tensor.randint(1_000_000_000, 1_000_000_010, 200).toIntArray();
    assertEquals(10, Arrays.stream(narrow).distinct().count());
    assertTrue(Arrays.stream(narrow).allMatch(v -> v >= 1_000_000_000 && v < 1_000_000_010));
  }

  @Test void argmaxPointsAtNaN() {
    assertEquals(2, Tensor.of(new float[]{1, 5, Float.NaN, 7}).argmax(0).item());
    assertEquals(3, Tensor.of(new float[]{1, 5, 2, 7}).argmax(0).item());
  }

  private static float[] grad(java.util.function.UnaryOperator<Tensor> op, float... x) {
    var t = Tensor.of(x).requiresGrad(true);
    op.apply(t).sum().backward();
    return t.grad().toFloatArray();
  }

  @Test void gradientsAtKinksMatchTorch() {
    assertArrayEquals(new float[]{0, 2.5f * (float) Math.pow(2, 1.5)}, grad(x -> x.pow(2.5), 0, 2), 1e-5f);
    assertArrayEquals(new float[]{0, 4}, grad(x -> x.pow(Tensor.of(new float[]{2, 2})), 0, 2), 1e-5f);
    assertArrayEquals(new float[]{0, -1, 1}, grad(Tensor::abs, 0, -3, 3));
    assertArrayEquals(new float[]{0, 0, 1}, grad(Tensor::relu, 0, -3, 3));
    var target = Tensor.of(new float[]{0, 1, 1});
    // at the ends the derivative of the clamped loss is finite: torch's closed form reports 0 there, we report it
    assertArrayEquals(new float[]{1f / 3, -1f / 3, -2f / 3}, grad(x -> x.binaryCrossEntropy(target), 0, 1, 0.5f), 1e-6f);
    assertEquals((200 + Math.log(2)) / 3, f(1, 0, 0.5f).binaryCrossEntropy(target).item(), 1e-4); // log clamped at -100
  }

  @Test void nanAndInfinityFollowTorch() {
    assertTrue(Double.isNaN(f(Float.NaN).relu().item()));
    assertTrue(Double.isNaN(f(Float.NaN).abs().item()));
    assertEquals(Double.NEGATIVE_INFINITY, f(Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY).logsumexp(0).item());
    assertEquals(Double.POSITIVE_INFINITY, f(0).pow(-1.5).item());
    assertEquals(1.0, f(0).pow(0).item());
  }

  @Test void wideTypesPrintExactly() {
    assertTrue(Tensor.of(new double[]{1e300}).toString().contains("1.000e+300"));
    assertTrue(Tensor.of(new int[]{-1}).cast(DType.UINT32).toString().contains("4294967295"));
    assertTrue(Tensor.of(new int[]{1_500_000_000}).cast(DType.INT64).mul(2).toString().contains("3000000000"));
  }

  @Test void onlyFloatTensorsRequireGrad() {
    var ex = assertThrows(IllegalArgumentException.class, () -> Tensor.of(new int[]{1, 2}).requiresGrad(true));
    assertTrue(ex.getMessage().contains("int32"));
    var x = f(1, 2).requiresGrad(true);
    assertFalse(x.argmax(0).requiresGrad());
    assertFalse(x.lt(1).requiresGrad());
  }

  @Test void badArgumentsAreIllegalArguments() {
    var a = Tensor.ones(2, 3);
    assertThrows(IllegalArgumentException.class, () -> a.pad(new int[][]{{1}, {1, 1}}));
    assertThrows(IllegalArgumentException.class, () -> a.shrink(new int[][]{{1}, {0, 3}}));
    assertThrows(IllegalArgumentException.class, () -> Tensor.cat(0, Tensor.full(1), Tensor.full(2)));
    assertThrows(IllegalArgumentException.class, () -> Tensor.ones(4).maxPool2d(2, 2));
    var mm = assertThrows(IllegalArgumentException.class, () -> Tensor.ones(2, 3, 4).matmul(Tensor.ones(3, 4, 5)));
    assertTrue(mm.getMessage().startsWith("matmul") && mm.getMessage().contains("[2, 3, 4]"), mm.getMessage());
    var st = assertThrows(IllegalArgumentException.class, () -> Tensor.stack(3, Tensor.ones(2), Tensor.ones(2)));
    assertTrue(st.getMessage().startsWith("stack"), st.getMessage());
  }

  @Test void nestedReductions() {
    var t = Tensor.of(new int[]{1, -2, 3, -4, 5, -6, 7, 8}).reshape(2, 2, 2);
    assertArrayEquals(new int[]{10, 14}, t.sum(1).abs().sum(1).toIntArray());
    var x = Tensor.of(new float[]{3, 1, 2, 9, 4, 4, 0, 5, 7, 1, 1, 2}).reshape(2, 2, 3);
    assertArrayEquals(new int[]{0, 4}, x.argmax(2).sum(1).toIntArray());
    assertArrayEquals(new float[]{29, 21}, x.max(2).sum(1).add(x.sum(2).max(1)).toFloatArray());
  }

  @Test void boolArithmeticSaturates() {
    var a = Tensor.of(new int[]{0, 1, 1, 0}).cast(DType.BOOL); var b = Tensor.of(new int[]{0, 1, 0, 1}).cast(DType.BOOL);
    assertArrayEquals(new int[]{0, 1, 1, 1}, a.add(b).toIntArray());
    assertArrayEquals(new int[]{1, 1, 1, 1}, a.reshape(4, 1).add(b).max(0).toIntArray());
  }

  @Test void floatToIntCastsSaturateLikeJava() {
    var f = Tensor.of(new float[]{1e20f, Float.POSITIVE_INFINITY, Float.NaN, -3e9f, -2.5f});
    assertArrayEquals(new int[]{(int) (long) 1e20f, -1, 0, (int) (long) -3e9f, -2}, f.cast(DType.INT32).toIntArray());
    assertArrayEquals(new double[]{Long.MAX_VALUE, Long.MAX_VALUE, 0, -3e9, -2}, f.cast(DType.INT64).toDoubleArray());
  }

  @Test void maximumOfSignedZerosIsPositive() {
    assertEquals(Double.POSITIVE_INFINITY, f(0f).maximum(f(-0f)).reciprocal().item());
    assertEquals(Double.POSITIVE_INFINITY, f(-0f).maximum(f(0f)).reciprocal().item());
  }

  @Test void productsAreNotFusedBehindTheGraphsBack() {
    var p = f(1.0000001f); var q = f(-1.0000002f);
    assertEquals(1.0000001f * 1.0000001f + -1.0000002f, (float) p.mul(p).add(q).item()); // two roundings, as written
  }

  @Test void intToFloatRoundsOnce() {
    long v = (1L << 60) + (1L << 36) + 1;
    var t = Tensor.of(new int[]{1 << 30}).cast(DType.INT64).mul(1 << 30).add(Tensor.of(new int[]{1 << 30}).cast(DType.INT64).mul(1 << 6)).add(1);
    assertEquals((double) (float) v, t.cast(DType.FLOAT32).item());
  }

  @Test void hugeFusedGraphsStillCompile() {
    var x = f(1f, 2f);
    float a = 1f, b = 2f;
    for (int i = 0; i < 3000; i++) { x = x.mul(1.0001).add(0.5); a = a * (float) 1.0001 + 0.5f; b = b * (float) 1.0001 + 0.5f; }
    assertArrayEquals(new float[]{a, b}, x.toFloatArray(), 1e-3f);
  }

  private static void refused(String op, org.junit.jupiter.api.function.Executable call, String... mentions) {
    var e = assertThrows(IllegalArgumentException.class, call);
    assertTrue(e.getMessage().startsWith(op + ":"), "the error names " + op + ": " + e.getMessage());
    for (var m : mentions) assertTrue(e.getMessage().contains(m), "the error mentions " + m + ": " + e.getMessage());
  }

  @Test void shapesAreCheckedAtTheDoor() {
    refused("expand", () -> Tensor.ones(1, 3).expand(-5, 3), "[-5, 3]");
    refused("rand", () -> Tensor.rand(65536, 65536), "4294967296");
    refused("realize", () -> Tensor.zeros(1 << 20, 1 << 20).add(1).realize(), "1099511627776"); // a view may be that large, a buffer not
    refused("ones", () -> Tensor.ones(1 << 16, 1 << 16, 1 << 16, 1 << 16), "18446744073709551616");
    refused("realize", () -> Tensor.ones(1, 1).expand(1 << 20, 1 << 20).contiguous().realize(), "1099511627776");
    refused("pad", () -> Tensor.ones(2, 2).pad(new int[][]{{0, Integer.MAX_VALUE}, {0, 0}}));
    refused("arange", () -> Tensor.arange(0, 1e10, 1), "10000000000");
    refused("arange", () -> Tensor.arange(0, Double.POSITIVE_INFINITY, 1), "finite");
    refused("argmax", () -> Tensor.zeros(0, 3).argmax(0), "empty");
    assertEquals(0, Tensor.zeros(1 << 20, 1 << 20, 0).numel(), "an empty tensor of huge dims is fine");
    assertArrayEquals(new int[0], Tensor.zeros(0, 3).argmax(1).toIntArray(), "argmax of an empty tensor along a non-empty dim");
  }

  @Test void trainingModeIsPerThread() throws Exception {
    var entered = new java.util.concurrent.CountDownLatch(1);
    var done = new java.util.concurrent.CountDownLatch(1);
    var trainer = new Thread(() -> {
      try (var mode = Tensor.train()) {
        entered.countDown();
        done.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    trainer.start();
    entered.await();
    try {
      assertFalse(Tensor.training(), "another thread's training mode is not this thread's");
      assertEquals(1000.0, Tensor.ones(1000).dropout(0.5).sum().item(), "inference here: dropout is the identity");
    } finally {
      done.countDown();
      trainer.join();
    }
  }

  @Test void boolBytesOtherThanZeroAndOneMeanTrue() {
    var t = Tensor.fromBytes(java.lang.foreign.MemorySegment.ofArray(new byte[]{0, 2, (byte) 255, 1}), DType.BOOL, 4);
    assertArrayEquals(new int[]{1, 0, 0, 0}, t.not().cast(DType.INT32).toIntArray());
    assertArrayEquals(new int[]{0, 1, 1, 1}, t.cast(DType.INT32).toIntArray());
    assertEquals(3, t.cast(DType.INT32).sum().item());
  }
}
