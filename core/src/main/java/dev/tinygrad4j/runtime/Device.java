package dev.tinygrad4j.runtime;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.uop.Ops;
import dev.tinygrad4j.uop.UOp;

import java.lang.foreign.MemorySegment;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/** A device: memory (alloc, free, copies to and from the host) and a way to turn a linearized kernel into a program. */
public interface Device {
  /** The device's name, e.g. "INTERP". */
  String name();
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
  /** How many threads a kernel may be split across (THREAD opt). */
  default int threads() { return 1; }
  /** The most work-items a work-group may hold on a GPU-like device; 0 for others (they get CPU opts). */
  default int localSize() { return 0; }
  /** The ops this device renders; codegen decomposes the others into these. */
  default Set<Ops> ops() { return EnumSet.allOf(Ops.class); }
  /** Turns a linearized kernel into something that runs. */
  Program compile(String name, List<UOp> linear);

  /** A compiled kernel. */
  interface Program {
    /** Runs the kernel over these buffers' memory (output first). */
    void run(Object[] mems);
  }
}
