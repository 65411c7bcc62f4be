package dev.tinygrad4j.uop;

/**
 * A size that changes from call to call (a sequence length, a KV-cache position), as tinygrad's Variable. Bound to a
 * tensor dimension ({@code Tensor.bind}), it makes the kernels of a realize symbolic in it: every dimension of the
 * bound size becomes an expression of a kernel parameter read at launch, so the next call with another size in
 * [min, max] reuses the same compiled kernels. Sizes may be restricted to multiples of a step (a length padded to a
 * bucket): the kernel then sees step·k for a parameter k, which it can split into vectors of step without a
 * remainder. Two variables are the same variable when all four fields are equal.
 *
 * @param name a name for listings and errors
 * @param min  the smallest size it may be bound to (at least 1)
 * @param max  the largest
 * @param step every size it is bound to is a multiple of this (1: any size)
 */
public record Variable(String name, int min, int max, int step) {
  public Variable {
    if (name == null || name.isBlank()) throw new IllegalArgumentException("a Variable needs a name");
    if (min < 1 || max < min || step < 1) throw new IllegalArgumentException("Variable " + name + ": range [" + min + ", " + max + "] step " + step + " must satisfy 1 <= min <= max, step >= 1");
    if ((max / step) * step < min) throw new IllegalArgumentException("Variable " + name + ": no multiple of " + step + " in [" + min + ", " + max + "]");
  }

  /** A variable that may be bound to any size in [min, max]. */
  public Variable(String name, int min, int max) { this(name, min, max, 1); }

  /** The size, checked against the range and step; throws IllegalArgumentException naming the variable otherwise. */
  public int check(long size) {
    if (size < min || size > max || size % step != 0)
      throw new IllegalArgumentException("Variable " + name + " bound to " + size + ", outside its range [" + min + ", " + max + "]"
          + (step > 1 ? " or not a multiple of " + step : ""));
    return (int) size;
  }

  /** The kernel parameter this variable stands for: the size divided by the step. */
  public UOp node() { return UOp.of(Ops.DEFINE_VAR, dev.tinygrad4j.DType.INT32, this); }

  /** The size as a kernel sees it: {@link #node()} times the step. */
  public UOp size() { return step == 1 ? node() : node().mul(step); }

  /** The parameter's value for a size (checked). */
  public int value(long size) { return check(size) / step; }

  /** The smallest and largest values the parameter takes. */
  long lowest() { return (min + step - 1) / step; }
  long highest() { return max / step; }

  /** The value of expr, an int expression of variables, where they are bound to these sizes; throws if one has none. */
  public static long evaluate(UOp expr, java.util.Map<Variable, Integer> sizes) {
    var bound = new java.util.HashMap<UOp, UOp>();
    sizes.forEach((v, x) -> bound.put(v.node(), UOp.idx(x / v.step())));
    var out = PatternMatcher.graphRewrite(expr.substitute(bound), Symbolic.RULES);
    if (!out.isConst()) throw new IllegalArgumentException("no size for every variable of " + expr + " in " + sizes);
    return out.asLong();
  }

  @Override public String toString() { return name + "[" + min + ".." + max + (step > 1 ? " step " + step : "") + "]"; }
}
