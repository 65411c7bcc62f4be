package dev.tinygrad4j.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.Tensor;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Layers and optimizers against PyTorch 1.13 (float64 values in src/test/resources/reference/nn.txt, written by
 * scripts/gen_nn_reference.py): forward outputs, gradients of (out·upstream).sum(), BatchNorm running statistics in
 * train and eval mode, and the weights of a tiny MLP after three steps of each optimizer.
 */
class NnReferenceTest {
  static final double FWD_ATOL = 1e-6, FWD_RTOL = 1e-3, GRAD_ATOL = 1e-4, GRAD_RTOL = 1e-3;

  record Arr(int[] shape, double[] values) {
    Tensor tensor() {
      var f = new float[values.length];
      for (int i = 0; i < f.length; i++) f[i] = (float) values[i];
      return Tensor.of(f).reshape(shape);
    }
  }

  static final Map<String, Arr> REF = load();

  static Map<String, Arr> load() {
    var out = new HashMap<String, Arr>();
    try (var in = NnReferenceTest.class.getResourceAsStream("/reference/nn.txt")) {
      assertNotNull(in, "missing /reference/nn.txt (run /usr/bin/python3 scripts/gen_nn_reference.py)");
      var r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
      for (String line; (line = r.readLine()) != null; ) {
        if (line.startsWith("#") || line.isBlank()) continue;
        var p = line.split(" ");
        var shape = p[1].equals("_") ? new int[0] : Arrays.stream(p[1].split(",")).mapToInt(Integer::parseInt).toArray();
        var v = new double[p.length - 2];
        for (int i = 0; i < v.length; i++) v[i] = Double.parseDouble(p[i + 2]);
        out.put(p[0], new Arr(shape, v));
      }
    } catch (IOException e) {
      throw new RuntimeException(e);
    }
    return out;
  }

  static Arr ref(String name) {
    var a = REF.get(name);
    assertNotNull(a, "reference " + name + " missing");
    return a;
  }

  static void close(String what, Arr expected, Tensor actual, double atol, double rtol) {
    assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
    var got = actual.toDoubleArray();
    for (int i = 0; i < got.length; i++) {
      double e = expected.values()[i];
      if (!(Math.abs(got[i] - e) <= atol + rtol * Math.abs(e)))
        fail(what + "[" + i + "]: expected " + e + ", got " + got[i]);
    }
  }

  static void set(Tensor param, String name) { param.assign(ref(name).tensor()).realize(); }

  /** Loads parameters, runs forward and backward with the stored upstream, compares output and gradients. */
  static void check(String name, Layer layer, Map<String, Tensor> params, int inputs) {
    params.forEach((k, p) -> set(p, name + "." + k));
    var xs = new ArrayList<Tensor>();
    for (int i = 0; i < inputs; i++) xs.add(ref(name + ".in" + i).tensor().requiresGrad(true));
    var out = layer.forward(xs.getFirst());
    out.mul(ref(name + ".upstream").tensor()).sum().backward();
    close(name + " forward", ref(name + ".out"), out, FWD_ATOL, FWD_RTOL);
    for (int i = 0; i < inputs; i++) close(name + " grad in" + i, ref(name + ".grad.in" + i), xs.get(i).grad(), GRAD_ATOL, GRAD_RTOL);
    params.forEach((k, p) -> close(name + " grad " + k, ref(name + ".grad." + k), p.grad(), GRAD_ATOL, GRAD_RTOL));
  }

  @Test void linear() {
    var l = new Linear(5, 3);
    check("linear", l, Map.of("weight", l.weight, "bias", l.bias), 1);
    var nb = new Linear(5, 3, false);
    check("linear_nobias", nb, Map.of("weight", nb.weight), 1);
    assertEquals(null, nb.bias);
  }

  @Test void conv2d() {
    var c = new Conv2d(4, 6, 3, 2, 1, 1, 2, true);
    check("conv", c, Map.of("weight", c.weight, "bias", c.bias), 1);
    var d = new Conv2d(3, 2, 3, 1, 2, 2, 1, false);
    check("conv_dilated", d, Map.of("weight", d.weight), 1);
  }

  @Test void norms() {
    var ln = new LayerNorm(4, 5);
    check("layernorm", ln, Map.of("weight", ln.weight, "bias", ln.bias), 1);
    var gn = new GroupNorm(2, 6);
    check("groupnorm", gn, Map.of("weight", gn.weight, "bias", gn.bias), 1);
    var rms = new RMSNorm(6);
    check("rmsnorm", rms, Map.of("weight", rms.weight), 1);
  }

  @Test void embedding() {
    var e = new Embedding(10, 4);
    set(e.weight, "embedding.weight");
    var idx = Tensor.of(Arrays.stream(ref("embedding.idx").values()).mapToInt(v -> (int) v).toArray()).reshape(2, 3);
    var out = e.forward(idx);
    out.mul(ref("embedding.upstream").tensor()).sum().backward();
    close("embedding forward", ref("embedding.out"), out, FWD_ATOL, FWD_RTOL);
    close("embedding grad", ref("embedding.grad.weight"), e.weight.grad(), GRAD_ATOL, GRAD_RTOL);
    assertThrows(IllegalArgumentException.class, () -> e.forward(Tensor.of(new float[]{1})));
  }

  @Test void batchNormTrainAndEval() {
    for (var name : List.of("batchnorm2d", "batchnorm1d")) {
      var bn = new BatchNorm(3);
      try (var t = Tensor.train()) {
        check(name, bn, Map.of("weight", bn.weight, "bias", bn.bias), 1);
        close(name + " running_mean", ref(name + ".running_mean"), bn.runningMean, FWD_ATOL, FWD_RTOL);
        close(name + " running_var", ref(name + ".running_var"), bn.runningVar, FWD_ATOL, FWD_RTOL);
        close(name + " step2", ref(name + ".step2.out"), bn.forward(ref(name + ".step2.in0").tensor()), FWD_ATOL, FWD_RTOL);
        close(name + " step2 running_mean", ref(name + ".step2.running_mean"), bn.runningMean, FWD_ATOL, FWD_RTOL);
        close(name + " step2 running_var", ref(name + ".step2.running_var"), bn.runningVar, FWD_ATOL, FWD_RTOL);
        assertEquals(DType.INT64, bn.numBatchesTracked.dtype());
        assertEquals(ref(name + ".step2.num_batches_tracked").values()[0], bn.numBatchesTracked.item());
      }
      var eval = ref(name + ".eval.in0").tensor();
      close(name + " eval", ref(name + ".eval.out"), bn.forward(eval), FWD_ATOL, FWD_RTOL);
      assertEquals(ref(name + ".step2.num_batches_tracked").values()[0], bn.numBatchesTracked.item(), "eval must not count batches");
    }
  }

  @Test void batchNormRunningStatsDoNotGrowAGraph() {
    var bn = new BatchNorm(2);
    try (var t = Tensor.train()) {
      int nodes = 0;
      for (int i = 0; i < 5; i++) {
        bn.forward(Tensor.randn(4, 2, 3, 3)).sum().realize();
        int n = bn.runningMean.uop().allNodes().size();
        if (i > 0) assertEquals(nodes, n, "running statistics must be realized, not chained, step " + i);
        nodes = n;
      }
    }
  }

  static final List<String> PARAMS = List.of("w1", "b1", "w2", "b2");

  /** Three steps of an optimizer on the reference MLP (Linear 4→3, relu, Linear 3→2, MSE loss). */
  void optimizer(String name, Function<List<Tensor>, Optimizer> make) {
    var l1 = new Linear(4, 3);
    var l2 = new Linear(3, 2);
    var ps = List.of(l1.weight, l1.bias, l2.weight, l2.bias);
    for (int i = 0; i < 4; i++) set(ps.get(i), "optim." + PARAMS.get(i));
    var opt = make.apply(ps);
    var x = ref("optim.x").tensor();
    var y = ref("optim.y").tensor();
    for (int step = 1; step <= 3; step++) {
      opt.zeroGrad();
      var loss = l2.forward(l1.forward(x).relu()).sub(y).square().mean();
      loss.backward();
      opt.step(loss);
      close(name + " loss " + step, ref("optim." + name + ".loss" + step), loss, FWD_ATOL, FWD_RTOL);
      for (int i = 0; i < 4; i++)
        close(name + " step " + step + " " + PARAMS.get(i), ref("optim." + name + ".step" + step + "." + PARAMS.get(i)), ps.get(i), FWD_ATOL, FWD_RTOL);
    }
  }

  @Test void sgd() {
    optimizer("sgd", ps -> new SGD(ps, 0.1));
    optimizer("sgd_momentum", ps -> new SGD(ps, 0.1, 0.9, 0.01, false));
    optimizer("sgd_nesterov", ps -> new SGD(ps, 0.05, 0.8, 0, true));
  }

  @Test void adam() {
    optimizer("adam", ps -> new Adam(ps, 0.01));
    optimizer("adam_l2", ps -> new Adam(ps, 0.02, 0.8, 0.99, 1e-6, 0.1));
  }

  @Test void adamW() { optimizer("adamw", ps -> new AdamW(ps, 0.01, 0.9, 0.999, 1e-8, 0.1)); }

  @Test void lamb() { optimizer("lamb", ps -> new LAMB(ps, 0.02, 0.9, 0.999, 1e-6, 0.1)); }

  @Test void learningRateChangesTheStep() {
    var w = Tensor.of(new float[]{1, 2}).requiresGrad(true);
    var opt = new SGD(List.of(w), 0.5);
    w.square().sum().backward();
    opt.step();
    assertArrayEquals(new float[]{0, 0}, w.toFloatArray(), "w - 0.5·2w");
    opt.setLr(0.25);
    assertEquals(0.25, opt.lr());
    w.assign(Tensor.of(new float[]{1, 2})).realize();
    opt.zeroGrad();
    w.square().sum().backward();
    opt.step();
    assertArrayEquals(new float[]{0.5f, 1}, w.toFloatArray(), "w - 0.25·2w");
  }

  @Test void optimizerErrors() {
    var e = assertThrows(IllegalArgumentException.class, () -> new Adam(List.of(Tensor.ones(2))));
    assertTrue(e.getMessage().contains("does not require grad"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new SGD(List.of(), 0.1));
    assertThrows(IllegalArgumentException.class, () -> new Adam(List.of(Tensor.ones(2).requiresGrad(true)), 0.1, 1.0, 0.9, 1e-8, 0));
    assertThrows(IllegalArgumentException.class, () -> new SGD(List.of(Tensor.ones(2).requiresGrad(true)), 0.1, 0, 0, true));
  }

  @Test void layerErrorsNameShapes() {
    var e = assertThrows(IllegalArgumentException.class, () -> new Linear(5, 3).forward(Tensor.ones(2, 4)));
    assertTrue(e.getMessage().contains("[2, 4]") && e.getMessage().contains("5"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new BatchNorm(3).forward(Tensor.ones(2, 4, 5, 5)));
    assertTrue(e.getMessage().contains("BatchNorm"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new GroupNorm(4, 6));
    assertThrows(IllegalArgumentException.class, () -> new Conv2d(3, 4, 3, 1, 0, 1, 2, true));
    assertThrows(IllegalArgumentException.class, () -> new LayerNorm(4).forward(Tensor.ones(4, 5)));
  }

  @Test void defaultInitializationBounds() {
    Tensor.manualSeed(3);
    var l = new Linear(100, 50);
    var w = l.weight.toFloatArray();
    double bound = 1 / Math.sqrt(100), max = 0, sum = 0;
    for (float v : w) { max = Math.max(max, Math.abs(v)); sum += v * v; }
    assertTrue(max <= bound && max > 0.9 * bound, "uniform in ±1/√in: max " + max);
    assertEquals(bound * bound / 3, sum / w.length, 0.1 * bound * bound / 3, "variance of U(-b, b) is b²/3");
    var c = new Conv2d(8, 4, 3);
    double cb = 1 / Math.sqrt(8 * 9);
    for (float v : c.weight.toFloatArray()) assertTrue(Math.abs(v) <= cb, "conv weight within ±1/√fan_in");
    for (float v : c.bias.toFloatArray()) assertTrue(Math.abs(v) <= cb, "conv bias within ±1/√fan_in");
    var bn = new BatchNorm(3);
    assertArrayEquals(new float[]{1, 1, 1}, bn.weight.toFloatArray());
    assertArrayEquals(new float[]{0, 0, 0}, bn.runningMean.toFloatArray());
    assertFalse(bn.runningMean.requiresGrad());
  }
}
