/**
 * Devices: memory, compile(source) and launch. CPU (C through java.lang.foreign, with a JVM bytecode tier while C
 * compiles), JVM (bytecode over heap arrays), INTERP (the reference interpreter), CL (OpenCL) and CUDA.
 */
package dev.tinygrad4j.runtime;
