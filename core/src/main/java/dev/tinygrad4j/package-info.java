/**
 * The user API: {@link dev.tinygrad4j.Tensor} (a lazy n-dimensional array with autograd; its methods come in kinds,
 * see {@code TensorMath}, {@code TensorReduce}, {@code TensorMovement}, {@code TensorIndexing}, {@code TensorNn}),
 * {@link dev.tinygrad4j.DType}, {@link dev.tinygrad4j.Jit} (capture and replay), {@link dev.tinygrad4j.Threefry}
 * (the random generator's block function) and {@link dev.tinygrad4j.Flags} (DEBUG, DEV, ... from the environment).
 */
package dev.tinygrad4j;
