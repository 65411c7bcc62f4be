package dev.tinygrad4j.runtime;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.codegen.ProgramSpec;
import dev.tinygrad4j.codegen.Target;

import java.lang.foreign.MemorySegment;

/**
 * A device: memory (alloc, free, copies to and from the host), what its code generator may use ({@link Target}),
 * and a way to turn a rendered {@link ProgramSpec} into something that launches.
 */
public interface Device {
  /** The device's name, e.g. "INTERP". */
  String name();
  /** What codegen may use on this device, and its renderer. */
  Target target();
  /** Allocates device memory for size elements of dtype; the returned handle is passed back to the other methods. */
  Object alloc(DType dtype, long size);
  /** Releases memory from {@link #alloc}. */
  default void free(Object mem) {}
  /** Copies host bytes into device memory. */
  void copyIn(Object mem, MemorySegment src);
  /** Copies device memory out to host bytes. */
  void copyOut(MemorySegment dst, Object mem);
  /** What the device is (its hardware's name and memory where it has them), for `tinygrad4j info`. */
  default String describe() { return name(); }
  /** Compiles a program's source for this device. */
  Program compile(ProgramSpec spec);
  /** Compiles several programs (the new kernels of a schedule); a device may compile them together. */
  default java.util.List<Program> compileAll(java.util.List<ProgramSpec> specs) { return specs.stream().map(this::compile).toList(); }

  /** A compiled kernel. */
  interface Program {
    /** Launches the kernel over these buffers' memory, one per parameter in buffer-number order. */
    void run(Object[] mems);
  }
}
