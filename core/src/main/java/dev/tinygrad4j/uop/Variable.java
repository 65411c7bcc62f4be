package dev.tinygrad4j.uop;

/**
 * A size that changes from call to call (a sequence length, a KV-cache position), as tinygrad's Variable. Bound to a
 * tensor dimension ({@code Tensor.bind}), it makes the kernels of a realize symbolic in it: every dimension of the
 * bound size becomes a kernel parameter read at launch, so the next call with another size in [min, max] reuses the
 * same compiled kernels. Two variables are the same variable when name and range are equal.
 *
 * @param name a name for listings and errors
 * @param min  the smallest size it may be bound to (at least 1)
 * @param max  the largest
 */
public record Variable(String name, int min, int max) {
  public Variable {
    if (name == null || name.isBlank()) throw new IllegalArgumentException("a Variable needs a name");
    if (min < 1 || max < min) throw new IllegalArgumentException("Variable " + name + ": range [" + min + ", " + max + "] must satisfy 1 <= min <= max");
  }

  /** The value, checked against the range; throws IllegalArgumentException naming the variable otherwise. */
  public int check(long value) {
    if (value < min || value > max) throw new IllegalArgumentException("Variable " + name + " bound to " + value + ", outside its range [" + min + ", " + max + "]");
    return (int) value;
  }

  /** The kernel node that stands for this variable's value. */
  public UOp node() { return UOp.of(Ops.DEFINE_VAR, dev.tinygrad4j.DType.INT32, this); }

  @Override public String toString() { return name + "[" + min + ".." + max + "]"; }
}
