package dev.tinygrad4j.codegen;

import dev.tinygrad4j.uop.Ops;

import java.util.List;
import java.util.Set;

/**
 * What a device can do, as codegen sees it: the ops it renders (the others are decomposed), the float32 vector
 * widths its renderer prints (widest first; empty: scalar code), the ops its vectors take beyond ADD, MUL, MULACC,
 * NEG and float32 loads and stores (MAX; CAST: float32 from a load of 8 to 32-bit integers; WHERE: float32
 * comparisons, their masks' AND, OR, XOR, WHERE and CAST to float32), the most work-items
 * a work-group holds (0: not a GPU, so CPU opts), the threads a kernel may be split across, the kind of memory its
 * buffers are, and the renderer that prints its programs.
 */
public record Target(String device, Set<Ops> ops, List<Integer> lanes, Set<Ops> vectorOps, int localSize, int threads, Memory memory, Renderer renderer) {
  /** Where a device's buffers live: native memory the host can address, Java arrays, or memory of its own. */
  public enum Memory { NATIVE, JAVA_ARRAYS, DEVICE }

  public Target {
    ops = Set.copyOf(ops);
    lanes = List.copyOf(lanes);
    vectorOps = Set.copyOf(vectorOps);
  }

  /** True for GPU-like targets (work-groups of work-items): they get GPU opts. */
  public boolean gpu() { return localSize > 0; }
}
