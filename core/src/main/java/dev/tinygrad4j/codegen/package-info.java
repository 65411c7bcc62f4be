/**
 * The compile pipeline, one pure function from a kernel's graph to a {@code ProgramSpec}: simplification, the
 * optimizer's choices (upcasts, unrolls, thread ranges, vector lanes), linearization and rendering for a device's
 * {@code Target}.
 */
package dev.tinygrad4j.codegen;
