package dev.tinygrad4j.renderer;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.uop.UOp.AxisType;

/**
 * OpenCL C: the C renderer with OpenCL's types (long, uchar, ...; bool buffers as uchar), overloaded math, as_type
 * bit casts, kernels qualified __kernel over __global buffers, launch dimensions as get_group_id/get_local_id,
 * __local arrays and barriers, and float4 vectors (vload4/vstore4) for register tiles.
 */
public final class OpenCL extends CStyle {
  /** OpenCL's own vector types; macros, so loads and stores work in any address space (global buffers, private tiles). */
  @Override protected String vectorPrelude(java.util.List<Integer> widths) {
    return """
        typedef float4 f4;
        #define ld4(p) vload4(0, p)
        #define st4(p, v) vstore4(v, 0, p)
        #define bc4(s) ((float4)(s))
        #define fma4(a, b, c) fma(a, b, c)
        typedef int4 m4;
        #define sel4(m, a, b) select(b, a, m)
        """;
  }

  @Override protected String vectorConvert(String t, int w, String p) { return "convert_float" + w + "(vload" + w + "(0, " + p + "))"; }

  @Override protected String type(DType dt) {
    return switch (dt) {
      case BOOL, UINT8 -> "uchar";
      case INT8 -> "char";
      case INT16 -> "short";
      case UINT16, FLOAT16, BFLOAT16 -> "ushort";
      case UINT32 -> "uint";
      case INT64 -> "long";
      case UINT64 -> "ulong";
      default -> super.type(dt);
    };
  }

  /** Values keep C's bool (any non-zero becomes 1); only buffers hold them as uchar. */
  @Override protected String valueType(DType dt) { return dt == DType.BOOL ? "bool" : super.valueType(dt); }

  @Override protected String prelude(java.util.List<Integer> widths) {
    return """
        #pragma OPENCL EXTENSION cl_khr_fp64 : enable
        float h2f(ushort h) {
          uint sign = (uint)(h & 0x8000) << 16, e = (h >> 10) & 0x1F, m = h & 0x3FF, x;
          if (e == 0x1F) x = sign | 0x7F800000u | (m << 13);
          else if (e) x = sign | ((e + 112) << 23) | (m << 13);
          else if (m) { uint k = 113; while (!(m & 0x400)) { m <<= 1; k--; } x = sign | (k << 23) | ((m & 0x3FF) << 13); }
          else x = sign;
          return as_float(x); }
        ushort f2h(float f) {
          uint x = as_uint(f);
          uint sign = (x >> 16) & 0x8000, m = x & 0x7FFFFF, h, rest, hf;
          int e = (int)((x >> 23) & 0xFF) - 112;
          if (e == 143) return (ushort)(sign | 0x7C00 | (m ? 0x200 | (m >> 13) : 0));
          if (e >= 31) return (ushort)(sign | 0x7C00);
          if (e <= 0) {
            if (e < -10) return (ushort)sign;
            int shift = 14 - e; m |= 0x800000;
            h = m >> shift; rest = m & ((1u << shift) - 1); hf = 1u << (shift - 1);
          } else { h = ((uint)e << 10) | (m >> 13); rest = m & 0x1FFF; hf = 0x1000; }
          if (rest > hf || (rest == hf && (h & 1))) h++;
          return (ushort)(sign | h); }
        long f2ll(double x) {
          return x != x ? 0 : x >= 9223372036854775807.0 ? 0x7FFFFFFFFFFFFFFFL : x <= -9223372036854775808.0 ? (-0x7FFFFFFFFFFFFFFFL - 1) : (long)x; }
        ulong f2ull(double x) {
          return x >= 9223372036854775808.0 ? (ulong)f2ll(x - 9223372036854775808.0) + 0x8000000000000000UL : (ulong)f2ll(x); }
        float maxf(float a, float b) { return a != a ? a : b != b ? b : a > b ? a : b > a ? b : signbit(a) ? b : a; }
        double maxd(double a, double b) { return a != a ? a : b != b ? b : a > b ? a : b > a ? b : signbit(a) ? b : a; }
        float b2f(ushort b) { return as_float((uint)b << 16); }
        ushort f2b(float f) { uint u = as_uint(f);
          return f != f ? (ushort)((u >> 16) | 0x40) : (ushort)((u + 0x7FFF + ((u >> 16) & 1)) >> 16); }
        """ + vectorPrelude(widths);
  }

  @Override protected String kernelHead(String name, String params) { return "__kernel void " + name + "(" + params + ")"; }
  @Override protected String bufferParam(DType dt, int i) { return "__global " + type(dt) + "* restrict data" + i; }
  @Override protected String launchIndex(AxisType type, int dim) { return (type == AxisType.GLOBAL ? "get_group_id(" : "get_local_id(") + dim + ")"; }
  @Override protected String localBuffer(String type, String name, int size) { return "__local " + type + " " + name + "[" + size + "];"; }
  @Override protected String barrier() { return "barrier(CLK_LOCAL_MEM_FENCE);"; }
  @Override protected String mathSuffix(DType dt) { return ""; }
  @Override protected String longSuffix() { return "L"; }
  @Override protected String transcendental(dev.tinygrad4j.uop.Ops op, DType dt, String x) { return op.name().toLowerCase(java.util.Locale.ROOT) + "(" + x + ")"; }
  @Override protected String bitcast(DType from, DType to, String v) { return "as_" + valueType(to) + "(" + v + ")"; }
}
