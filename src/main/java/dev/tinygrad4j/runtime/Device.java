package dev.tinygrad4j.runtime;

import dev.tinygrad4j.uop.UOp;

import java.lang.foreign.MemorySegment;
import java.util.List;

/** A device: memory (alloc, free, copies to and from the host) and a way to turn a linearized kernel into a program. */
public interface Device {
  /** The device's name, e.g. "INTERP". */
  String name();
  /** Allocates device memory of this many bytes; the returned handle is passed back to the other methods. */
  Object alloc(long bytes);
  /** Releases memory from {@link #alloc}. */
  default void free(Object mem) {}
  /** Copies host bytes into device memory. */
  void copyIn(Object mem, MemorySegment src);
  /** Copies device memory out to host bytes. */
  void copyOut(MemorySegment dst, Object mem);
  /** Turns a linearized kernel into something that runs. */
  Program compile(String name, List<UOp> linear);

  /** A compiled kernel. */
  interface Program {
    /** Runs the kernel over these buffers' memory (output first). */
    void run(Object[] mems);
  }
}
