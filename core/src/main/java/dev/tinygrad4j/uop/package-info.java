/**
 * The one node type, {@link dev.tinygrad4j.uop.UOp} (an op, a dtype, an argument and sources; hash-consed), the
 * pattern-matching rewrite engine every compiler stage is written in, the symbolic rules for index arithmetic, the
 * gradient rules, bound {@link dev.tinygrad4j.uop.Variable}s and the graph checker ({@code Spec}).
 */
package dev.tinygrad4j.uop;
