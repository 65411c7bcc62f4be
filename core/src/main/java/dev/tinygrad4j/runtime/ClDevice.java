package dev.tinygrad4j.runtime;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.codegen.ProgramSpec;
import dev.tinygrad4j.codegen.Target;
import dev.tinygrad4j.renderer.OpenCL;
import dev.tinygrad4j.uop.Ops;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * CL: OpenCL through java.lang.foreign on libOpenCL.so.1 (the first platform's first device): buffers are cl_mem,
 * kernels are OpenCL C built at run time and launched with the work-groups their GLOBAL and LOCAL ranges give.
 */
public final class ClDevice implements Device {
  private static final Linker LINKER = Linker.nativeLinker();
  private static final SymbolLookup LIB = lookup();

  private static SymbolLookup lookup() {
    try {
      return SymbolLookup.libraryLookup("libOpenCL.so.1", Arena.global());
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static MethodHandle fn(String name, MemoryLayout ret, MemoryLayout... args) {
    if (LIB == null) throw new IllegalStateException("CL: libOpenCL.so.1 not found (apt-get install ocl-icd-libopencl1 and a driver, e.g. pocl-opencl-icd)");
    var sym = LIB.find(name).orElseThrow(() -> new IllegalStateException("CL: libOpenCL.so.1 has no " + name));
    return LINKER.downcallHandle(sym, ret == null ? FunctionDescriptor.ofVoid(args) : FunctionDescriptor.of(ret, args));
  }

  // the entry points used, as declared in CL/cl.h (size_t and cl_ulong are 64-bit, handles are pointers)
  private final MethodHandle getPlatformIDs = fn("clGetPlatformIDs", JAVA_INT, JAVA_INT, ADDRESS, ADDRESS);
  private final MethodHandle getDeviceIDs = fn("clGetDeviceIDs", JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS);
  private final MethodHandle getDeviceInfo = fn("clGetDeviceInfo", JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS);
  private final MethodHandle createContext = fn("clCreateContext", ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS);
  private final MethodHandle createQueue = fn("clCreateCommandQueue", ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS);
  private final MethodHandle createBuffer = fn("clCreateBuffer", ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS);
  private final MethodHandle releaseMem = fn("clReleaseMemObject", JAVA_INT, ADDRESS);
  private final MethodHandle write = fn("clEnqueueWriteBuffer", JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_INT, ADDRESS, ADDRESS);
  private final MethodHandle read = fn("clEnqueueReadBuffer", JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_INT, ADDRESS, ADDRESS);
  private final MethodHandle createProgram = fn("clCreateProgramWithSource", ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
  private final MethodHandle buildProgram = fn("clBuildProgram", JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS);
  private final MethodHandle buildInfo = fn("clGetProgramBuildInfo", JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS);
  private final MethodHandle createKernel = fn("clCreateKernel", ADDRESS, ADDRESS, ADDRESS, ADDRESS);
  private final MethodHandle setArg = fn("clSetKernelArg", JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS);
  private final MethodHandle enqueue = fn("clEnqueueNDRangeKernel", JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS);
  private final MethodHandle finish = fn("clFinish", JAVA_INT, ADDRESS);

  private final MemorySegment device, context, queue;
  private final String deviceName;
  private final long memory, maxGroup;
  private final Target target;
  private record Mem(MemorySegment handle, long bytes) {}

  /** Opens the first device of the first OpenCL platform. */
  public ClDevice() {
    var o = Foreign.call("CL", a -> {
      var platform = a.allocate(ADDRESS);
      var n = a.allocate(JAVA_INT);
      check("clGetPlatformIDs", (int) getPlatformIDs.invokeExact(1, platform, n));
      if (n.get(JAVA_INT, 0) == 0) throw new IllegalStateException("CL: no OpenCL platform (install a driver, e.g. pocl-opencl-icd)");
      var dev = a.allocate(ADDRESS);
      check("clGetDeviceIDs", (int) getDeviceIDs.invokeExact(platform.get(ADDRESS, 0), 0xFFFFFFFFL, 1, dev, n));
      var d = dev.get(ADDRESS, 0);
      var err = a.allocate(JAVA_INT);
      var ctx = (MemorySegment) createContext.invokeExact(MemorySegment.NULL, 1, dev, MemorySegment.NULL, MemorySegment.NULL, err);
      check("clCreateContext", err.get(JAVA_INT, 0));
      var q = (MemorySegment) createQueue.invokeExact(ctx, d, 0L, err);
      check("clCreateCommandQueue", err.get(JAVA_INT, 0));
      var name = a.allocate(256);
      check("clGetDeviceInfo", (int) getDeviceInfo.invokeExact(d, 0x102B, 256L, name, MemorySegment.NULL)); // CL_DEVICE_NAME
      var mem = a.allocate(JAVA_LONG);
      check("clGetDeviceInfo", (int) getDeviceInfo.invokeExact(d, 0x101F, 8L, mem, MemorySegment.NULL)); // CL_DEVICE_GLOBAL_MEM_SIZE
      var group = a.allocate(JAVA_LONG);
      check("clGetDeviceInfo", (int) getDeviceInfo.invokeExact(d, 0x1004, 8L, group, MemorySegment.NULL)); // CL_DEVICE_MAX_WORK_GROUP_SIZE
      return new Opened(d, ctx, q, name.getString(0), mem.get(JAVA_LONG, 0), group.get(JAVA_LONG, 0));
    });
    device = o.device(); context = o.context(); queue = o.queue(); deviceName = o.name(); memory = o.memory(); maxGroup = o.maxGroup();
    // a work-item's register tile runs as float4 vectors (the GPU opts tile 4x4)
    target = new Target("CL", java.util.EnumSet.allOf(Ops.class), List.of(4), java.util.Set.of(Ops.CAST, Ops.WHERE), (int) Math.min(1024, maxGroup), 1, Target.Memory.DEVICE, new OpenCL());
  }

  private record Opened(MemorySegment device, MemorySegment context, MemorySegment queue, String name, long memory, long maxGroup) {}

  private static void check(String call, int err) {
    if (err != 0) throw new IllegalStateException("CL: " + call + " failed with error " + err);
  }

  @Override public String name() { return "CL"; }
  @Override public Target target() { return target; }
  /** The OpenCL device's name and global memory, for `tinygrad4j info`. */
  @Override public String describe() { return deviceName + ", " + (memory >> 20) + " MiB"; }

  @Override public Object alloc(DType dtype, long size) {
    long bytes = Math.max(4, size * dtype.itemsize());
    return Foreign.call("CL", a -> {
      var err = a.allocate(JAVA_INT);
      var h = (MemorySegment) createBuffer.invokeExact(context, 1L, bytes, MemorySegment.NULL, err); // CL_MEM_READ_WRITE
      check("clCreateBuffer(" + bytes + " bytes)", err.get(JAVA_INT, 0));
      var m = new Mem(h, bytes);
      if (size > 0) try (var zero = Arena.ofConfined()) { copyIn(m, zero.allocate(size * dtype.itemsize())); } // zeroed like the others
      return m;
    });
  }

  @Override public void free(Object mem) {
    Foreign.call("CL", a -> (int) releaseMem.invokeExact(((Mem) mem).handle()));
  }

  @Override public void copyIn(Object mem, MemorySegment src) {
    if (src.byteSize() == 0) return;
    Foreign.call("CL", a -> {
      var host = src.isNative() ? src : a.allocate(src.byteSize()).copyFrom(src);
      check("clEnqueueWriteBuffer", (int) write.invokeExact(queue, ((Mem) mem).handle(), 1, 0L, src.byteSize(), host, 0, MemorySegment.NULL, MemorySegment.NULL));
      return null;
    });
  }

  @Override public void copyOut(MemorySegment dst, Object mem) {
    if (dst.byteSize() == 0) return;
    Foreign.call("CL", a -> {
      var host = dst.isNative() ? dst : a.allocate(dst.byteSize());
      check("clEnqueueReadBuffer", (int) read.invokeExact(queue, ((Mem) mem).handle(), 1, 0L, dst.byteSize(), host, 0, MemorySegment.NULL, MemorySegment.NULL));
      if (host != dst) dst.copyFrom(host);
      return null;
    });
  }

  @Override public Program compile(ProgramSpec spec) {
    var src = ((ProgramSpec.Source.Text) spec.source()).code();
    var name = spec.name();
    int nbufs = spec.params().size();
    var launch = spec.launch();
    var kernel = Foreign.call("CL", a -> {
      var err = a.allocate(JAVA_INT);
      var text = a.allocateFrom(src);
      var strings = a.allocate(ADDRESS);
      strings.set(ADDRESS, 0, text);
      var program = (MemorySegment) createProgram.invokeExact(context, 1, strings, MemorySegment.NULL, err);
      check("clCreateProgramWithSource", err.get(JAVA_INT, 0));
      var dev = a.allocate(ADDRESS);
      dev.set(ADDRESS, 0, device);
      int built = (int) buildProgram.invokeExact(program, 1, dev, a.allocateFrom("-cl-fp32-correctly-rounded-divide-sqrt"), MemorySegment.NULL, MemorySegment.NULL);
      if (built != 0) {
        var size = a.allocate(JAVA_LONG);
        int q = (int) buildInfo.invokeExact(program, device, 0x1183, 0L, MemorySegment.NULL, size); // CL_PROGRAM_BUILD_LOG
        var log = a.allocate(Math.max(1, size.get(JAVA_LONG, 0)));
        q = (int) buildInfo.invokeExact(program, device, 0x1183, log.byteSize(), log, MemorySegment.NULL);
        throw new IllegalStateException("CL: build of kernel " + name + " failed (" + built + "):\n" + log.getString(0) + "\n" + src);
      }
      var k = (MemorySegment) createKernel.invokeExact(program, a.allocateFrom(name), err);
      check("clCreateKernel(" + name + ")", err.get(JAVA_INT, 0));
      return k;
    });
    return mems -> Foreign.call("CL", a -> {
        var arg = a.allocate(ADDRESS);
        for (int i = 0; i < nbufs; i++) {
          arg.set(ADDRESS, 0, ((Mem) mems[i]).handle());
          check("clSetKernelArg", (int) setArg.invokeExact(kernel, i, 8L, arg));
        }
        var global = a.allocate(JAVA_LONG, 3);
        var local = a.allocate(JAVA_LONG, 3);
        for (int d = 0; d < 3; d++) {
          global.setAtIndex(JAVA_LONG, d, launch.groups()[d] * launch.locals()[d]);
          local.setAtIndex(JAVA_LONG, d, launch.locals()[d]);
        }
        check("clEnqueueNDRangeKernel", (int) enqueue.invokeExact(queue, kernel, 3, MemorySegment.NULL, global, local, 0, MemorySegment.NULL, MemorySegment.NULL));
        check("clFinish", (int) finish.invokeExact(queue));
        return null;
      });
  }
}
