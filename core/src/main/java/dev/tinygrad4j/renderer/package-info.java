/**
 * Renderers print a linearized kernel as device source: C (CPU), OpenCL C, CUDA C, and JVM bytecode through the
 * ClassFile API; the lane analysis they print comes from the codegen pass, not from them.
 */
package dev.tinygrad4j.renderer;
