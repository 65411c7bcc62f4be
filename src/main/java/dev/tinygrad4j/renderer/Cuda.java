package dev.tinygrad4j.renderer;

import dev.tinygrad4j.DType;

/**
 * CUDA C++: the C renderer with device helpers, {@code extern "C" __global__} kernels over {@code __restrict__}
 * buffers, bit casts through memcpy, and the THREAD range as a grid-stride loop over the launch's threads.
 */
public final class Cuda extends CStyle {
  /** No vector-extension code: CUDA threads carry the parallelism. */
  public Cuda() { super(1); }

  @Override protected String prelude() {
    return super.prelude().replace("static inline", "__device__ static inline")
        + "template <class T, class F> __device__ static inline T bitcast_(F f) { T t; memcpy(&t, &f, sizeof t); return t; }\n";
  }

  @Override protected String kernelHead(String name, String params) { return "extern \"C\" __global__ void " + name + "(" + params + ")"; }
  @Override protected String bufferParam(DType dt, int i) { return type(dt) + "* __restrict__ data" + i; }
  @Override protected String threadParams() { return ""; }
  @Override protected String threadLoop(String r, int n) {
    return "for (int " + r + " = blockIdx.x * blockDim.x + threadIdx.x; " + r + " < " + n + "; " + r + " += gridDim.x * blockDim.x) {";
  }
  @Override protected String bitcast(DType from, DType to, String v) { return "bitcast_<" + valueType(to) + ">(" + v + ")"; }
}
