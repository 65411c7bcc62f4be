package dev.tinygrad4j;

import org.junit.jupiter.api.Test;

import static dev.tinygrad4j.DType.*;
import static org.junit.jupiter.api.Assertions.*;

/** Promotion follows numpy's rules; casts follow C's (truncation, wrap-around) on every device. */
class DTypeTest {
  @Test void promotion() {
    assertEquals(INT16, DType.promote(INT8, UINT8));
    assertEquals(INT8, DType.promote(BOOL, INT8));
    assertEquals(INT64, DType.promote(INT32, UINT32));
    assertEquals(FLOAT16, DType.promote(INT32, FLOAT16));
    assertEquals(FLOAT32, DType.promote(FLOAT16, BFLOAT16));
    assertEquals(FLOAT64, DType.promote(FLOAT32, FLOAT64));
    assertEquals(UINT16, DType.promote(UINT8, UINT16));
    assertEquals(FLOAT32, DType.promote(FLOAT32, INT64));
    for (var a : DType.values()) for (var b : DType.values()) assertEquals(DType.promote(a, b), DType.promote(b, a));
  }

  @Test void mixedTensorOpsPromote() {
    var i = Tensor.of(new int[]{1, 2, 3});
    var f = Tensor.of(new float[]{0.5f, 0.5f, 0.5f});
    assertEquals(FLOAT32, i.add(f).dtype());
    assertArrayEquals(new float[]{1.5f, 2.5f, 3.5f}, i.add(f).toFloatArray());
    assertEquals(INT32, i.mul(2).dtype());
    assertEquals(FLOAT32, i.mul(2.5).dtype());
    assertEquals(FLOAT32, i.div(2).dtype());
    assertArrayEquals(new float[]{0.5f, 1, 1.5f}, i.div(2).toFloatArray());
    assertEquals(FLOAT64, Tensor.of(new double[]{1}).add(f.shrink(new int[][]{{0, 1}})).dtype());
    assertEquals(BOOL, i.lt(2).dtype());
  }

  @Test void castsTruncateAndWrap() {
    var f = Tensor.of(new float[]{-2.7f, -0.5f, 0.5f, 2.7f, 300.9f});
    assertArrayEquals(new int[]{-2, 0, 0, 2, 300}, f.toIntArray());
    assertArrayEquals(new int[]{254, 0, 0, 2, 44}, f.cast(UINT8).toIntArray());
    assertArrayEquals(new int[]{-2, 0, 0, 2, 44}, f.cast(INT8).toIntArray());
    assertArrayEquals(new int[]{1, 1, 1, 1, 1}, f.cast(BOOL).toIntArray());
    assertArrayEquals(new float[]{-2.703125f, -0.5f, 0.5f, 2.703125f, 300f}, f.cast(BFLOAT16).toFloatArray());
    assertArrayEquals(new float[]{-2.69921875f, -0.5f, 0.5f, 2.69921875f, 301f}, f.cast(FLOAT16).toFloatArray());
  }

  @Test void halfConversionsRoundToNearestEven() {
    var rnd = new java.util.Random(5);
    var v = new float[4000];
    for (int i = 0; i < v.length; i++) {
      int kind = i % 4;
      v[i] = kind == 0 ? (float) rnd.nextGaussian() * 10 : kind == 1 ? Float.intBitsToFloat(rnd.nextInt())
          : kind == 2 ? (float) (rnd.nextDouble() * 1e-4) : Float.float16ToFloat((short) rnd.nextInt()) + (rnd.nextBoolean() ? 0 : Math.ulp(1f) * 0);
    }
    v[0] = 65520f; v[1] = -65504f; v[2] = 5.9604645e-8f; v[3] = 2.9802322e-8f; v[4] = Float.NaN; v[5] = Float.NEGATIVE_INFINITY;
    var t = Tensor.of(v);
    var half = t.cast(FLOAT16).toFloatArray();
    var bf = t.cast(BFLOAT16).toFloatArray();
    for (int i = 0; i < v.length; i++) {
      float h = Float.float16ToFloat(Float.floatToFloat16(v[i]));
      float b = dev.tinygrad4j.uop.Alu.bf16ToFloat(dev.tinygrad4j.uop.Alu.floatToBf16(v[i]));
      int k = i;
      assertEquals(Float.floatToIntBits(h), Float.floatToIntBits(half[i]), () -> "float16 of " + v[k]);
      assertEquals(Float.floatToIntBits(b), Float.floatToIntBits(bf[i]), () -> "bfloat16 of " + v[k]);
    }
  }

  @Test void int64KeepsLargeValues() {
    var big = Tensor.of(new int[]{1 << 30}).cast(INT64).mul(8);
    assertEquals(8589934592.0, big.item());
    assertEquals(8589934592.0, big.cast(FLOAT64).item());
  }

  @Test void everyDtypeRoundTripsThroughCast() {
    var x = Tensor.of(new float[]{0, 1, 2, 3, 100});
    for (var dt : DType.values()) {
      var back = x.cast(dt).cast(FLOAT32).toFloatArray();
      if (dt == BOOL) assertArrayEquals(new float[]{0, 1, 1, 1, 1}, back, dt.toString());
      else assertArrayEquals(x.toFloatArray(), back, dt.toString());
      assertEquals(dt, x.cast(dt).dtype());
    }
  }
}
