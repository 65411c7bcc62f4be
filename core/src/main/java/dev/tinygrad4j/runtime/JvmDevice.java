package dev.tinygrad4j.runtime;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.renderer.JvmBytecode;
import dev.tinygrad4j.uop.Ops;
import dev.tinygrad4j.uop.UOp;
import dev.tinygrad4j.uop.UOp.AxisType;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** JVM: kernels as bytecode in hidden classes (java.lang.classfile), over Java arrays, compiled by HotSpot. */
public final class JvmDevice implements Device {
  private static final AtomicInteger CLASSES = new AtomicInteger();

  @Override public String name() { return "JVM"; }
  @Override public String describe() { return "bytecode over Java arrays, " + Threads.count() + " threads, " + dev.tinygrad4j.renderer.JvmBytecode.vectorWidth() + "-lane vectors"; }
  @Override public int threads() { return Threads.count(); }

  @Override public Object alloc(DType dtype, long size) {
    int n = Math.toIntExact(size);
    return switch (JvmBytecode.arrayKind(dtype)) {
      case BYTE -> new byte[n];
      case SHORT -> new short[n];
      case INT -> new int[n];
      case LONG -> new long[n];
      case FLOAT -> new float[n];
      default -> new double[n];
    };
  }

  private static MemorySegment segment(Object array) {
    return switch (array) {
      case byte[] a -> MemorySegment.ofArray(a);
      case short[] a -> MemorySegment.ofArray(a);
      case int[] a -> MemorySegment.ofArray(a);
      case long[] a -> MemorySegment.ofArray(a);
      case float[] a -> MemorySegment.ofArray(a);
      case double[] a -> MemorySegment.ofArray(a);
      default -> throw new IllegalArgumentException("JVM: not a buffer: " + array);
    };
  }

  @Override public void copyIn(Object mem, MemorySegment src) { segment(mem).copyFrom(src); }
  @Override public void copyOut(MemorySegment dst, Object mem) { dst.copyFrom(segment(mem).asSlice(0, dst.byteSize())); }

  @Override public Program compile(String name, List<UOp> linear) {
    if (dev.tinygrad4j.Flags.debug() >= 4) System.out.println("JVM: " + JvmBytecode.vectorLoops(linear) + " vector loop(s) in " + name);
    var bytes = JvmBytecode.render("dev.tinygrad4j.runtime." + name + "_" + CLASSES.incrementAndGet(), linear);
    MethodHandle run;
    try {
      var lookup = MethodHandles.lookup().defineHiddenClass(bytes, true);
      run = lookup.findStatic(lookup.lookupClass(), "run", MethodType.methodType(void.class, Object[].class, int.class, int.class));
    } catch (ReflectiveOperationException | LinkageError e) {
      throw new IllegalStateException("JVM: generated class for kernel " + name + " does not load: " + e, e);
    }
    var thread = linear.stream().filter(u -> u.op() == Ops.RANGE && u.axisType() == AxisType.THREAD).findFirst();
    return mems -> {
      if (thread.isEmpty()) call(run, mems, 0, 0);
      else Threads.split(thread.get().rangeSize(), (start, end) -> call(run, mems, start, end));
    };
  }

  private static void call(MethodHandle run, Object[] mems, int start, int end) {
    try {
      run.invokeExact(mems, start, end);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }
}
