package dev.tinygrad4j.renderer;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.uop.UOp.AxisType;

/**
 * CUDA C++: the C renderer with device helpers, {@code extern "C" __global__} kernels over {@code __restrict__}
 * buffers, bit casts through memcpy, launch dimensions as blockIdx/threadIdx, __shared__ arrays and __syncthreads.
 */
public final class Cuda extends CStyle {
  /** The C helpers as device functions, without #include lines: NVRTC has no system headers (math is built in). */
  @Override protected String prelude(java.util.List<Integer> widths) {
    return super.prelude(widths).replaceAll("#include <[a-z.]+>\n", "").replace("static inline", "__device__ static inline")
        + "template <class T, class F> __device__ static inline T bitcast_(F f) { T t; memcpy(&t, &f, sizeof t); return t; }\n";
  }

  /** Infinities and NaN from their bits (math.h's macros are not there). */
  @Override protected String literal(dev.tinygrad4j.uop.UOp c) {
    double v = c.dtype().isFloat() ? c.asDouble() : 0;
    if (!Double.isNaN(v) && !Double.isInfinite(v)) return super.literal(c);
    return c.dtype() == DType.FLOAT64 ? "__longlong_as_double(" + (Double.isNaN(v) ? "0x7ff8000000000000LL" : v > 0 ? "0x7ff0000000000000LL" : "(long long)0xfff0000000000000ULL") + ")"
        : "__int_as_float(" + (Double.isNaN(v) ? "0x7fc00000" : v > 0 ? "0x7f800000" : "(int)0xff800000u") + ")";
  }

  @Override protected String kernelHead(String name, String params) { return "extern \"C\" __global__ void " + name + "(" + params + ")"; }
  @Override protected String bufferParam(DType dt, int i) { return type(dt) + "* __restrict__ data" + i; }
  @Override protected String launchIndex(AxisType type, int dim) { return (type == AxisType.GLOBAL ? "blockIdx." : "threadIdx.") + "xyz".charAt(dim); }
  @Override protected String localBuffer(String type, String name, int size) { return "__shared__ " + type + " " + name + "[" + size + "];"; }
  @Override protected String barrier() { return "__syncthreads();"; }
  @Override protected String transcendental(dev.tinygrad4j.uop.Ops op, DType dt, String x) { return op.name().toLowerCase(java.util.Locale.ROOT) + mathSuffix(dt) + "(" + x + ")"; }
  @Override protected String bitcast(DType from, DType to, String v) { return "bitcast_<" + valueType(to) + ">(" + v + ")"; }
}
