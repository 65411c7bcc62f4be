package dev.tinygrad4j.nn;

import dev.tinygrad4j.Tensor;

/**
 * A function from tensor to tensor, usually holding parameters as fields (which is how state dicts find them).
 * Every layer of this package is one; a plain lambda is one too.
 */
@FunctionalInterface
public interface Layer {
  /** Applies the layer. */
  Tensor forward(Tensor x);

  /** Applies layers one after the other. */
  static Tensor sequential(Tensor x, Iterable<? extends Layer> layers) {
    for (var l : layers) x = l.forward(x);
    return x;
  }

  /** Uniform values in [-bound, bound), as PyTorch initializes weights and biases. */
  static Tensor uniform(double bound, int... shape) {
    return Tensor.rand(shape).mul(2 * bound).sub(bound);
  }
}
