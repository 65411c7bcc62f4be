/**
 * From tensor graphs to kernel launches: the scheduler (which nodes become buffers, which fuse into one kernel),
 * the lowering of a kernel's graph to index arithmetic, layout copies the scheduler decides ({@code Panels}) and the
 * {@code Runner} that caches compiled programs and launches them (and records them for the JIT).
 */
package dev.tinygrad4j.engine;
