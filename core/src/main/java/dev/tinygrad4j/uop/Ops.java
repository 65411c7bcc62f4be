package dev.tinygrad4j.uop;

/** Every kind of UOp: tensor-graph leaves, movement, ALU primitives, and the structural ops of kernels. */
public enum Ops {
  // leaves of the tensor graph
  BUFFER, CONST, ARANGE,
  // movement (become index arithmetic during scheduling)
  RESHAPE, PERMUTE, EXPAND, PAD, SHRINK, FLIP,
  // graph structure
  REDUCE_AXIS, CONTIGUOUS, COPY, DETACH,
  // src 0 with a Variable (arg: UOp.Bind) bound to the size of one of its dims: the value is src 0's; the schedule makes
  // its kernels symbolic in that size
  BIND,
  // the value of src 0 with its gradient to src 1.. given by a function (arg); src 0 passes no gradient
  CUSTOM_GRAD,
  // src 0 read at the int index src 1 holds along axis arg, elsewhere at the output's own index (torch.gather);
  // out-of-range indices read 0
  GATHER,
  // unary
  EXP2, LOG2, SIN, SQRT, RECIPROCAL, NEG, TRUNC,
  // binary
  ADD, MUL, IDIV, MOD, MAX, CMPLT, CMPNE, CMPEQ, AND, OR, XOR, SHL, SHR,
  // ternary
  WHERE, MULACC,
  // type changes
  CAST, BITCAST,
  // kernels: parameters, loops, memory, reduction, outputs; DEFINE_LOCAL is memory shared by a work-group, readable
  // (as a BARRIER over the STOREs into it) once every work-item of the group has stored
  DEFINE_GLOBAL, DEFINE_LOCAL, RANGE, LOAD, STORE, BARRIER, REDUCE, SINK,
  // a kernel's int32 parameter holding a Variable's value (arg: the Variable), set at launch
  DEFINE_VAR,
  // linearized programs only
  DEFINE_ACC, ASSIGN, ENDRANGE;

  /** True for EXP2 ... TRUNC. */
  public boolean isUnary() { return ordinal() >= EXP2.ordinal() && ordinal() <= TRUNC.ordinal(); }
  /** True for ADD ... SHR. */
  public boolean isBinary() { return ordinal() >= ADD.ordinal() && ordinal() <= SHR.ordinal(); }
  /** True for every elementwise arithmetic/logic op (unary, binary, ternary). */
  public boolean isAlu() { return isUnary() || isBinary() || this == WHERE || this == MULACC; }
  /** True for ops whose result is bool. */
  public boolean isComparison() { return this == CMPLT || this == CMPNE || this == CMPEQ; }
  /** True for ops where the order of the two sources does not matter. */
  public boolean isCommutative() {
    return this == ADD || this == MUL || this == MAX || this == CMPNE || this == CMPEQ || this == AND || this == OR || this == XOR;
  }
  /** True for movement ops. */
  public boolean isMovement() { return ordinal() >= RESHAPE.ordinal() && ordinal() <= FLIP.ordinal(); }
}
