package dev.tinygrad4j.nn;

import dev.tinygrad4j.Tensor;
import java.util.List;

/** Layers applied in order; its state dict keys number them ({@code layers.0.weight}, {@code layers.2.bias}). */
public record Sequential(List<Layer> layers) implements Layer {
  /** Layers applied in order. */
  public Sequential(Layer... layers) { this(List.of(layers)); }

  public Sequential { layers = List.copyOf(layers); }

  @Override public Tensor forward(Tensor x) { return Layer.sequential(x, layers); }
}
