package dev.tinygrad4j.onnx;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.Tensor;
import dev.tinygrad4j.onnx.OnnxModel.Node;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BinaryOperator;
import java.util.function.IntFunction;
import java.util.function.DoubleUnaryOperator;
import java.util.function.UnaryOperator;
import java.util.stream.IntStream;

/** The ONNX ops, each written with the Tensor API: op type → what it computes from a node and its inputs. */
final class OnnxOps {
  private OnnxOps() {}

  /** An op: the outputs of a node from its context. */
  interface Op { List<Tensor> apply(Ctx c); }

  /** A node being run: its inputs (null where omitted), attributes and the model's opset. */
  record Ctx(Node node, List<Tensor> in, int opset, OnnxRunner runner) {
    Tensor x() { return in.getFirst(); }
    Tensor in(int k) { return k < in.size() ? in.get(k) : null; }
    OnnxModel.Attribute attr(String name) { return node.attributes().get(name); }
    long i(String name, long def) { var a = attr(name); return a == null ? def : a.i(); }
    float f(String name, float def) { var a = attr(name); return a == null ? def : a.f(); }
    String s(String name, String def) { var a = attr(name); return a == null || a.s() == null ? def : new String(a.s(), StandardCharsets.UTF_8); }
    long[] ints(String name) { var a = attr(name); return a == null ? null : a.ints(); }
    /** Host values of input k (null if omitted). */
    long[] values(int k) { var t = in(k); return t == null ? null : runner.values(t); }
    /** Axes from input k (newer opsets) or attribute "axes" (older ones); null if neither. */
    long[] axes(int k) { return in(k) != null ? values(k) : ints("axes"); }
    Tensor host(long[] v, DType dt, int... shape) { return runner.hostTensor(v, dt, shape); }
    boolean known(Tensor t) { return runner.known.containsKey(t); }
    UnsupportedOnnx unsupported(String what) { return new UnsupportedOnnx(node.describe() + ": " + what + " is not supported"); }
  }

  /** A feature of an op tinygrad4j does not run (rather than a wrong answer). */
  static final class UnsupportedOnnx extends OnnxException {
    UnsupportedOnnx(String message) { super(message); }
  }

  static final Map<String, Op> OPS = new HashMap<>();

  private static void op(String name, Op op) { OPS.put(name, op); }
  private static void unary(String name, UnaryOperator<Tensor> f) { op(name, c -> List.of(f.apply(c.x()))); }
  private static void binary(String name, BinaryOperator<Tensor> f) { op(name, c -> List.of(f.apply(c.in(0), c.in(1)))); }

  static int axis(long a, int rank) {
    if (a < -Math.max(rank, 1) || a >= Math.max(rank, 1)) throw new IllegalArgumentException("axis " + a + " out of range for rank " + rank);
    return (int) (a < 0 ? a + rank : a);
  }

  /** Range's element count, at most what a tensor holds. */
  private static int rangeCount(BigInteger count, Object start, Object limit, Object delta) {
    if (count.compareTo(BigInteger.valueOf(Tensor.MAX_NUMEL)) > 0)
      throw new OnnxException("start " + start + ", limit " + limit + " and delta " + delta + " give " + count
          + " elements, more than a tensor may hold (" + Tensor.MAX_NUMEL + ")");
    return count.intValueExact();
  }

  private static int[] ints(long[] v) { return Arrays.stream(v).mapToInt(Math::toIntExact).toArray(); }

  // ---------------------------------------------------------------- elementwise
  static {
    unary("Identity", x -> x);
    unary("Abs", Tensor::abs);
    unary("Neg", Tensor::neg);
    unary("Exp", x -> same(x, x.exp()));
    unary("Log", x -> same(x, x.log()));
    unary("Sqrt", x -> same(x, x.sqrt()));
    unary("Reciprocal", x -> same(x, x.reciprocal()));
    unary("Sin", x -> same(x, x.sin()));
    unary("Cos", x -> same(x, x.cos()));
    unary("Tan", x -> same(x, x.tan()));
    unary("Tanh", x -> same(x, x.tanh()));
    unary("Sigmoid", x -> same(x, x.sigmoid()));
    unary("Relu", Tensor::relu);
    unary("Floor", Tensor::floor);
    unary("Ceil", Tensor::ceil);
    unary("Round", Tensor::round);
    unary("Sign", Tensor::sign);
    unary("Softplus", x -> same(x, x.softplus()));
    unary("Softsign", x -> same(x, x.softsign()));
    unary("Sinh", x -> same(x, x.sinh()));
    unary("Cosh", x -> same(x, x.cosh()));
    unary("Asinh", x -> same(x, x.lt(0).where(-1.0, 1.0).mul(x.abs().add(x.square().add(1).sqrt()).log())));
    unary("Acosh", x -> same(x, x.add(x.square().sub(1).sqrt()).log()));
    unary("Atanh", x -> same(x, x.add(1).div(x.neg().add(1)).log().mul(0.5)));
    unary("Atan", x -> same(x, x.atan()));
    unary("Asin", x -> same(x, x.asin()));
    unary("Acos", x -> same(x, x.acos()));
    unary("Erf", x -> same(x, x.erf()));
    unary("Not", Tensor::not);
    unary("IsNaN", Tensor::isnan);
    op("IsInf", c -> {
      var x = c.x();
      var pos = c.i("detect_positive", 1) != 0 ? x.eq(Double.POSITIVE_INFINITY) : x.ne(x).and(x.eq(x));
      var neg = c.i("detect_negative", 1) != 0 ? x.eq(Double.NEGATIVE_INFINITY) : x.ne(x).and(x.eq(x));
      return List.of(pos.or(neg));
    });
    op("Elu", c -> { var x = c.x(); double a = c.f("alpha", 1); return List.of(x.gt(0).where(x, x.minimum(0).exp().sub(1).mul(a))); });
    op("Selu", c -> {
      var x = c.x();
      double a = c.f("alpha", 1.67326319217681884765625f), g = c.f("gamma", 1.05070102214813232421875f);
      return List.of(x.gt(0).where(x, x.minimum(0).exp().sub(1).mul(a)).mul(g));
    });
    op("Celu", c -> {
      var x = c.x();
      double a = c.f("alpha", 1);
      return List.of(x.celu(a));
    });
    op("LeakyRelu", c -> List.of(c.x().leakyRelu(c.f("alpha", 0.01f))));
    op("HardSigmoid", c -> List.of(c.x().mul(c.f("alpha", 0.2f)).add(c.f("beta", 0.5f)).clamp(0, 1)));
    unary("HardSwish", Tensor::hardswish);
    op("ThresholdedRelu", c -> { var x = c.x(); return List.of(x.gt(c.f("alpha", 1)).where(x, 0.0)); });
    op("Shrink", c -> {
      var x = c.x();
      double bias = c.f("bias", 0), l = c.f("lambd", 0.5f);
      return List.of(x.lt(-l).where(x.add(bias), x.gt(l).where(x.sub(bias), 0.0)).cast(x.dtype()));
    });
    binary("PRelu", (x, slope) -> x.lt(0).where(x.mul(slope), x));
    op("Clip", c -> {
      var x = c.x();
      Tensor lo = c.in(1), hi = c.in(2);
      if (c.opset() < 11) {
        if (c.attr("min") != null) lo = Tensor.full(c.f("min", 0), new int[0]).cast(x.dtype());
        if (c.attr("max") != null) hi = Tensor.full(c.f("max", 0), new int[0]).cast(x.dtype());
      }
      if (lo != null) x = x.maximum(lo).cast(c.x().dtype());
      if (hi != null) x = x.minimum(hi).cast(c.x().dtype());
      return List.of(x);
    });
    op("Cast", c -> List.of(cast(c, c.x(), c.i("to", 0))));
    op("CastLike", c -> List.of(c.x().cast(c.in(1).dtype())));
    op("Dropout", c -> { // inference: the input unchanged, a mask of all true
      if (c.in(2) != null && c.values(2)[0] != 0) throw c.unsupported("training_mode");
      var x = c.x();
      return List.of(x, x.eq(x).or(x.ne(x)));
    });

    binary("Add", (a, b) -> a.add(b).cast(a.dtype()));
    binary("Sub", (a, b) -> a.sub(b).cast(a.dtype()));
    binary("Mul", (a, b) -> a.mul(b).cast(a.dtype()));
    binary("Div", (a, b) -> a.dtype().isFloat() ? a.div(b).cast(a.dtype()) : a.idiv(b));
    binary("Pow", (a, b) -> a.dtype().isFloat() ? a.pow(b.cast(a.dtype())).cast(a.dtype())
        : a.cast(DType.FLOAT64).pow(b.cast(DType.FLOAT64)).round().cast(a.dtype())); // exp2(y·log2 x) is off by ulps
    op("Mod", c -> {
      var a = c.in(0); var b = c.in(1);
      if (a.dtype().isFloat()) { // C fmod: the sign of the dividend
        if (c.i("fmod", 0) == 0) throw new IllegalArgumentException("Mod of floats needs fmod=1");
        var x = a.cast(DType.FLOAT64); var y = b.cast(DType.FLOAT64);
        return List.of(x.sub(x.div(y).trunc().mul(y)).cast(a.dtype()));
      }
      var r = a.mod(b);
      if (c.i("fmod", 0) != 0) return List.of(r);
      var b2 = b.cast(a.dtype());
      return List.of(r.ne(0).and(r.lt(0).xor(b2.lt(0))).where(r.add(b2), r).cast(a.dtype())); // the sign of the divisor
    });
    op("Max", c -> List.of(fold(c, (a, b) -> a.maximum(b).cast(a.dtype()))));
    op("Min", c -> List.of(fold(c, (a, b) -> a.minimum(b).cast(a.dtype()))));
    op("Sum", c -> List.of(fold(c, (a, b) -> a.add(b).cast(a.dtype()))));
    op("Mean", c -> List.of(fold(c, Tensor::add).div(c.in().size()).cast(c.x().dtype())));
    binary("Equal", Tensor::eq);
    binary("Less", Tensor::lt);
    binary("Greater", Tensor::gt);
    binary("LessOrEqual", Tensor::le);
    binary("GreaterOrEqual", Tensor::ge);
    binary("And", Tensor::and);
    binary("Or", Tensor::or);
    binary("Xor", Tensor::xor);
    op("BitShift", c -> List.of(c.s("direction", "").equals("LEFT") ? c.in(0).shl(c.in(1)) : c.in(0).shr(c.in(1))));
    op("Where", c -> List.of(c.in(0).where(c.in(1), c.in(2))));
  }

  /** A float result in the input's float type (ops compute half types in float32). */
  private static Tensor same(Tensor x, Tensor y) { return x.dtype().isFloat() ? y.cast(x.dtype()) : y; }

  private static Tensor fold(Ctx c, BinaryOperator<Tensor> f) {
    var acc = c.x();
    for (var t : c.in().subList(1, c.in().size())) acc = f.apply(acc, t);
    return acc;
  }

  private static Tensor cast(Ctx c, Tensor x, long to) {
    var dt = OnnxModel.dtypeOf(to);
    if (dt == null) throw c.unsupported("Cast to " + OnnxModel.typeName(to));
    return x.cast(dt);
  }

  // ---------------------------------------------------------------- shapes and movement
  static {
    op("Shape", c -> {
      var s = c.x().shape();
      int r = s.length;
      int start = (int) c.i("start", 0), end = (int) c.i("end", r);
      start = Math.clamp(start < 0 ? start + r : start, 0, r);
      end = Math.clamp(end < 0 ? end + r : end, 0, r);
      var v = IntStream.range(start, Math.max(start, end)).mapToLong(i -> s[i]).toArray();
      return List.of(c.host(v, DType.INT64, v.length));
    });
    op("Size", c -> List.of(c.host(new long[]{c.x().numel()}, DType.INT64)));
    op("Constant", c -> {
      var a = c.node().attributes();
      if (a.containsKey("value")) return List.of(c.runner().tensor(a.get("value").t()));
      if (a.containsKey("value_float")) return List.of(Tensor.of(new float[]{c.f("value_float", 0)}).reshape());
      if (a.containsKey("value_floats")) return List.of(Tensor.of(a.get("value_floats").floats()));
      if (a.containsKey("value_int")) return List.of(c.host(new long[]{c.i("value_int", 0)}, DType.INT64));
      if (a.containsKey("value_ints")) { var v = c.ints("value_ints"); return List.of(c.host(v, DType.INT64, v.length)); }
      throw c.unsupported("this kind of Constant (" + a.keySet() + ")");
    });
    op("ConstantOfShape", c -> {
      var shape = Tensor.checkShape("ConstantOfShape", ints(c.values(0))); // here, not at a realize far from the node
      var v = c.attr("value");
      if (v == null) return List.of(Tensor.zeros(shape));
      var one = c.runner().tensor(v.t());
      return List.of(one.reshape(IntStream.range(0, shape.length).map(i -> 1).toArray()).expand(shape));
    });
    op("Range", c -> {
      var dt = c.x().dtype();
      if (dt.isFloat()) { // output i is start + i * delta, computed in float64 as the count is
        double start = c.in(0).item(), limit = c.in(1).item(), delta = c.in(2).item();
        if (!Double.isFinite(start) || !Double.isFinite(limit) || !Double.isFinite(delta) || delta == 0)
          throw new OnnxException("start " + start + ", limit " + limit + " and delta " + delta + " must be finite and delta nonzero");
        int n = rangeCount(BigInteger.valueOf((long) Math.max(0, Math.ceil((limit - start) / delta))), start, limit, delta);
        return List.of(Tensor.arange(n).cast(DType.FLOAT64).mul(delta).add(start).cast(dt));
      }
      long start = c.values(0)[0], limit = c.values(1)[0], delta = c.values(2)[0];
      if (delta == 0) throw new OnnxException("delta must not be 0 (start " + start + ", limit " + limit + ")");
      var span = BigInteger.valueOf(limit).subtract(BigInteger.valueOf(start)); // exact: limit - start may pass 2^63
      var d = BigInteger.valueOf(delta);
      var q = span.divide(d);
      if (q.multiply(d).compareTo(span) != 0 && span.signum() == d.signum()) q = q.add(BigInteger.ONE); // ceil when positive
      int n = rangeCount(q.max(BigInteger.ZERO), start, limit, delta);
      if (n <= 1 << 16) return List.of(c.host(IntStream.range(0, n).mapToLong(i -> start + i * delta).toArray(), dt, n));
      return List.of(Tensor.arange(n).cast(DType.INT64).mul(delta).add(start).cast(dt));
    });
    op("Reshape", c -> {
      var x = c.x();
      var want = c.values(1);
      var s = x.shape();
      var shape = new int[want.length];
      int infer = -1;
      long known = 1;
      for (int i = 0; i < want.length; i++) {
        if (want[i] == -1) { if (infer >= 0) throw new IllegalArgumentException("two -1 dims in " + Arrays.toString(want)); infer = i; continue; }
        shape[i] = want[i] == 0 && c.i("allowzero", 0) == 0 ? s[i] : Math.toIntExact(want[i]);
        known *= shape[i];
      }
      if (infer >= 0) shape[infer] = known == 0 ? 0 : (int) (x.numel() / known);
      return List.of(keep(c, x, x.reshape(shape)));
    });
    op("Flatten", c -> {
      var s = c.x().shape();
      long a0 = c.i("axis", 1);
      if (a0 < -s.length || a0 > s.length) throw new IllegalArgumentException("Flatten axis " + a0 + " for rank " + s.length);
      int a = (int) (a0 < 0 ? a0 + s.length : a0);
      int outer = Arrays.stream(s, 0, a).reduce(1, (p, q) -> p * q);
      return List.of(c.x().reshape(outer, Arrays.stream(s, a, s.length).reduce(1, (p, q) -> p * q)));
    });
    op("Transpose", c -> {
      int r = c.x().ndim();
      var perm = c.ints("perm");
      return List.of(c.x().permute(perm == null ? IntStream.range(0, r).map(i -> r - 1 - i).toArray() : ints(perm)));
    });
    op("Squeeze", c -> {
      var x = c.x();
      var s = x.shape();
      var axes = c.axes(1);
      var drop = new boolean[s.length];
      if (axes == null) for (int i = 0; i < s.length; i++) drop[i] = s[i] == 1;
      else for (long a : axes) {
        int i = axis(a, s.length);
        if (s[i] != 1) throw new IllegalArgumentException("cannot squeeze axis " + a + " of size " + s[i]);
        drop[i] = true;
      }
      return List.of(keep(c, x, x.reshape(IntStream.range(0, s.length).filter(i -> !drop[i]).map(i -> s[i]).toArray())));
    });
    op("Unsqueeze", c -> {
      var x = c.x();
      var s = x.shape();
      var axes = c.axes(1);
      int r = s.length + axes.length;
      var add = new boolean[r];
      for (long a : axes) add[axis(a, r)] = true;
      var out = new int[r];
      for (int i = 0, j = 0; i < r; i++) out[i] = add[i] ? 1 : s[j++];
      return List.of(keep(c, x, x.reshape(out)));
    });
    op("Concat", c -> {
      var ts = c.in().stream().filter(t -> t != null).toArray(Tensor[]::new);
      int a = axis(c.i("axis", 0), ts[0].ndim());
      var nonEmpty = Arrays.stream(ts).filter(t -> t.shape()[a] > 0).toArray(Tensor[]::new);
      if (Arrays.stream(ts).allMatch(c::known) && ts[0].ndim() == 1) { // shape arithmetic stays on the host
        var v = Arrays.stream(ts).flatMapToLong(t -> Arrays.stream(c.runner().values(t))).toArray();
        return List.of(c.host(v, ts[0].dtype(), v.length));
      }
      return List.of(nonEmpty.length == 0 ? ts[0] : nonEmpty.length == 1 ? nonEmpty[0] : Tensor.cat(a, nonEmpty));
    });
    op("Split", c -> {
      var x = c.x();
      int a = axis(c.i("axis", 0), x.ndim()), n = x.shape()[a], outs = c.node().outputs().size();
      long[] split = c.in(1) != null ? c.values(1) : c.ints("split");
      if (split == null) {
        int parts = (int) c.i("num_outputs", outs), each = Math.ceilDiv(n, parts);
        split = IntStream.range(0, parts).mapToLong(i -> Math.max(0, Math.min(each, n - i * each))).toArray();
      }
      var res = new ArrayList<Tensor>();
      int at = 0;
      for (long len : split) {
        res.add(narrow(x, a, at, at + (int) len));
        at += (int) len;
      }
      return res;
    });
    op("Slice", OnnxOps::slice);
    op("Expand", c -> {
      var x = c.x();
      var want = ints(c.values(1));
      var s = x.shape();
      int r = Math.max(s.length, want.length);
      var out = new int[r];
      for (int i = 0; i < r; i++) {
        int a = i - (r - s.length) >= 0 ? s[i - (r - s.length)] : 1, b = i - (r - want.length) >= 0 ? want[i - (r - want.length)] : 1;
        if (a != b && a != 1 && b != 1) throw new IllegalArgumentException("cannot expand " + Arrays.toString(s) + " to " + Arrays.toString(want));
        out[i] = a == 1 ? b : a;
      }
      var padded = new int[r];
      Arrays.fill(padded, 1);
      System.arraycopy(s, 0, padded, r - s.length, s.length);
      return List.of(x.reshape(padded).expand(out));
    });
    op("Tile", c -> List.of(c.x().repeat(ints(c.values(1)))));
    op("Pad", OnnxOps::pad);
    op("Gather", c -> {
      var x = c.x();
      var idx = c.in(1);
      var s = x.shape();
      int a = axis(c.i("axis", 0), s.length);
      if (c.known(idx) && c.known(x) && s.length == 1) { // shape arithmetic on the host
        var v = c.runner().values(x);
        var out = Arrays.stream(c.runner().values(idx)).map(i -> v[(int) (i < 0 ? i + v.length : i)]).toArray();
        return List.of(c.host(out, x.dtype(), idx.shape()));
      }
      int pre = Arrays.stream(s, 0, a).reduce(1, (p, q) -> p * q), post = Arrays.stream(s, a + 1, s.length).reduce(1, (p, q) -> p * q);
      int m = idx.numel();
      var flat = idx.reshape(1, m, 1).expand(pre, m, post);
      var g = x.reshape(pre, s[a], post).gather(1, flat);
      var shape = new ArrayList<Integer>();
      for (int i = 0; i < a; i++) shape.add(s[i]);
      for (int d : idx.shape()) shape.add(d);
      for (int i = a + 1; i < s.length; i++) shape.add(s[i]);
      return List.of(g.reshape(shape.stream().mapToInt(Integer::intValue).toArray()));
    });
    op("GatherElements", c -> List.of(c.x().gather(axis(c.i("axis", 0), c.x().ndim()), c.in(1))));
    Op scatterElements = c -> List.of(scatter(c, c.x(), axis(c.i("axis", 0), c.x().ndim()), c.in(1), c.in(2)));
    op("ScatterElements", scatterElements);
    op("Scatter", scatterElements);
    op("ScatterND", c -> { // indices [..., k] into data's first k dims: one index into those dims flattened
      var x = c.x(); var idx = c.in(1).cast(DType.INT64);
      var s = x.shape(); var is = idx.shape();
      int k = is[is.length - 1], m = idx.numel() / Math.max(k, 1), rest = Arrays.stream(s, k, s.length).reduce(1, (p, q) -> p * q);
      var flat = Tensor.zeros(m).cast(DType.INT64);
      long stride = 1;
      for (int j = k - 1; j >= 0; j--) {
        var ij = narrow(idx, is.length - 1, j, j + 1).reshape(m);
        ij = ij.lt(0).where(ij.add(Tensor.full(s[j], new int[0]).cast(DType.INT64)), ij);
        flat = flat.add(ij.mul((double) stride));
        stride *= s[j];
      }
      int rows = (int) stride;
      var out = scatter(c, x.reshape(rows, rest), 0, flat.reshape(m, 1).expand(m, rest), c.in(2).reshape(m, rest));
      return List.of(out.reshape(s));
    });
    op("HannWindow", c -> List.of(window(c, 0.5, 0.5, 0)));
    op("HammingWindow", c -> List.of(window(c, 25.0 / 46, 21.0 / 46, 0)));
    op("BlackmanWindow", c -> List.of(window(c, 0.42, 0.5, 0.08)));
    op("DequantizeLinear", c -> {
      var x = c.x().cast(DType.FLOAT32);
      var zp = c.in(2) == null ? null : perAxis(c, c.in(2).cast(DType.FLOAT32));
      return List.of((zp == null ? x : x.sub(zp)).mul(perAxis(c, c.in(1))));
    });
    op("QuantizeLinear", c -> {
      var dt = c.in(2) == null ? DType.UINT8 : c.in(2).dtype();
      var zp = c.in(2) == null ? Tensor.zeros(1).reshape() : perAxis(c, c.in(2).cast(DType.FLOAT32));
      return List.of(saturate(c.x().cast(DType.FLOAT32).div(perAxis(c, c.in(1))).round().add(zp), dt));
    });
    op("DynamicQuantizeLinear", c -> {
      var x = c.x();
      var scale = x.max().maximum(0).sub(x.min().minimum(0)).div(255);
      var zp = saturate(x.min().minimum(0).neg().div(scale).round(), DType.UINT8);
      return List.of(saturate(x.div(scale).round().add(zp.cast(DType.FLOAT32)), DType.UINT8), scale, zp);
    });
    op("MatMulInteger", c -> {
      var a = c.in(0).cast(DType.INT32); var b = c.in(1).cast(DType.INT32);
      if (c.in(2) != null) a = a.sub(c.in(2).cast(DType.INT32));
      if (c.in(3) != null) b = b.sub(c.in(3).cast(DType.INT32));
      return List.of(a.matmul(b));
    });
    op("NonZero", c -> { // a data-dependent shape: computed on the host
      var x = c.x();
      var v = x.cast(DType.FLOAT64).toDoubleArray();
      var s = x.shape();
      var hits = IntStream.range(0, v.length).filter(i -> v[i] != 0).toArray();
      var out = new long[s.length * hits.length];
      for (int j = 0; j < hits.length; j++)
        for (int d = s.length - 1, rem = hits[j]; d >= 0; d--) { out[d * hits.length + j] = rem % s[d]; rem /= s[d]; }
      return List.of(c.host(out, DType.INT64, s.length, hits.length));
    });
    op("Compress", c -> { // the kept positions come from the condition's values: a data-dependent shape
      var x = c.attr("axis") == null ? c.x().reshape(c.x().numel()) : c.x();
      int a = c.attr("axis") == null ? 0 : axis(c.i("axis", 0), x.ndim());
      var cond = c.values(1);
      var keep = IntStream.range(0, Math.min(cond.length, x.shape()[a])).filter(i -> cond[i] != 0).toArray();
      return List.of(take(x, a, keep));
    });
    op("ReverseSequence", c -> {
      var x = c.x();
      int ta = (int) c.i("time_axis", 0), ba = (int) c.i("batch_axis", 1), steps = x.shape()[ta], batch = x.shape()[ba];
      var lens = c.values(1);
      var idx = new long[steps * batch]; // source time of each (t, b)
      for (int t = 0; t < steps; t++) for (int b = 0; b < batch; b++) idx[t * batch + b] = t < lens[b] ? lens[b] - 1 - t : t;
      var shape = IntStream.range(0, x.ndim()).map(d -> d == ta ? steps : d == ba ? batch : 1).toArray();
      var ix = c.host(idx, DType.INT64, ta < ba ? new int[]{steps, batch} : new int[]{batch, steps});
      if (ta > ba) ix = c.host(IntStream.range(0, steps * batch).mapToLong(i -> idx[(i % steps) * batch + i / steps]).toArray(), DType.INT64, batch, steps);
      return List.of(x.gather(ta, ix.reshape(shape).expand(x.shape())));
    });
    op("TopK", c -> { // a stable sort: the first index wins ties, as ONNX asks
      var x = c.x();
      var r = x.topk((int) c.values(1)[0], (int) c.i("axis", -1), c.i("largest", 1) != 0, true);
      return List.of(r[0], r[1].cast(DType.INT64));
    });
    op("DepthToSpace", c -> {
      var x = c.x();
      var s = x.shape();
      int b = (int) c.i("blocksize", 1), n = s[0], ch = s[1], h = s[2], w = s[3], oc = ch / (b * b);
      boolean crd = c.s("mode", "DCR").equals("CRD");
      var y = crd ? x.reshape(n, oc, b, b, h, w).permute(0, 1, 4, 2, 5, 3) : x.reshape(n, b, b, oc, h, w).permute(0, 3, 4, 1, 5, 2);
      return List.of(y.reshape(n, oc, h * b, w * b));
    });
    op("SpaceToDepth", c -> {
      var x = c.x();
      var s = x.shape();
      int b = (int) c.i("blocksize", 1), n = s[0], ch = s[1], h = s[2], w = s[3];
      return List.of(x.reshape(n, ch, h / b, b, w / b, b).permute(0, 3, 5, 1, 2, 4).reshape(n, ch * b * b, h / b, w / b));
    });
    op("Trilu", c -> {
      long k = c.in(1) == null ? 0 : c.values(1)[0];
      int d = (int) Math.clamp(k, -Integer.MAX_VALUE, Integer.MAX_VALUE);
      return List.of(c.i("upper", 1) != 0 ? c.x().triu(d) : c.x().tril(d));
    });
    op("EyeLike", c -> {
      var s = c.x().shape();
      long k = c.i("k", 0);
      var dt = c.attr("dtype") == null ? c.x().dtype() : OnnxModel.dtypeOf(c.i("dtype", 1));
      var eye = Tensor.arange(s[1]).reshape(1, s[1]).sub(Tensor.arange(s[0]).reshape(s[0], 1)).eq(k);
      return List.of(eye.cast(dt));
    });
    op("OneHot", c -> {
      var idx = c.in(0);
      long depth = c.values(1)[0];
      var vals = c.in(2);
      int r = idx.ndim() + 1, a = axis(c.i("axis", -1), r);
      var i = idx.cast(DType.INT64);
      i = i.lt(0).where(i.add(Tensor.full(depth, new int[0]).cast(DType.INT64)), i);
      var shapeA = IntStream.range(0, r).map(d -> d == a ? (int) depth : 1).toArray();
      var hot = i.unsqueeze(a).eq(Tensor.arange((int) depth).cast(DType.INT64).reshape(shapeA));
      var off = narrow(vals, 0, 0, 1).reshape(); var on = narrow(vals, 0, 1, 2).reshape();
      return List.of(hot.where(on, off));
    });
  }

  /** x with updates written at index along axis (ScatterElements): put, or combined by the reduction attribute. */
  private static Tensor scatter(Ctx c, Tensor x, int axis, Tensor index, Tensor updates) {
    return switch (c.s("reduction", "none")) {
      case "none" -> x.scatter(axis, index, updates);
      case "add" -> x.scatterReduce(axis, index, updates, "sum", true);
      case "mul" -> x.scatterReduce(axis, index, updates, "prod", true);
      case "max" -> x.scatterReduce(axis, index, updates, "amax", true);
      case "min" -> x.scatterReduce(axis, index, updates, "amin", true);
      default -> throw c.unsupported("reduction " + c.s("reduction", ""));
    };
  }

  /** A window of the size in input 0: a - b·cos(2πn/N) + c·cos(4πn/N), N = size (periodic) or size - 1. */
  private static Tensor window(Ctx c, double a, double b, double cc) {
    int size = (int) c.values(0)[0];
    double n = c.i("periodic", 1) != 0 ? size : size - 1;
    var w = new double[size];
    for (int i = 0; i < size; i++) w[i] = a - b * Math.cos(2 * Math.PI * i / n) + cc * Math.cos(4 * Math.PI * i / n);
    var dt = OnnxModel.dtypeOf(c.i("output_datatype", 1));
    if (dt == null) throw c.unsupported("output_datatype " + c.i("output_datatype", 1));
    return Tensor.of(w).cast(dt);
  }

  /** A quantization parameter: a scalar, or one value per slice along the axis attribute. */
  private static Tensor perAxis(Ctx c, Tensor p) {
    if (p.ndim() == 0 || p.numel() == 1) return p.reshape();
    int r = c.x().ndim(), a = axis(c.i("axis", 1), r);
    return p.reshape(IntStream.range(0, r).map(d -> d == a ? p.numel() : 1).toArray());
  }

  /** Rounded values clamped to an integer type's range, then cast. */
  private static Tensor saturate(Tensor x, DType dt) {
    double lo = dt == DType.INT8 ? -128 : dt == DType.UINT8 ? 0 : dt == DType.INT16 ? -32768 : 0, hi = dt == DType.INT8 ? 127 : dt == DType.UINT8 ? 255 : 65535;
    return x.clamp(lo, hi).cast(dt);
  }

  /** A reshape of a known host value stays known. */
  private static Tensor keep(Ctx c, Tensor x, Tensor y) {
    if (c.known(x)) c.runner().known.put(y, c.runner().values(x));
    return y;
  }

  /** x[start:end] along axis. */
  static Tensor narrow(Tensor x, int axis, int start, int end) {
    var s = x.shape();
    var se = new int[s.length][];
    for (int i = 0; i < s.length; i++) se[i] = i == axis ? new int[]{start, end} : new int[]{0, s[i]};
    return x.shrink(se);
  }

  /** Every step-th element along axis, starting with the first. */
  private static Tensor stride(Tensor x, int axis, int step) {
    if (step == 1) return x;
    var s = x.shape();
    int n = s[axis], m = Math.ceilDiv(n, step);
    var pad = new int[s.length][2];
    pad[axis][1] = m * step - n;
    var split = new ArrayList<Integer>();
    for (int i = 0; i < s.length; i++) { if (i == axis) { split.add(m); split.add(step); } else split.add(s[i]); }
    var y = x.pad(pad).reshape(split.stream().mapToInt(Integer::intValue).toArray());
    var out = s.clone();
    out[axis] = m;
    return narrow(y, axis + 1, 0, 1).reshape(out);
  }

  private static List<Tensor> slice(Ctx c) {
    var x = c.x();
    var s = x.shape();
    long[] starts, ends, axes, steps;
    if (c.opset() < 10) { starts = c.ints("starts"); ends = c.ints("ends"); axes = c.ints("axes"); steps = null; }
    else { starts = c.values(1); ends = c.values(2); axes = c.values(3); steps = c.values(4); }
    if (c.known(x) && s.length == 1 && (steps == null || steps[0] == 1)) { // shape arithmetic on the host
      var v = c.runner().values(x);
      int n = v.length;
      long st = Math.clamp(starts[0] < 0 ? starts[0] + n : starts[0], 0, n), en = Math.clamp(ends[0] < 0 ? ends[0] + n : ends[0], 0, n);
      var out = Arrays.copyOfRange(v, (int) st, (int) Math.max(st, en));
      return List.of(c.host(out, x.dtype(), out.length));
    }
    for (int k = 0; k < starts.length; k++) {
      int a = axis(axes == null ? k : axes[k], s.length), n = x.shape()[a];
      long step = steps == null ? 1 : steps[k];
      if (step == 0) throw new IllegalArgumentException("Slice step 0");
      long st = starts[k] < 0 ? starts[k] + n : starts[k], en = ends[k] < 0 ? ends[k] + n : ends[k];
      if (step > 0) {
        st = Math.clamp(st, 0, n);
        en = Math.clamp(en, 0, n);
        x = stride(narrow(x, a, (int) st, (int) Math.max(st, en)), a, (int) step);
      } else { // walk backwards: flip, then the same forward slice
        st = Math.clamp(st, 0, n - 1);
        en = Math.clamp(en, -1, n - 1);
        long fs = n - 1 - st, fe = n - 1 - en;
        x = stride(narrow(x.flip(a), a, (int) fs, (int) Math.max(fs, fe)), a, (int) -step);
      }
    }
    return List.of(x);
  }

  private static List<Tensor> pad(Ctx c) {
    var x = c.x();
    int r = x.ndim();
    long[] pads = c.opset() < 11 ? c.ints("pads") : c.values(1);
    var mode = c.s("mode", "constant");
    int[] axes = c.in(3) != null ? Arrays.stream(c.values(3)).mapToInt(a -> axis(a, r)).toArray() : IntStream.range(0, r).toArray();
    var ba = new int[r][2];
    for (int k = 0; k < axes.length; k++) { ba[axes[k]][0] = (int) pads[k]; ba[axes[k]][1] = (int) pads[k + axes.length]; }
    // negative pads crop first
    var se = new int[r][];
    for (int i = 0; i < r; i++) se[i] = new int[]{Math.max(0, -ba[i][0]), x.shape()[i] - Math.max(0, -ba[i][1])};
    x = x.shrink(se);
    for (int i = 0; i < r; i++) { ba[i][0] = Math.max(0, ba[i][0]); ba[i][1] = Math.max(0, ba[i][1]); }
    switch (mode) {
      case "constant" -> {
        double v = c.opset() < 11 ? c.f("value", 0) : c.in(2) == null ? 0 : c.in(2).item();
        if (v == 0) return List.of(x.pad(ba));
        var inside = x.eq(x).or(x.ne(x)).pad(ba); // true inside, false in the padding
        return List.of(inside.where(x.pad(ba), Tensor.full(v, new int[0]).cast(x.dtype())));
      }
      case "edge", "reflect" -> {
        for (int i = 0; i < r; i++) {
          int n = x.shape()[i];
          if (ba[i][0] == 0 && ba[i][1] == 0) continue;
          var parts = new ArrayList<Tensor>();
          if (mode.equals("edge")) {
            var e = x.shape().clone();
            e[i] = ba[i][0];
            if (ba[i][0] > 0) parts.add(narrow(x, i, 0, 1).expand(e));
            parts.add(x);
            e[i] = ba[i][1];
            if (ba[i][1] > 0) parts.add(narrow(x, i, n - 1, n).expand(e));
          } else {
            if (ba[i][0] >= n || ba[i][1] >= n) throw c.unsupported("reflect padding as wide as the input");
            if (ba[i][0] > 0) parts.add(narrow(x, i, 1, ba[i][0] + 1).flip(i));
            parts.add(x);
            if (ba[i][1] > 0) parts.add(narrow(x, i, n - 1 - ba[i][1], n - 1).flip(i));
          }
          x = Tensor.cat(i, parts.toArray(Tensor[]::new));
        }
        return List.of(x);
      }
      default -> throw c.unsupported("Pad mode " + mode);
    }
  }

  // ---------------------------------------------------------------- GatherND, Einsum, Resize
  static {
    op("GatherND", c -> { // one flat index over the k indexed dims, one gather on the data with those dims as one
      var x = c.x();
      var idx = c.in(1).cast(DType.INT32);
      var s = x.shape(); var is = idx.shape();
      int b = (int) c.i("batch_dims", 0), k = is[is.length - 1], last = is.length - 1;
      int batch = prod(s, 0, b), inner = prod(s, b, b + k), post = prod(s, b + k, s.length), m = prod(is, b, last);
      var one = is.clone();
      one[last] = 1;
      var flat = Tensor.zeros(one).cast(DType.INT32);
      for (int j = 0, stride = inner; j < k; j++) {
        int d = s[b + j];
        stride /= d;
        var ij = narrow(idx, last, j, j + 1);
        flat = flat.add(ij.lt(0).where(ij.add(d), ij).mul(stride)).cast(DType.INT32);
      }
      var g = x.reshape(batch, inner, post).gather(1, flat.reshape(batch, m, 1).expand(batch, m, post));
      return List.of(g.reshape(IntStream.concat(Arrays.stream(is, 0, last), Arrays.stream(s, b + k, s.length)).toArray()));
    });
    op("Einsum", c -> List.of(Tensor.einsum(c.s("equation", ""), c.in().toArray(Tensor[]::new)).cast(c.x().dtype())));
    op("Resize", c -> List.of(c.opset() < 11 ? resize(c, c.in(1), null, "asymmetric", "floor")
        : resize(c, c.in(2), c.in(3), c.s("coordinate_transformation_mode", "half_pixel"), c.s("nearest_mode", "round_prefer_floor"))));
    op("Upsample", c -> List.of(resize(c, c.opset() < 9 ? Tensor.of(c.attr("scales").floats()) : c.in(1), null, "asymmetric", "floor")));
  }

  private static int prod(int[] s, int from, int to) { return Arrays.stream(s, from, to).reduce(1, (p, q) -> p * q); }

  /** x's slices idx[0], idx[1], ... along axis a. */
  private static Tensor take(Tensor x, int a, int[] idx) {
    var s = x.shape();
    int pre = prod(s, 0, a), post = prod(s, a + 1, s.length), m = idx.length;
    var g = x.reshape(pre, s[a], post).gather(1, Tensor.of(idx).reshape(1, m, 1).expand(pre, m, post));
    s[a] = m;
    return g.reshape(s);
  }

  /**
   * Resize as ONNX's reference computes it, one axis at a time (the last first): each output index's source
   * coordinate, then its n nearest input indices (clamped to the edge) weighted by the mode's coefficients; an
   * axis is a gather per neighbour and weights along it.
   */
  private static Tensor resize(Ctx c, Tensor scales, Tensor sizes, String coord, String nearestMode) {
    var x = c.x();
    var s = x.shape();
    int r = s.length;
    var mode = c.s("mode", "nearest");
    boolean old = c.opset() < 11 || !c.node().opType().equals("Resize");
    if (!List.of("nearest", "linear", "cubic").contains(mode) || old && mode.equals("cubic")) throw c.unsupported("mode " + mode);
    if (c.i("antialias", 0) != 0) throw c.unsupported("antialias");
    var axesAttr = c.ints("axes");
    var axes = axesAttr == null ? IntStream.range(0, r).toArray() : Arrays.stream(axesAttr).mapToInt(a -> axis(a, r)).toArray();
    var scale = new double[r]; var out = s.clone();
    if (scales != null && scales.numel() > 0) {
      var v = scales.cast(DType.FLOAT64).toDoubleArray();
      for (int k = 0; k < axes.length; k++) { scale[axes[k]] = v[k]; out[axes[k]] = (int) (v[k] * s[axes[k]]); }
    } else {
      if (sizes == null) throw new IllegalArgumentException("Resize needs scales or sizes");
      var v = c.runner().values(sizes);
      for (int k = 0; k < axes.length; k++) { out[axes[k]] = (int) v[k]; scale[axes[k]] = (double) v[k] / s[axes[k]]; }
      var policy = c.s("keep_aspect_ratio_policy", "stretch");
      if (!policy.equals("stretch")) {
        var ss = Arrays.stream(axes).mapToDouble(a -> scale[a]);
        double p = switch (policy) {
          case "not_larger" -> ss.min().orElse(1);
          case "not_smaller" -> ss.max().orElse(1);
          default -> throw c.unsupported("keep_aspect_ratio_policy " + policy);
        };
        for (int a : axes) { scale[a] = p; out[a] = (int) (p * s[a] + 0.5); }
      }
    }
    if (old && mode.equals("nearest") && Arrays.stream(axes).anyMatch(a -> scale[a] < 1)) throw c.unsupported("nearest downsampling before opset 11");
    double[] roi = coord.equals("tf_crop_and_resize") ? c.in(1).cast(DType.FLOAT64).toDoubleArray() : null;
    double cubicA = c.f("cubic_coeff_a", -0.75f), extrapolation = c.f("extrapolation_value", 0);
    boolean exclude = c.i("exclude_outside", 0) != 0 && !mode.equals("nearest");
    DoubleUnaryOperator near = d -> ((cubicA + 2) * d - (cubicA + 3)) * d * d + 1, far = d -> ((cubicA * d - 5 * cubicA) * d + 8 * cubicA) * d - 4 * cubicA;
    var dt = x.dtype().isFloat() && x.dtype() != DType.FLOAT64 ? DType.FLOAT32 : DType.FLOAT64; // integers: float64 as the reference, then truncated
    var y = mode.equals("nearest") ? x : x.cast(dt);
    for (int k = axes.length - 1; k >= 0; k--) {
      int a = axes[k], n = s[a], m = out[a], taps = switch (mode) { case "nearest" -> 1; case "linear" -> 2; default -> 4; };
      double sc = scale[a], w = sc * n, lo = roi == null ? 0 : roi[k], hi = roi == null ? 1 : roi[axes.length + k];
      var idx = new int[taps][m]; var wt = new double[taps][m]; var outside = new long[m];
      boolean identity = m == n;
      for (int i = 0; i < m; i++) {
        double xo = switch (coord) {
          case "half_pixel" -> (i + 0.5) / sc - 0.5;
          case "half_pixel_symmetric" -> n / 2.0 * (1 - m / w) + (i + 0.5) / sc - 0.5;
          case "pytorch_half_pixel" -> w == 1 ? -0.5 : (i + 0.5) / sc - 0.5;
          case "align_corners" -> w == 1 ? 0 : i * (n - 1) / (w - 1);
          case "asymmetric" -> i / sc;
          case "tf_half_pixel_for_nn" -> (i + 0.5) / sc;
          case "tf_crop_and_resize" -> (w == 1 ? (hi - lo) * (n - 1) / 2 : i * (hi - lo) * (n - 1) / (w - 1)) + lo * (n - 1);
          default -> throw c.unsupported("coordinate_transformation_mode " + coord);
        };
        identity &= xo == i;
        if (roi != null && (xo < 0 || xo > n - 1)) { outside[i] = 1; continue; }
        int base = (int) Math.ceil(xo) - 1; // the neighbour left of xo, ratio in (0, 1]
        double t = xo - base;
        double[] co = switch (mode) {
          case "nearest" -> {
            boolean up = t == 1 || switch (nearestMode) {
              case "round_prefer_floor" -> t > 0.5;
              case "round_prefer_ceil" -> t >= 0.5;
              case "floor" -> false;
              case "ceil" -> true;
              default -> throw c.unsupported("nearest_mode " + nearestMode);
            };
            yield up ? new double[]{0, 1} : new double[]{1, 0};
          }
          case "linear" -> new double[]{1 - t, t};
          default -> new double[]{far.applyAsDouble(t + 1), near.applyAsDouble(t), near.applyAsDouble(1 - t), far.applyAsDouble(1 - t + 1)};
        };
        int len = co.length, start = Math.clamp(base - len / 2 + 1, -len / 2, n - len / 2); // the window in the edge padding
        double sum = 0;
        for (int j = 0; j < len; j++) { if (exclude && (start + j < 0 || start + j >= n)) co[j] = 0; sum += co[j]; }
        if (taps == 1) { idx[0][i] = Math.clamp(co[0] != 0 ? start : start + 1, 0, n - 1); continue; }
        for (int j = 0; j < len; j++) { idx[j][i] = Math.clamp(start + j, 0, n - 1); wt[j][i] = exclude ? co[j] / sum : co[j]; }
      }
      if (identity) continue;
      var along = IntStream.range(0, r).map(d -> d == a ? m : 1).toArray();
      Tensor z = null;
      for (int j = 0; j < taps; j++) {
        var g = take(y, a, idx[j]);
        z = taps == 1 ? g : z == null ? g.mul(Tensor.of(wt[j]).cast(dt).reshape(along)) : z.add(g.mul(Tensor.of(wt[j]).cast(dt).reshape(along)));
      }
      y = Arrays.stream(outside).anyMatch(o -> o != 0) ? c.host(outside, DType.BOOL, along).where(extrapolation, z) : z;
    }
    return y.cast(x.dtype());
  }

  // ---------------------------------------------------------------- reductions
  static {
    reduce("ReduceSum", (x, ax, k) -> x.sum(k, ax).cast(x.dtype()), 13);
    reduce("ReduceMean", (x, ax, k) -> x.mean(k, ax).cast(x.dtype()), 18);
    reduce("ReduceMax", (x, ax, k) -> x.max(k, ax), 18);
    reduce("ReduceMin", (x, ax, k) -> x.min(k, ax), 18);
    reduce("ReduceProd", (x, ax, k) -> x.prod(k, ax).cast(x.dtype()), 18);
    reduce("ReduceL1", (x, ax, k) -> x.abs().sum(k, ax).cast(x.dtype()), 18);
    reduce("ReduceL2", (x, ax, k) -> x.square().sum(k, ax).sqrt().cast(x.dtype()), 18);
    reduce("ReduceSumSquare", (x, ax, k) -> x.square().sum(k, ax).cast(x.dtype()), 18);
    reduce("ReduceLogSum", (x, ax, k) -> x.sum(k, ax).log().cast(x.dtype()), 18);
    reduce("ReduceLogSumExp", (x, ax, k) -> {
      var m = x.max(true, ax).detach();
      var m0 = m.ne(m).or(m.eq(Double.NEGATIVE_INFINITY)).or(m.eq(Double.POSITIVE_INFINITY)).where(0.0, m);
      var y = x.sub(m0).exp().sum(true, ax).log().add(m0);
      if (!k) y = y.reshape(dropped(x.shape(), ax));
      return y.cast(x.dtype());
    }, 18);
    op("ArgMax", c -> List.of(argmax(c, c.x())));
    op("ArgMin", c -> List.of(argmax(c, c.x().dtype() == DType.BOOL ? c.x().not() : c.x().neg())));
    op("CumSum", c -> {
      var x = c.x();
      int a = axis(c.values(1)[0], x.ndim());
      boolean rev = c.i("reverse", 0) != 0;
      var y = rev ? x.flip(a) : x;
      var s = y.cumsum(a).cast(x.dtype());
      if (c.i("exclusive", 0) != 0) s = s.sub(y).cast(x.dtype());
      return List.of(rev ? s.flip(a) : s);
    });
  }

  interface Reduce { Tensor apply(Tensor x, int[] axes, boolean keepdims); }

  /** A reduce op: axes from the attribute before opset since, from input 1 after; none means all (or none, if noop_with_empty_axes). */
  private static void reduce(String name, Reduce r, int since) {
    op(name, c -> {
      var x = c.x();
      long[] axes = c.opset() >= since ? c.values(1) : c.ints("axes");
      boolean keep = c.i("keepdims", 1) != 0;
      if (axes == null || axes.length == 0) {
        if (c.i("noop_with_empty_axes", 0) != 0) return List.of(x);
        axes = IntStream.range(0, x.ndim()).asLongStream().toArray();
      }
      int rank = x.ndim();
      var ax = Arrays.stream(axes).mapToInt(a -> axis(a, rank)).sorted().distinct().toArray();
      if (ax.length == 0) return List.of(x);
      if (x.numel() == 0 && !name.equals("ReduceSum") && !name.equals("ReduceProd")) throw c.unsupported(name + " of an empty tensor");
      return List.of(r.apply(x, ax, keep));
    });
  }

  private static int[] dropped(int[] s, int[] axes) {
    return IntStream.range(0, s.length).filter(i -> Arrays.binarySearch(axes, i) < 0).map(i -> s[i]).toArray();
  }

  private static Tensor argmax(Ctx c, Tensor x) {
    int a = axis(c.i("axis", 0), x.ndim()), n = x.shape()[a];
    boolean last = c.i("select_last_index", 0) != 0;
    var i = last ? x.flip(a).argmax(a) : x.argmax(a);
    if (last) i = i.neg().add(n - 1);
    i = i.cast(DType.INT64);
    return c.i("keepdims", 1) != 0 ? i.unsqueeze(a) : i;
  }

  // ---------------------------------------------------------------- neural network
  static {
    op("MatMul", c -> List.of(c.in(0).matmul(c.in(1))));
    op("RNN", c -> recurrent(c, 1));
    op("GRU", c -> recurrent(c, 3));
    op("LSTM", c -> recurrent(c, 4));
    op("Gemm", c -> {
      var a = c.in(0); var b = c.in(1);
      if (c.i("transA", 0) != 0) a = a.transpose(0, 1);
      if (c.i("transB", 0) != 0) b = b.transpose(0, 1);
      var y = a.matmul(b);
      double alpha = c.f("alpha", 1), beta = c.f("beta", 1);
      if (alpha != 1) y = y.mul(alpha);
      if (c.in(2) != null && beta != 0) y = y.add(beta == 1 ? c.in(2) : c.in(2).mul(beta));
      return List.of(y.cast(c.in(0).dtype()));
    });
    op("Softmax", c -> List.of(softmax(c, (x, a) -> x.softmax(a))));
    op("LogSoftmax", c -> List.of(softmax(c, (x, a) -> x.logSoftmax(a))));
    op("Hardmax", c -> List.of(softmax(c, (x, a) -> x.argmax(a).unsqueeze(a).eq(Tensor.arange(x.shape()[a]).reshape(
        IntStream.range(0, x.ndim()).map(d -> d == a ? x.shape()[a] : 1).toArray())).cast(x.dtype()))));
    op("Conv", OnnxOps::conv);
    op("ConvTranspose", OnnxOps::convTranspose);
    op("NegativeLogLikelihoodLoss", c -> List.of(nll(c, c.in(0), c.in(1), c.in(2))));
    op("SoftmaxCrossEntropyLoss", c -> {
      var logp = c.in(0).logSoftmax(1).cast(c.in(0).dtype());
      return List.of(nll(c, logp, c.in(1), c.in(2)), logp);
    });
    op("MaxPool", c -> {
      if (c.node().outputs().size() > 1 && !c.node().outputs().get(1).isEmpty()) throw c.unsupported("MaxPool's Indices output");
      return List.of(pool(c, true));
    });
    op("AveragePool", c -> List.of(pool(c, false)));
    op("GlobalAveragePool", c -> List.of(c.x().mean(true, IntStream.range(2, c.x().ndim()).toArray()).cast(c.x().dtype())));
    op("GlobalMaxPool", c -> List.of(c.x().max(true, IntStream.range(2, c.x().ndim()).toArray())));
    op("BatchNormalization", c -> {
      var x = c.x();
      int r = x.ndim();
      var bshape = IntStream.range(0, r).map(d -> d == 1 ? x.shape()[1] : 1).toArray();
      double eps = c.f("epsilon", 1e-5f);
      UnaryOperator<Tensor> chan = t -> t.reshape(bshape);
      var scale = chan.apply(c.in(1)); var bias = chan.apply(c.in(2));
      if (c.i("training_mode", 0) == 0) {
        var y = x.sub(chan.apply(c.in(3))).div(chan.apply(c.in(4)).add(eps).sqrt()).mul(scale).add(bias);
        return List.of(y.cast(x.dtype()));
      }
      var axes = IntStream.range(0, r).filter(d -> d != 1).toArray();
      var mean = x.mean(true, axes);
      var var_ = x.sub(mean).square().mean(true, axes);
      var y = x.sub(mean).div(var_.add(eps).sqrt()).mul(scale).add(bias);
      double m = c.f("momentum", 0.9f);
      var runMean = c.in(3).mul(m).add(mean.reshape(x.shape()[1]).mul(1 - m));
      var runVar = c.in(4).mul(m).add(var_.reshape(x.shape()[1]).mul(1 - m));
      return List.of(y.cast(x.dtype()), runMean.cast(x.dtype()), runVar.cast(x.dtype()));
    });
    op("InstanceNormalization", c -> {
      var x = c.x();
      int r = x.ndim();
      var axes = IntStream.range(2, r).toArray();
      var bshape = IntStream.range(0, r).map(d -> d == 1 ? x.shape()[1] : 1).toArray();
      var mean = x.mean(true, axes);
      var var_ = x.sub(mean).square().mean(true, axes);
      var y = x.sub(mean).div(var_.add(c.f("epsilon", 1e-5f)).sqrt()).mul(c.in(1).reshape(bshape)).add(c.in(2).reshape(bshape));
      return List.of(y.cast(x.dtype()));
    });
    op("LayerNormalization", c -> {
      var x0 = c.x();
      var x = x0.cast(DType.FLOAT32);
      int r = x.ndim(), a = axis(c.i("axis", -1), r);
      var axes = IntStream.range(a, r).toArray();
      var mean = x.mean(true, axes);
      var d = x.sub(mean);
      var inv = d.square().mean(true, axes).add(c.f("epsilon", 1e-5f)).rsqrt();
      var y = d.mul(inv).mul(c.in(1));
      if (c.in(2) != null) y = y.add(c.in(2));
      return List.of(y.cast(x0.dtype()), mean, inv);
    });
    op("LRN", c -> {
      var x = c.x();
      int size = (int) c.i("size", 1), ch = x.shape()[1];
      double alpha = c.f("alpha", 1e-4f), beta = c.f("beta", 0.75f), bias = c.f("bias", 1f);
      var sq = x.square().transpose(1, -1); // channels last
      var pad = new int[x.ndim()][2];
      pad[x.ndim() - 1] = new int[]{(size - 1) / 2, size - 1 - (size - 1) / 2};
      var sum = sq.pad(pad).pool(new int[]{size}, new int[]{1}, new int[]{1}).sum(-1).transpose(1, -1);
      return List.of(x.div(sum.mul(alpha / size).add(bias).pow(beta)).cast(x.dtype()));
    });
    op("MeanVarianceNormalization", c -> {
      var x = c.x();
      var axesL = c.ints("axes");
      var axes = axesL == null ? new int[]{0, 2, 3} : Arrays.stream(axesL).mapToInt(a -> axis(a, x.ndim())).toArray();
      var mean = x.mean(true, axes);
      var d = x.sub(mean);
      return List.of(d.div(d.square().mean(true, axes).sqrt().add(1e-9)).cast(x.dtype()));
    });
  }

  /**
   * RNN (1 gate), GRU (3: z, r, h) and LSTM (4: i, o, f, c; peepholes P) unrolled over the sequence: the input
   * projections of all steps are one matmul, then each step multiplies the state by R. Directions forward, reverse
   * and bidirectional, layouts 0 and 1; other activations than the defaults (and Relu), clip, input_forget and
   * ragged sequence_lens are refused.
   */
  private static List<Tensor> recurrent(Ctx c, int gates) {
    if (c.attr("clip") != null || c.i("input_forget", 0) != 0) throw c.unsupported("clip or input_forget");
    var acts = c.attr("activations") == null ? List.<String>of() : c.attr("activations").strings().stream().map(b -> new String(b, StandardCharsets.UTF_8)).toList();
    for (var a : acts) if (!List.of("Sigmoid", "Tanh", "Relu").contains(a)) throw c.unsupported("activation " + a);
    boolean batchFirst = c.i("layout", 0) != 0;
    var x = batchFirst ? c.x().transpose(0, 1) : c.x(); // [T, N, I]
    int steps = x.shape()[0], n = x.shape()[1], h = (int) c.i("hidden_size", 0);
    if (c.in(4) != null && Arrays.stream(c.values(4)).anyMatch(l -> l != steps)) throw c.unsupported("sequence_lens shorter than the sequence");
    var direction = c.s("direction", "forward");
    int dirs = direction.equals("bidirectional") ? 2 : 1, g = gates * h;
    var init = c.in(5) == null ? null : batchFirst ? c.in(5).transpose(0, 1) : c.in(5); // [D, N, H]
    var initC = c.in(6) == null ? null : batchFirst ? c.in(6).transpose(0, 1) : c.in(6);
    var ys = new ArrayList<Tensor>(); var hs = new ArrayList<Tensor>(); var cs = new ArrayList<Tensor>();
    for (int d = 0; d < dirs; d++) {
      boolean reverse = direction.equals("reverse") || d == 1;
      int k = d;
      java.util.function.Function<Integer, UnaryOperator<Tensor>> act = i -> { // activation i of this direction's list
        int per = gates == 1 ? 1 : gates == 3 ? 2 : 3;
        var name = acts.size() > k * per + i ? acts.get(k * per + i) : i == 0 && gates > 1 ? "Sigmoid" : "Tanh";
        return switch (name) { case "Sigmoid" -> Tensor::sigmoid; case "Relu" -> Tensor::relu; default -> Tensor::tanh; };
      };
      var w = narrow(c.in(1), 0, d, d + 1).reshape(g, -1).transpose(0, 1);
      var r = narrow(c.in(2), 0, d, d + 1).reshape(g, h).transpose(0, 1);
      var b = c.in(3) == null ? null : narrow(c.in(3), 0, d, d + 1).reshape(2 * g);
      var xs = x.reshape(steps * n, x.shape()[2]).matmul(w);
      if (b != null) xs = xs.add(narrow(b, 0, 0, g));
      xs = xs.reshape(steps, n, g);
      var rb = b == null ? null : narrow(b, 0, g, 2 * g);
      var state = init == null ? Tensor.zeros(n, h).cast(x.dtype()) : narrow(init, 0, d, d + 1).reshape(n, h);
      var cell = initC == null ? Tensor.zeros(n, h).cast(x.dtype()) : narrow(initC, 0, d, d + 1).reshape(n, h);
      var p = c.in(7) == null ? null : narrow(c.in(7), 0, d, d + 1).reshape(3 * h);
      var out = new Tensor[steps];
      for (int s = 0; s < steps; s++) {
        int t = reverse ? steps - 1 - s : s;
        var xt = narrow(xs, 0, t, t + 1).reshape(n, g);
        var hr = rb == null ? state.matmul(r) : state.matmul(r).add(rb);
        IntFunction<Tensor> xg = i -> narrow(xt, 1, i * h, (i + 1) * h);
        IntFunction<Tensor> hg = i -> narrow(hr, 1, i * h, (i + 1) * h);
        if (gates == 1) state = act.apply(0).apply(xg.apply(0).add(hg.apply(0)));
        else if (gates == 3) {
          var z = act.apply(0).apply(xg.apply(0).add(hg.apply(0)));
          var rr = act.apply(0).apply(xg.apply(1).add(hg.apply(1)));
          Tensor recur;
          if (c.i("linear_before_reset", 0) != 0) recur = rr.mul(hg.apply(2));
          else {
            recur = rr.mul(state).matmul(narrow(r, 1, 2 * h, 3 * h));
            if (rb != null) recur = recur.add(narrow(rb, 0, 2 * h, 3 * h));
          }
          var cand = act.apply(1).apply(xg.apply(2).add(recur));
          state = z.neg().add(1).mul(cand).add(z.mul(state));
        } else {
          var prev = cell;
          IntFunction<Tensor> peep = i -> p == null ? null : narrow(p, 0, i * h, (i + 1) * h);
          var iPre = xg.apply(0).add(hg.apply(0)); var fPre = xg.apply(2).add(hg.apply(2));
          if (p != null) { iPre = iPre.add(peep.apply(0).mul(prev)); fPre = fPre.add(peep.apply(2).mul(prev)); }
          var in = act.apply(0).apply(iPre); var f = act.apply(0).apply(fPre);
          cell = f.mul(prev).add(in.mul(act.apply(1).apply(xg.apply(3).add(hg.apply(3)))));
          var oPre = xg.apply(1).add(hg.apply(1));
          if (p != null) oPre = oPre.add(peep.apply(1).mul(cell));
          state = act.apply(0).apply(oPre).mul(act.apply(2).apply(cell));
        }
        out[t] = state;
      }
      ys.add(Tensor.stack(0, out)); hs.add(state); cs.add(cell);
    }
    var y = Tensor.stack(1, ys.toArray(Tensor[]::new)); // [T, D, N, H]
    var yh = Tensor.stack(0, hs.toArray(Tensor[]::new)); var yc = Tensor.stack(0, cs.toArray(Tensor[]::new)); // [D, N, H]
    if (batchFirst) { y = y.permute(2, 0, 1, 3); yh = yh.transpose(0, 1); yc = yc.transpose(0, 1); }
    return gates == 4 ? List.of(y, yh, yc) : List.of(y, yh);
  }

  /** Softmax-like ops: opset 13 on one axis (default -1); before, over the 2-D view flattened at axis (default 1). */
  private static Tensor softmax(Ctx c, java.util.function.BiFunction<Tensor, Integer, Tensor> f) {
    var x = c.x();
    int r = x.ndim();
    if (c.opset() >= 13) return f.apply(x, axis(c.i("axis", -1), r)).cast(x.dtype());
    int a = axis(c.i("axis", 1), r);
    var s = x.shape();
    int outer = Arrays.stream(s, 0, a).reduce(1, (p, q) -> p * q);
    return f.apply(x.reshape(outer, x.numel() / Math.max(outer, 1)), 1).reshape(s).cast(x.dtype());
  }

  /** The begin and end padding of each spatial dim, from pads or auto_pad. */
  private static int[][] pads(Ctx c, int[] in, int[] k, int[] s, int[] d) {
    int n = in.length;
    var out = new int[n][2];
    var auto = c.s("auto_pad", "NOTSET");
    if (auto.equals("SAME_UPPER") || auto.equals("SAME_LOWER")) {
      for (int i = 0; i < n; i++) {
        int o = Math.ceilDiv(in[i], s[i]), total = Math.max(0, (o - 1) * s[i] + (k[i] - 1) * d[i] + 1 - in[i]);
        int small = total / 2;
        out[i] = auto.equals("SAME_UPPER") ? new int[]{small, total - small} : new int[]{total - small, small};
      }
    } else if (!auto.equals("VALID")) {
      var p = c.ints("pads");
      if (p != null) for (int i = 0; i < n; i++) out[i] = new int[]{(int) p[i], (int) p[i + n]};
    }
    return out;
  }

  private static int[] spatial(Ctx c, String name, int n, int def) {
    var v = c.ints(name);
    if (v == null) { var a = new int[n]; Arrays.fill(a, def); return a; }
    return ints(v);
  }

  private static List<Tensor> conv(Ctx c) {
    var x = c.x(); var w = c.in(1);
    int n = x.ndim() - 2;
    var k = Arrays.copyOfRange(w.shape(), 2, w.ndim());
    var s = spatial(c, "strides", n, 1); var d = spatial(c, "dilations", n, 1);
    var p = pads(c, Arrays.copyOfRange(x.shape(), 2, x.ndim()), k, s, d);
    int g = (int) c.i("group", 1);
    if (n == 2 && s[0] == s[1] && d[0] == d[1] && Arrays.stream(p).flatMapToInt(Arrays::stream).allMatch(v -> v >= 0)) {
      // the Tensor's conv2d (its own gradients, its channels-last kernels), the pads applied first when uneven
      boolean even = p[0][0] == p[0][1] && p[1][0] == p[1][1] && p[0][0] == p[1][0];
      var xp = even ? x : x.pad(new int[][]{{0, 0}, {0, 0}, p[0], p[1]});
      return List.of(xp.conv2d(w, c.in(2), s[0], even ? p[0][0] : 0, d[0], g).cast(x.dtype()));
    }
    return List.of(conv(x, w, c.in(2), g, p, s, d));
  }

  /** N-d convolution of x (N, C, D...) with w (M, C/g, K...): windows of the padded input times the weight, summed. */
  private static Tensor conv(Tensor x, Tensor w, Tensor bias, int g, int[][] p, int[] s, int[] d) {
    var xs = x.shape(); var ws = w.shape();
    int n = xs.length - 2, batch = xs[0], cin = xs[1], cout = ws[0];
    var k = Arrays.copyOfRange(ws, 2, ws.length);
    var padAll = new int[n + 2][2];
    var crop = new int[n + 2][];
    for (int i = 0; i < n + 2; i++) crop[i] = new int[]{0, xs[i]};
    for (int i = 0; i < n; i++) { // negative padding crops
      padAll[i + 2] = new int[]{Math.max(0, p[i][0]), Math.max(0, p[i][1])};
      crop[i + 2] = new int[]{Math.max(0, -p[i][0]), xs[i + 2] - Math.max(0, -p[i][1])};
    }
    var win = x.shrink(crop).pad(padAll).pool(k, s, d); // (N, C, O..., K...)
    var o = Arrays.copyOfRange(win.shape(), 2, 2 + n);
    var xv = new ArrayList<Integer>(List.of(batch, g, 1, cin / g));
    var wv = new ArrayList<Integer>(List.of(1, g, cout / g, cin / g));
    for (int v : o) { xv.add(v); wv.add(1); }
    for (int v : k) { xv.add(v); wv.add(v); }
    var prod = win.reshape(xv.stream().mapToInt(Integer::intValue).toArray()).mul(w.reshape(wv.stream().mapToInt(Integer::intValue).toArray()));
    var axes = IntStream.concat(IntStream.of(3), IntStream.range(4 + n, 4 + 2 * n)).toArray();
    var outShape = new ArrayList<Integer>(List.of(batch, cout));
    for (int v : o) outShape.add(v);
    var y = prod.sum(axes).reshape(outShape.stream().mapToInt(Integer::intValue).toArray());
    if (bias != null) y = y.add(bias.reshape(IntStream.range(0, n + 2).map(i -> i == 1 ? cout : 1).toArray()));
    return y.cast(x.dtype());
  }

  /**
   * ConvTranspose as a convolution: the input spread out by the stride (zeros between), padded by the kernel's
   * reach less pads, convolved with the flipped weight whose in and out channels are swapped.
   */
  private static List<Tensor> convTranspose(Ctx c) {
    var x = c.x(); var w = c.in(1);
    var xs = x.shape(); var ws = w.shape();
    int n = xs.length - 2, g = (int) c.i("group", 1), cin = xs[1], coutG = ws[1];
    var k = Arrays.copyOfRange(ws, 2, ws.length);
    var s = spatial(c, "strides", n, 1); var d = spatial(c, "dilations", n, 1); var op = spatial(c, "output_padding", n, 0);
    var in = Arrays.copyOfRange(xs, 2, xs.length);
    var p = new int[n][2];
    var outShape = c.ints("output_shape");
    var auto = c.s("auto_pad", "NOTSET");
    for (int i = 0; i < n; i++) {
      int full = (in[i] - 1) * s[i] + op[i] + (k[i] - 1) * d[i] + 1;
      if (outShape != null || auto.startsWith("SAME")) {
        int want = outShape != null ? (int) outShape[outShape.length - n + i] : in[i] * s[i], total = full - want;
        boolean upper = !auto.equals("SAME_LOWER");
        p[i] = upper ? new int[]{total / 2, total - total / 2} : new int[]{total - total / 2, total / 2};
      } else if (!auto.equals("VALID") && c.ints("pads") != null) p[i] = new int[]{(int) c.ints("pads")[i], (int) c.ints("pads")[i + n]};
    }
    if (n == 2 && s[0] == s[1] && d[0] == d[1] && p[0][0] == p[1][0] && p[0][1] == p[1][1] && op[0] == op[1]) {
      // the Tensor's convTranspose2d where its symmetric padding and output padding say the same: pads (b, e) = (b, b - o)
      int pad = p[0][0], outPad = p[0][0] - p[0][1] + op[0];
      if (pad >= 0 && outPad >= 0 && outPad < Math.max(s[0], d[0]))
        return List.of(x.convTranspose2d(w, c.in(2), s[0], pad, outPad, d[0], g).cast(x.dtype()));
    }
    var y = x;
    for (int i = 0; i < n; i++) { // spread by the stride
      if (s[i] == 1) continue;
      int a = i + 2, len = y.shape()[a];
      var sh = y.shape();
      var split = new int[sh.length + 1];
      for (int j = 0, t = 0; j < sh.length; j++) { split[t++] = sh[j]; if (j == a) split[t++] = 1; }
      var pad = new int[split.length][2];
      pad[a + 1][1] = s[i] - 1;
      var spread = sh.clone();
      spread[a] = len * s[i];
      y = narrow(y.reshape(split).pad(pad).reshape(spread), a, 0, (len - 1) * s[i] + 1);
    }
    var cp = new int[n][2];
    for (int i = 0; i < n; i++) { int reach = (k[i] - 1) * d[i]; cp[i] = new int[]{reach - p[i][0], reach - p[i][1] + op[i]}; }
    var wv = new int[ws.length + 1];
    wv[0] = g; wv[1] = cin / g; wv[2] = coutG;
    System.arraycopy(k, 0, wv, 3, n);
    var perm = IntStream.range(0, ws.length + 1).toArray();
    perm[1] = 2; perm[2] = 1;
    var wt = w.reshape(wv).permute(perm).flip(IntStream.range(3, ws.length + 1).toArray());
    var wshape = new int[ws.length];
    wshape[0] = g * coutG; wshape[1] = cin / g;
    System.arraycopy(k, 0, wshape, 2, n);
    var ones = new int[n];
    Arrays.fill(ones, 1);
    return List.of(conv(y, wt.reshape(wshape), c.in(2), g, cp, ones, d));
  }

  /** Negative log-likelihood of the target classes (axis 1), with class weights, an ignored index and a reduction. */
  private static Tensor nll(Ctx c, Tensor logp, Tensor target, Tensor weight) {
    var t = target.cast(DType.INT32);
    var keep = c.attr("ignore_index") == null ? t.eq(t) : t.ne((double) c.i("ignore_index", 0));
    t = keep.where(t, 0.0).cast(DType.INT32);
    var picked = logp.gather(1, t.unsqueeze(1)).reshape(target.shape()).neg();
    var w = weight == null ? keep.cast(logp.dtype()) : keep.where(weight.gather(0, t.reshape(t.numel())).reshape(target.shape()), 0.0).cast(logp.dtype());
    var loss = picked.mul(w);
    return switch (c.s("reduction", "mean")) {
      case "none" -> loss.cast(logp.dtype());
      case "sum" -> loss.sum().cast(logp.dtype());
      case "mean" -> loss.sum().div(w.sum()).cast(logp.dtype());
      default -> throw c.unsupported("reduction " + c.s("reduction", ""));
    };
  }

  /** MaxPool or AveragePool over the spatial dims, with pads, auto_pad, dilations and ceil_mode. */
  private static Tensor pool(Ctx c, boolean max) {
    var x = c.x();
    var xs = x.shape();
    int n = xs.length - 2;
    var k = spatial(c, "kernel_shape", n, 1); var s = spatial(c, "strides", n, 1); var d = spatial(c, "dilations", n, 1);
    var in = Arrays.copyOfRange(xs, 2, xs.length);
    var p = pads(c, in, k, s, d);
    var extra = new int[n]; // ceil_mode: windows that start inside the (padded) input but run past its end
    if (c.i("ceil_mode", 0) != 0)
      for (int i = 0; i < n; i++) {
        int span = in[i] + p[i][0] + p[i][1], w = (k[i] - 1) * d[i] + 1;
        int o = Math.ceilDiv(span - w, s[i]) + 1;
        if ((o - 1) * s[i] >= in[i] + p[i][0]) o--;
        extra[i] = Math.max(0, (o - 1) * s[i] + w - span);
      }
    var padAll = new int[n + 2][2];
    var padExplicit = new int[n + 2][2];
    for (int i = 0; i < n; i++) { padAll[i + 2] = new int[]{p[i][0], p[i][1] + extra[i]}; padExplicit[i + 2] = p[i]; }
    var kAxes = IntStream.range(2 + n, 2 + 2 * n).toArray();
    var ones = x.eq(x).or(x.ne(x));
    if (max) {
      var inside = ones.pad(padAll);
      var lowest = Tensor.full(Double.NEGATIVE_INFINITY, new int[0]).cast(x.dtype().isFloat() ? x.dtype() : DType.FLOAT32);
      var xp = x.dtype().isFloat() ? inside.where(x.pad(padAll), lowest) : x.pad(padAll); // ints: the window always holds an input value
      return xp.pool(k, s, d).max(kAxes).cast(x.dtype());
    }
    var sum = x.cast(DType.FLOAT32).pad(padAll).pool(k, s, d).sum(kAxes);
    var extraPad = new int[n + 2][2]; // explicit padding counts with count_include_pad, ceil_mode's extra never does
    for (int i = 0; i < n; i++) extraPad[i + 2] = new int[]{0, extra[i]};
    var counted = c.i("count_include_pad", 0) != 0 ? ones.pad(padExplicit).eq(ones.pad(padExplicit)).pad(extraPad) : ones.pad(padAll);
    var count = counted.cast(DType.FLOAT32).pool(k, s, d).sum(kAxes);
    return sum.div(count).cast(x.dtype());
  }
}
