package dev.tinygrad4j.nn;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.Tensor;
import java.util.Arrays;

/** A lookup table: integer indices (any shape) → rows of weight (num, dim), initialized N(0, 1) like PyTorch. */
public final class Embedding implements Layer {
  /** (num, dim). */
  public final Tensor weight;

  /** A table of num rows of dim values. */
  public Embedding(int num, int dim) { weight = Tensor.randn(num, dim).requiresGrad(true); }

  @Override public Tensor forward(Tensor idx) {
    if (idx.dtype().isFloat() || idx.dtype() == DType.BOOL)
      throw new IllegalArgumentException("Embedding: indices must be integers, got " + idx.dtype().lowerName() + " " + Arrays.toString(idx.shape()));
    int num = weight.shape()[0];
    var s = idx.shape();
    Tensor.checkRange("Embedding", idx, 0, num, "a table of " + num + " rows");
    var flat = idx.cast(DType.INT32).reshape(-1, 1);
    // one-hot rows select the table's rows; the product is a matmul, so its gradient is a scatter-add
    var onehot = flat.eq(Tensor.arange(num).reshape(1, num)).cast(weight.dtype());
    var out = onehot.matmul(weight);
    var shape = Arrays.copyOf(s, s.length + 1);
    shape[s.length] = weight.shape()[1];
    return out.reshape(shape);
  }
}
