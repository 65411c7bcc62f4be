package dev.tinygrad4j.ops;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.function.BinaryOperator;
import java.util.function.LongBinaryOperator;
import java.util.function.LongUnaryOperator;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Every pair of integer edge values (MIN, MIN+1, -2, -1, 0, 1, 2, MAX-1, MAX) through every integer op and cast, in
 * int32 and int64, on the device under test, against Java's semantics (division and remainder by zero give 0, as
 * {@link Tensor#idiv} documents; MIN / -1 is MIN and MIN % -1 is 0, with no trap).
 */
class IntegerEdgeFuzzTest {
  private static long[] edges(DType dt) {
    long min = dt == DType.INT32 ? Integer.MIN_VALUE : Long.MIN_VALUE, max = dt == DType.INT32 ? Integer.MAX_VALUE : Long.MAX_VALUE;
    return new long[]{min, min + 1, -2, -1, 0, 1, 2, max - 1, max};
  }

  /** A tensor of dtype (int32 or int64) holding these values. */
  private static Tensor tensor(DType dt, long[] v) {
    var seg = MemorySegment.ofArray(new byte[v.length * dt.itemsize()]);
    for (int i = 0; i < v.length; i++) {
      if (dt == DType.INT32) seg.setAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i, (int) v[i]);
      else seg.setAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i, v[i]);
    }
    return Tensor.fromBytes(seg, dt, v.length);
  }

  /** The values of an integer or bool tensor, as longs (unsigned types zero-extended). */
  private static long[] values(Tensor t) {
    var b = ByteBuffer.wrap(t.toBytes()).order(ByteOrder.nativeOrder());
    var out = new long[t.numel()];
    for (int i = 0; i < out.length; i++) {
      out[i] = switch (t.dtype()) {
        case BOOL, UINT8 -> b.get() & 0xFF;
        case INT8 -> b.get();
        case INT16 -> b.getShort();
        case INT32 -> b.getInt();
        case UINT32 -> b.getInt() & 0xFFFFFFFFL;
        case INT64 -> b.getLong();
        default -> throw new IllegalArgumentException(t.dtype().lowerName());
      };
    }
    return out;
  }

  /** Wraps a value to dtype as Java's narrowing does. */
  private static long wrap(DType dt, long v) { return dt == DType.INT32 ? (int) v : v; }

  private static void binary(DType dt, String name, BinaryOperator<Tensor> op, LongBinaryOperator want) {
    var e = edges(dt);
    int n = e.length;
    var a = new long[n * n]; var b = new long[n * n];
    for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) { a[i * n + j] = e[i]; b[i * n + j] = e[j]; }
    var got = values(op.apply(tensor(dt, a), tensor(dt, b)));
    for (int k = 0; k < a.length; k++) {
      long expect = want.applyAsLong(a[k], b[k]);
      int kk = k;
      assertEquals(expect, got[k], () -> dt.lowerName() + " " + a[kk] + " " + name + " " + b[kk]);
    }
  }

  private static void unary(DType dt, String name, UnaryOperator<Tensor> op, LongUnaryOperator want) {
    var e = edges(dt);
    var got = values(op.apply(tensor(dt, e)));
    for (int k = 0; k < e.length; k++) {
      int kk = k;
      assertEquals(want.applyAsLong(e[k]), got[k], () -> name + " of " + dt.lowerName() + " " + e[kk]);
    }
  }

  @Test void int32() { fuzz(DType.INT32); }

  @Test void int64() { fuzz(DType.INT64); }

  private static void fuzz(DType dt) {
    boolean i32 = dt == DType.INT32;
    binary(dt, "+", Tensor::add, (x, y) -> wrap(dt, x + y));
    binary(dt, "-", Tensor::sub, (x, y) -> wrap(dt, x - y));
    binary(dt, "*", Tensor::mul, (x, y) -> wrap(dt, x * y));
    binary(dt, "idiv", Tensor::idiv, (x, y) -> y == 0 ? 0 : i32 ? (int) x / (int) y : x / y);
    binary(dt, "mod", Tensor::mod, (x, y) -> y == 0 ? 0 : i32 ? (int) x % (int) y : x % y);
    binary(dt, "maximum", Tensor::maximum, Math::max);
    binary(dt, "minimum", Tensor::minimum, Math::min);
    binary(dt, "and", Tensor::and, (x, y) -> x & y);
    binary(dt, "or", Tensor::or, (x, y) -> x | y);
    binary(dt, "xor", Tensor::xor, (x, y) -> x ^ y);
    binary(dt, "<", Tensor::lt, (x, y) -> x < y ? 1 : 0);
    binary(dt, "==", Tensor::eq, (x, y) -> x == y ? 1 : 0);
    int bits = i32 ? 32 : 64;
    var amounts = new long[]{-1, 0, 1, bits / 2, bits - 1, bits, bits + 1, 1000, Long.MIN_VALUE};
    for (long amount : amounts) { // outside [0, bits): left gives 0, right the sign (C leaves both undefined)
      long k = wrap(dt, amount);
      boolean inside = k >= 0 && k < bits;
      unary(dt, "shl " + k, t -> t.shl(tensor(dt, new long[]{k})), x -> inside ? wrap(dt, x << k) : 0);
      unary(dt, "shr " + k, t -> t.shr(tensor(dt, new long[]{k})), x -> inside ? x >> k : x < 0 ? -1 : 0);
    }
    var u = Tensor.of(new int[]{-1, 8}).cast(DType.UINT32); // 0xFFFFFFFF, 8: logical shifts, none sign-filled
    assertArrayEquals(new long[]{0x7FFFFFFFL, 4}, values(u.shr(Tensor.of(new int[]{1}).cast(DType.UINT32))));
    assertArrayEquals(new long[]{0, 0}, values(u.shr(Tensor.of(new int[]{40}).cast(DType.UINT32))));
    assertArrayEquals(new long[]{0xFFFFFFFEL, 16}, values(u.shl(Tensor.of(new int[]{1}).cast(DType.UINT32))));
    unary(dt, "neg", Tensor::neg, x -> wrap(dt, -x));
    unary(dt, "abs", Tensor::abs, x -> wrap(dt, Math.abs(x)));
    unary(dt, "cast int8", t -> t.cast(DType.INT8), x -> (byte) x);
    unary(dt, "cast int16", t -> t.cast(DType.INT16), x -> (short) x);
    unary(dt, "cast int32", t -> t.cast(DType.INT32), x -> (int) x);
    unary(dt, "cast int64", t -> t.cast(DType.INT64), x -> x);
    unary(dt, "cast uint8", t -> t.cast(DType.UINT8), x -> x & 0xFF);
    unary(dt, "cast uint32", t -> t.cast(DType.UINT32), x -> x & 0xFFFFFFFFL);
    unary(dt, "cast bool", t -> t.cast(DType.BOOL), x -> x != 0 ? 1 : 0);
    var e = edges(dt);
    var f = tensor(dt, e).cast(DType.FLOAT32).toFloatArray();
    var d = tensor(dt, e).cast(DType.FLOAT64).toDoubleArray();
    for (int k = 0; k < e.length; k++) {
      assertEquals((float) e[k], f[k], "float32 of " + e[k]);
      assertEquals((double) e[k], d[k], "float64 of " + e[k]);
    }
  }
}
