package dev.tinygrad4j.uop;

import dev.tinygrad4j.DType;

/**
 * The meaning of every elementwise op on one element. Floats travel as double rounded to their type after each
 * op; ints and bools travel as long wrapped to their type. Constant folding and the interpreter both use this.
 */
public final class Alu {
  private Alu() {}

  /** Rounds a double to the precision of a float type. */
  public static double roundFloat(DType dt, double v) {
    return switch (dt) {
      case FLOAT32 -> (float) v;
      case FLOAT16 -> Float.float16ToFloat(Float.floatToFloat16((float) v));
      case BFLOAT16 -> bf16ToFloat(floatToBf16((float) v));
      default -> v;
    };
  }

  /** Wraps a long to the range of an int type (bool: 0 or 1). */
  public static long wrap(DType dt, long v) {
    return switch (dt) {
      case BOOL -> v != 0 ? 1 : 0;
      case INT8 -> (byte) v;
      case UINT8 -> v & 0xFF;
      case INT16 -> (short) v;
      case UINT16 -> v & 0xFFFF;
      case INT32 -> (int) v;
      case UINT32 -> v & 0xFFFFFFFFL;
      default -> v;
    };
  }

  /** bfloat16 bits (round to nearest even) of a float. */
  public static short floatToBf16(float f) {
    int b = Float.floatToRawIntBits(f);
    if (Float.isNaN(f)) return (short) ((b >>> 16) | 0x40);
    return (short) ((b + 0x7FFF + ((b >>> 16) & 1)) >>> 16);
  }

  /** The float value of bfloat16 bits. */
  public static float bf16ToFloat(short s) { return Float.intBitsToFloat((s & 0xFFFF) << 16); }

  /** An int/bool value as double (unsigned 64-bit read as unsigned). */
  public static double toDouble(DType dt, long v) {
    if (dt == DType.UINT64 && v < 0) return (double) (v >>> 1) * 2.0 + (v & 1);
    return v;
  }

  /** An int/bool value converted to a float type, rounded once. */
  public static double intToFloat(DType from, DType to, long v) {
    if (to != DType.FLOAT32) return roundFloat(to, toDouble(from, v));
    if (from == DType.UINT64 && v < 0) return (float) ((v >>> 1) | (v & 1)) * 2f;
    return (float) v;
  }

  /** A float value as a long of an int type: truncation toward zero, saturating like Java (NaN gives 0). */
  public static long fromDouble(DType dt, double v) {
    if (dt == DType.BOOL) return v != 0 ? 1 : 0;
    if (dt == DType.UINT64 && v >= 9.223372036854775807E18) return (long) (v - 9.223372036854775807E18) + Long.MIN_VALUE;
    return wrap(dt, (long) v);
  }

  /** Float ops on doubles; the result is rounded to {@code dt}. Comparisons are handled by {@link #compare}. */
  public static double floatOp(Ops op, DType dt, double a, double b, double c) {
    double r = switch (op) {
      case EXP2 -> Math.pow(2, a);
      case LOG2 -> log2(a);
      case SIN -> Math.sin(a);
      case SQRT -> Math.sqrt(a);
      case RECIPROCAL -> 1 / a;
      case NEG -> -a;
      case TRUNC -> a < 0 ? Math.ceil(a) : Math.floor(a);
      case ADD -> a + b;
      case MUL -> a * b;
      case MAX -> Double.isNaN(a) || Double.isNaN(b) ? Double.NaN : Math.max(a, b);
      case MULACC -> dt == DType.FLOAT64 ? Math.fma(a, b, c) : Math.fma((float) a, (float) b, (float) c); // one rounding
      default -> throw new IllegalArgumentException(op + " is not defined on " + dt.lowerName());
    };
    return roundFloat(dt, r);
  }

  private static double log2(double a) {
    if (!(a > 0) || Double.isInfinite(a)) return a == 0 ? Double.NEGATIVE_INFINITY : Double.isInfinite(a) && a > 0 ? a : Double.NaN;
    int e = Math.getExponent(a);
    if (e < Double.MIN_EXPONENT) return Math.log(a) / Math.log(2); // subnormal
    double m = a / Math.scalb(1.0, e); // in [1, 2): powers of two come out exact
    return e + Math.log(m) / Math.log(2);
  }

  /** Int/bool ops on longs; the result is wrapped to {@code dt}. */
  public static long intOp(Ops op, DType dt, long a, long b, long c) {
    boolean u = dt.isUnsigned() && dt.bits() == 64;
    long r = switch (op) {
      case NEG -> -a;
      case ADD -> a + b;
      case MUL -> a * b;
      case IDIV -> {
        if (b == 0) throw new ArithmeticException("integer division by zero in IDIV on " + dt.lowerName());
        yield u ? Long.divideUnsigned(a, b) : a / b;
      }
      case MOD -> {
        if (b == 0) throw new ArithmeticException("integer modulo by zero in MOD on " + dt.lowerName());
        yield u ? Long.remainderUnsigned(a, b) : a % b;
      }
      case MAX -> u ? (Long.compareUnsigned(a, b) >= 0 ? a : b) : Math.max(a, b);
      case AND -> a & b;
      case OR -> a | b;
      case XOR -> a ^ b;
      case SHL -> a << b;
      case SHR -> dt.isUnsigned() ? a >>> b : a >> b;
      case MULACC -> a * b + c;
      case TRUNC -> a;
      default -> throw new IllegalArgumentException(op + " is not defined on " + dt.lowerName());
    };
    return wrap(dt, r);
  }

  /** A comparison of two values of type {@code dt} (given as double for floats, long otherwise): 1 or 0. */
  public static long compare(Ops op, DType dt, double fa, double fb, long a, long b) {
    boolean r;
    if (dt.isFloat()) r = switch (op) { case CMPLT -> fa < fb; case CMPNE -> fa != fb; default -> fa == fb; };
    else {
      int cmp = dt.isUnsigned() && dt.bits() == 64 ? Long.compareUnsigned(a, b) : Long.compare(a, b);
      r = switch (op) { case CMPLT -> cmp < 0; case CMPNE -> cmp != 0; default -> cmp == 0; };
    }
    return r ? 1 : 0;
  }

  /** Reinterprets the bits of a value of type {@code from} as type {@code to} (same size). */
  public static Object bitcast(DType from, DType to, double f, long i) {
    long bits = switch (from) {
      case FLOAT32 -> Float.floatToRawIntBits((float) f) & 0xFFFFFFFFL;
      case FLOAT64 -> Double.doubleToRawLongBits(f);
      case FLOAT16 -> Float.floatToFloat16((float) f) & 0xFFFFL;
      case BFLOAT16 -> floatToBf16((float) f) & 0xFFFFL;
      default -> i;
    };
    return switch (to) {
      case FLOAT32 -> (double) Float.intBitsToFloat((int) bits);
      case FLOAT64 -> Double.longBitsToDouble(bits);
      case FLOAT16 -> (double) Float.float16ToFloat((short) bits);
      case BFLOAT16 -> (double) bf16ToFloat((short) bits);
      default -> wrap(to, bits);
    };
  }
}
