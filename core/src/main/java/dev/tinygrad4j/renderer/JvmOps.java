package dev.tinygrad4j.renderer;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.uop.Alu;

/** Small static helpers that generated JVM kernels call for ops with no single bytecode. Public for hidden classes. */
public final class JvmOps {
  private JvmOps() {}

  public static int cmplt(int a, int b) { return a < b ? 1 : 0; }
  public static int cmplt(long a, long b) { return a < b ? 1 : 0; }
  public static int cmplt(float a, float b) { return a < b ? 1 : 0; }
  public static int cmplt(double a, double b) { return a < b ? 1 : 0; }
  public static int cmpne(int a, int b) { return a != b ? 1 : 0; }
  public static int cmpne(long a, long b) { return a != b ? 1 : 0; }
  public static int cmpne(float a, float b) { return a != b ? 1 : 0; }
  public static int cmpne(double a, double b) { return a != b ? 1 : 0; }
  public static int cmpeq(int a, int b) { return a == b ? 1 : 0; }
  public static int cmpeq(long a, long b) { return a == b ? 1 : 0; }
  public static int cmpeq(float a, float b) { return a == b ? 1 : 0; }
  public static int cmpeq(double a, double b) { return a == b ? 1 : 0; }
  public static int ne(int a, int b) { return a != b ? 1 : 0; }
  public static int ne(long a, long b) { return a != b ? 1 : 0; }
  public static int ne(float a, float b) { return a != b ? 1 : 0; }
  public static int ne(double a, double b) { return a != b ? 1 : 0; }
  public static int ltu32(int a, int b) { return Integer.compareUnsigned(a, b) < 0 ? 1 : 0; }
  public static int ltu64(long a, long b) { return Long.compareUnsigned(a, b) < 0 ? 1 : 0; }

  public static int max(int a, int b) { return Math.max(a, b); }
  public static long max(long a, long b) { return Math.max(a, b); }
  public static float max(float a, float b) { return Math.max(a, b); }
  public static double max(double a, double b) { return Math.max(a, b); }
  public static int maxu32(int a, int b) { return Integer.compareUnsigned(a, b) >= 0 ? a : b; }
  public static long maxu64(long a, long b) { return Long.compareUnsigned(a, b) >= 0 ? a : b; }
  public static int divu32(int a, int b) { return Integer.divideUnsigned(a, b); }
  public static long divu64(long a, long b) { return Long.divideUnsigned(a, b); }
  public static int remu32(int a, int b) { return Integer.remainderUnsigned(a, b); }
  public static long remu64(long a, long b) { return Long.remainderUnsigned(a, b); }
  public static int mulacc(int a, int b, int c) { return a * b + c; }
  public static long mulacc(long a, long b, long c) { return a * b + c; }

  public static float recip(float a) { return 1f / a; }
  public static double recip(double a) { return 1.0 / a; }
  public static float trunc(float a) { return (float) Alu.floatOp(dev.tinygrad4j.uop.Ops.TRUNC, DType.FLOAT32, a, 0, 0); }
  public static double trunc(double a) { return Alu.floatOp(dev.tinygrad4j.uop.Ops.TRUNC, DType.FLOAT64, a, 0, 0); }
  public static double exp2(double a) { return Math.pow(2, a); }

  /**
   * 2^x in float32 within 1 ulp: the C renderer's exp2v, operation for operation (round(x) by the 1.5*2^23 trick,
   * a degree-6 polynomial on the fraction, 2^k applied in two halves), so the CPU device's tiers agree bit for bit.
   */
  public static float exp2f(float x) {
    float xc = x < -150.0f ? -150.0f : x;
    xc = xc > 128.0f ? 128.0f : xc;
    float t = xc + 12582912.0f, n = t - 12582912.0f, f = xc - n;
    int k = Float.floatToRawIntBits(t) - 0x4B400000, a = k >> 1, b = k - a;
    float p = 1.535336188319500e-4f;
    p = p * f + 1.339887440266574e-3f;
    p = p * f + 9.618437357674640e-3f;
    p = p * f + 5.550332471162809e-2f;
    p = p * f + 2.402264791363012e-1f;
    p = p * f + 6.931472028550421e-1f;
    p = p * f + 1.0f;
    return x != x ? x : p * Float.intBitsToFloat((a + 127) << 23) * Float.intBitsToFloat((b + 127) << 23);
  }
  public static double log2(double a) { return Alu.floatOp(dev.tinygrad4j.uop.Ops.LOG2, DType.FLOAT64, a, 0, 0); }

  public static float roundHalf(float f) { return Float.float16ToFloat(Float.floatToFloat16(f)); }
  public static float roundBf16(float f) { return Alu.bf16ToFloat(Alu.floatToBf16(f)); }
  public static short f2b(float f) { return Alu.floatToBf16(f); }
  public static float b2f(short s) { return Alu.bf16ToFloat(s); }
  public static double u64ToDouble(long v) { return Alu.toDouble(DType.UINT64, v); }
  public static long doubleToU64(double v) { return Alu.fromDouble(DType.UINT64, v); }
}
