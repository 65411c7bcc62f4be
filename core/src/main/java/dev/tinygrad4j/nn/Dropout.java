package dev.tinygrad4j.nn;

import dev.tinygrad4j.Tensor;

/** Zeroes elements with probability p in training mode ({@link Tensor#train()}); the identity otherwise. */
public record Dropout(double p) implements Layer {
  public Dropout {
    if (p < 0 || p > 1) throw new IllegalArgumentException("Dropout: p must be in [0, 1], got " + p);
  }

  @Override public Tensor forward(Tensor x) { return x.dropout(p); }
}
