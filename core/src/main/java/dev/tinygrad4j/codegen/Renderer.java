package dev.tinygrad4j.codegen;

import java.util.List;

/** Prints a linearized kernel, with the vector-lane plan codegen chose, as something its device compiles. */
public interface Renderer {
  /**
   * The program for kernel name over these buffer parameters (all of them, in buffer-number order); throws
   * {@link TooLarge} when the plan's code cannot be expressed (codegen then tries a plan with less code).
   */
  ProgramSpec.Source render(String name, List<ProgramSpec.Param> params, Lanes.Plan plan);

  /** The rendered code passes a hard limit of the target (a JVM method holds at most 64 KB of bytecode). */
  final class TooLarge extends RuntimeException {
    public TooLarge(String message, Throwable cause) { super(message, cause); }
  }

  /**
   * Whether rendered code is small enough to run well (HotSpot leaves methods above 8000 bytes of bytecode to its
   * interpreter); codegen then tries a plan with fewer copied loop bodies.
   */
  default boolean fits(ProgramSpec.Source source) { return true; }
}
