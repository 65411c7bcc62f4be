package dev.tinygrad4j.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.Tensor;
import dev.tinygrad4j.runtime.Devices;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Random graphs run on the device under test and on INTERP (the reference, the plainest evaluator), which must
 * agree: int and bool results exactly, floats to 1e-5 + 1e-4·|x|. The graphs mix int32, float32 and bool inputs
 * (realized buffers, as a user's are), constants that simplify away (x·0, x+0, x·1, where on a constant condition,
 * a comparison of x with itself), casts, movement chains, reductions and realizes midway — the places where a
 * simplified kernel stops reading a buffer, a renderer numbers its parameters its own way, or a compiler transforms
 * a loop wrongly. 60 graphs with a fixed seed in the suite (each graph's values realized in one schedule);
 * -Dfuzz.graphs=N -Dfuzz.seed=S run more or others.
 */
class DifferentialFuzzTest {
  private static final int GRAPHS = Integer.getInteger("fuzz.graphs", 60);
  private static final long SEED = Long.getLong("fuzz.seed", 20261208L);

  /** A step of a program: new value from earlier ones (the same function builds the graph on either device). */
  private record Step(String what, Function<List<Tensor>, Tensor> f) {}

  @Test void randomGraphsAgreeWithTheInterpreter() {
    var ref = "INTERP";
    var dev = Devices.defaultName();
    var rnd = new Random(SEED);
    int checked = 0;
    for (int g = 0; g < GRAPHS; g++) {
      var inputs = new ArrayList<Tensor>();
      int nIn = 1 + rnd.nextInt(3);
      var shape = randomShape(rnd);
      for (int i = 0; i < nIn; i++) inputs.add(input(rnd, rnd.nextInt(4) == 0 ? randomShape(rnd) : shape));
      var steps = new ArrayList<Step>();
      var vals = new ArrayList<Tensor>();
      for (var t : inputs) vals.add(t.to(ref).realize());
      int want = 2 + rnd.nextInt(7);
      for (int tries = 0; steps.size() < want && tries < 40; tries++) {
        var s = randomStep(rnd, vals);
        try {
          var v = s.f().apply(vals);
          v.shape(); // (built, not run)
          vals.add(v);
          steps.add(s);
        } catch (IllegalArgumentException e) {
          // not valid for these shapes or dtypes: draw another
        }
      }
      Tensor.realizeAll(vals.subList(inputs.size(), vals.size()).toArray(Tensor[]::new));
      var expected = run(vals, inputs.size());
      // the same program on the device under test
      var dvals = new ArrayList<Tensor>();
      for (var t : inputs) dvals.add(t.to(dev).realize());
      for (var s : steps) dvals.add(s.f().apply(dvals));
      Tensor.realizeAll(dvals.subList(inputs.size(), dvals.size()).toArray(Tensor[]::new));
      var program = new StringBuilder("graph " + g + ": inputs");
      for (var t : inputs) program.append(' ').append(t.dtype().lowerName()).append(Arrays.toString(t.shape()));
      for (int i = 0; i < steps.size(); i++) program.append("; v").append(inputs.size() + i).append(" = ").append(steps.get(i).what());
      for (int i = inputs.size(); i < vals.size(); i++) {
        var a = dvals.get(i);
        assertEquals(vals.get(i).dtype(), a.dtype(), program.toString());
        compare(program + " (value v" + i + ")", expected.get(i - inputs.size()), values(a));
        checked++;
      }
    }
    if (checked < GRAPHS) fail("only " + checked + " values checked over " + GRAPHS + " graphs: the generator is too strict");
  }

  private static List<double[]> run(List<Tensor> vals, int from) {
    var out = new ArrayList<double[]>();
    for (int i = from; i < vals.size(); i++) out.add(values(vals.get(i)));
    return out;
  }

  private static double[] values(Tensor t) {
    return switch (t.dtype()) {
      case FLOAT32 -> { var f = t.toFloatArray(); var d = new double[f.length]; for (int i = 0; i < f.length; i++) d[i] = f[i]; yield d; }
      case BOOL -> Arrays.stream(t.cast(DType.INT32).toIntArray()).asDoubleStream().toArray();
      case INT64 -> Arrays.stream(t.toLongArray()).asDoubleStream().toArray();
      default -> Arrays.stream(t.cast(DType.INT32).toIntArray()).asDoubleStream().toArray();
    };
  }

  private static void compare(String what, double[] e, double[] a) {
    if (e.length != a.length) fail(what + ": " + a.length + " values, expected " + e.length);
    for (int i = 0; i < e.length; i++) {
      boolean same = Double.isNaN(e[i]) ? Double.isNaN(a[i]) : e[i] == a[i] || Math.abs(a[i] - e[i]) <= 1e-5 + 1e-4 * Math.abs(e[i]);
      if (!same) fail(what + ": element " + i + " is " + a[i] + ", INTERP gives " + e[i] + "\nexpected " + Arrays.toString(e) + "\nactual   " + Arrays.toString(a));
    }
  }

  private static int[] randomShape(Random rnd) {
    var s = new int[1 + rnd.nextInt(3)];
    for (int i = 0; i < s.length; i++) s[i] = 1 + rnd.nextInt(5);
    return s;
  }

  /** A realized host tensor: int32 in [-9, 9], float32 with two decimals in [-4, 4], or bool. */
  private static Tensor input(Random rnd, int[] shape) {
    int n = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
    return switch (rnd.nextInt(3)) {
      case 0 -> { var v = new int[n]; for (int i = 0; i < n; i++) v[i] = rnd.nextInt(19) - 9; yield Tensor.of(v).reshape(shape); }
      case 1 -> { var v = new float[n]; for (int i = 0; i < n; i++) v[i] = (rnd.nextInt(801) - 400) / 100f; yield Tensor.of(v).reshape(shape); }
      default -> { var v = new int[n]; for (int i = 0; i < n; i++) v[i] = rnd.nextInt(2); yield Tensor.of(v).cast(DType.BOOL).reshape(shape); }
    };
  }

  private static Step randomStep(Random rnd, List<Tensor> vals) {
    int a = rnd.nextInt(vals.size()), b = rnd.nextInt(vals.size()), c = rnd.nextInt(vals.size());
    var x = vals.get(a);
    int nd = x.ndim();
    int ax = nd == 0 ? 0 : rnd.nextInt(nd);
    String va = "v" + a, vb = "v" + b, vc = "v" + c;
    return switch (rnd.nextInt(24)) {
      case 0 -> new Step(va + ".add(" + vb + ")", v -> v.get(a).add(v.get(b)));
      case 1 -> new Step(va + ".sub(" + vb + ")", v -> num(v.get(a)).sub(num(v.get(b))));
      case 2 -> new Step(va + ".mul(" + vb + ")", v -> v.get(a).mul(v.get(b)));
      case 3 -> new Step(va + ".maximum(" + vb + ")", v -> v.get(a).maximum(v.get(b)));
      case 4 -> new Step(va + ".lt(" + vb + ")", v -> v.get(a).lt(v.get(b)));
      case 5 -> new Step(va + ".eq(" + vb + ")", v -> v.get(a).eq(v.get(b)));
      case 6 -> new Step(vc + ".where(" + va + ", " + vb + ")", v -> v.get(c).cast(DType.BOOL).where(v.get(a), v.get(b)));
      case 7 -> new Step(va + ".mul(0).add(" + vb + ")", v -> v.get(a).mul(0).add(v.get(b))); // the first buffer simplifies away
      case 8 -> new Step(va + ".add(0).mul(1)", v -> v.get(a).add(0).mul(1));
      case 9 -> new Step("full(true).where(" + va + ", " + vb + ")", v -> Tensor.full(1, v.get(a).shape()).to(v.get(a).device()).cast(DType.BOOL).where(v.get(a), v.get(b)));
      case 10 -> new Step(va + ".eq(" + va + ").where(" + vb + ", " + vc + ")", v -> v.get(a).eq(v.get(a)).where(v.get(b), v.get(c)));
      case 11 -> {
        var dt = List.of(DType.INT32, DType.FLOAT32, DType.BOOL).get(rnd.nextInt(3));
        yield new Step(va + ".cast(" + dt.lowerName() + ")", v -> v.get(a).cast(dt));
      }
      case 12 -> new Step(va + ".neg()", v -> num(v.get(a)).neg());
      case 13 -> new Step(va + ".abs()", v -> num(v.get(a)).abs());
      case 14 -> new Step(va + ".relu()", v -> num(v.get(a)).relu());
      case 15 -> new Step(va + ".sin()", v -> v.get(a).sin());
      case 16 -> {
        boolean keep = rnd.nextBoolean();
        yield new Step(va + ".sum(" + ax + ", " + keep + ")", v -> v.get(a).sum(ax, keep));
      }
      case 17 -> {
        boolean keep = rnd.nextBoolean();
        yield new Step(va + ".max(" + ax + ", " + keep + ")", v -> v.get(a).max(ax, keep));
      }
      case 18 -> {
        if (nd < 2) yield new Step(va + ".flip(0)", v -> v.get(a).flip(0));
        var order = java.util.stream.IntStream.range(0, nd).boxed().collect(java.util.stream.Collectors.toCollection(ArrayList::new));
        java.util.Collections.shuffle(order, rnd);
        var p = order.stream().mapToInt(Integer::intValue).toArray();
        yield new Step(va + ".permute" + Arrays.toString(p), v -> v.get(a).permute(p));
      }
      case 19 -> new Step(va + ".reshape(-1)", v -> v.get(a).reshape(-1));
      case 20 -> {
        var pad = new int[Math.max(nd, 1)][2];
        if (nd > 0) pad[ax] = new int[]{rnd.nextInt(2), rnd.nextInt(3)};
        yield new Step(va + ".pad(" + Arrays.deepToString(pad) + ")", v -> v.get(a).pad(pad));
      }
      case 21 -> {
        if (nd == 0 || x.shape()[ax] < 2) yield new Step(va + ".contiguous()", v -> v.get(a).contiguous());
        int n = x.shape()[ax], lo = rnd.nextInt(n - 1), hi = lo + 1 + rnd.nextInt(n - lo - 1);
        yield new Step(va + ".slice(" + ax + ", " + lo + ", " + hi + ")", v -> v.get(a).slice(ax, lo, hi));
      }
      case 22 -> {
        var s = x.shape();
        int k = 1 + rnd.nextInt(3);
        var bigger = java.util.stream.IntStream.concat(java.util.stream.IntStream.of(k), Arrays.stream(s)).toArray();
        yield new Step(va + ".expand" + Arrays.toString(bigger), v -> v.get(a).expand(bigger));
      }
      default -> new Step(va + ".realize()", v -> v.get(a).contiguous().realize());
    };
  }

  /** Bools as int32 for arithmetic that has no bool meaning. */
  private static Tensor num(Tensor t) { return t.dtype() == DType.BOOL ? t.cast(DType.INT32) : t; }
}
