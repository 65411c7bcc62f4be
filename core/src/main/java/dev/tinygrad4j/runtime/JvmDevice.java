package dev.tinygrad4j.runtime;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.codegen.ProgramSpec;
import dev.tinygrad4j.codegen.Target;
import dev.tinygrad4j.renderer.JvmBytecode;
import dev.tinygrad4j.uop.Ops;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.List;

/** JVM: kernels as bytecode in hidden classes (java.lang.classfile), over Java arrays, compiled by HotSpot. */
public final class JvmDevice implements Device {
  private final Target target = new Target("JVM", java.util.EnumSet.allOf(Ops.class), JvmBytecode.vectorWidth() > 1 ? List.of(JvmBytecode.vectorWidth()) : List.of(),
      java.util.Set.of(Ops.MAX), 0, Threads.count(), Target.Memory.JAVA_ARRAYS, new JvmBytecode());

  @Override public String name() { return "JVM"; }
  @Override public String describe() { return "bytecode over Java arrays, " + Threads.count() + " threads, " + JvmBytecode.vectorWidth() + "-lane vectors"; }
  @Override public Target target() { return target; }

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

  @Override public Program compile(ProgramSpec spec) {
    return load(spec.name(), (ProgramSpec.Source.ClassFile) spec.source(), spec.threads() >= 0 ? m -> spec.threads()
        : m -> spec.threads((int[]) m[m.length - 1]));
  }

  /**
   * A rendered kernel class defined (as a hidden class, unloaded once its program is unreachable) and ready to run
   * over whatever its code addresses: Java arrays here, memory segments in the CPU device's first tier; threadsOf gives
   * a launch's THREAD range size from its buffers (0: none).
   */
  static Program load(String name, ProgramSpec.Source.ClassFile source, java.util.function.ToIntFunction<Object[]> threadsOf) {
    MethodHandle run;
    try {
      var lookup = MethodHandles.lookup().defineHiddenClass(source.bytes(), true);
      run = lookup.findStatic(lookup.lookupClass(), "run", MethodType.methodType(void.class, Object[].class, int.class, int.class));
    } catch (ReflectiveOperationException | LinkageError e) {
      throw new IllegalStateException("JVM: generated class for kernel " + name + " does not load: " + e, e);
    }
    return mems -> {
      int threads = threadsOf.applyAsInt(mems); // the THREAD range's size (a symbolic one at this launch's values)
      if (threads == 0) call(run, mems, 0, 0);
      else Threads.split(threads, (start, end) -> call(run, mems, start, end));
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
