package dev.tinygrad4j;

import dev.tinygrad4j.engine.Runner;
import dev.tinygrad4j.uop.Variable;
import org.junit.jupiter.api.Test;

import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A dimension bound to a {@link Variable} gives the values the fixed-size graph gives, for every size, and the kernels
 * compiled for the first size serve the others: no compile for a new size. On every device.
 */
class SymbolicShapeTest {
  private static final Variable N = new Variable("n", 1, 200);

  private static Tensor input(long seed, int... shape) {
    Tensor.manualSeed(seed);
    return Tensor.randn(shape).realize();
  }

  /** For each size: f over x [n, 16] with n bound equals f over the same x unbound; after the first size nothing compiles. */
  private static void check(String what, Function<Tensor, Tensor> f, float tol, int... sizes) {
    for (int k = 0; k < sizes.length; k++) {
      int n = sizes[k];
      var x = input(n, n, 16);
      long before = Runner.kernelsCompiled();
      var got = f.apply(x.bind(0, N)).toFloatArray();
      long compiled = Runner.kernelsCompiled() - before;
      if (k > 0) assertEquals(0, compiled, what + ": size " + n + " compiled " + compiled + " kernels the first size had");
      var want = f.apply(x).toFloatArray();
      assertArrayEquals(want, got, tol, what + " at n = " + n);
    }
  }

  @Test void elementwiseReductionsAndMatmulOverTheVariableDim() {
    var w = input(1, 16, 8);
    check("matmul", x -> x.matmul(w).relu(), 1e-5f, 7, 13, 40, 3);
    check("sum over n", x -> x.sum(0), 1e-5f, 7, 13, 40, 3);
    check("softmax over n", x -> x.softmax(0), 1e-6f, 7, 13, 40, 3);
    check("max and argmax over n", x -> x.max(0).add(x.argmax(0).cast(DType.FLOAT32)), 0, 7, 13, 40, 3);
    check("rows", x -> x.sub(x.max(1, true)).exp().sum(1), 1e-5f, 7, 13, 40, 3);
  }

  @Test void attentionWithACausalMask() {
    check("attention", x -> {
      int n = x.shape()[0];
      var scores = x.matmul(x.transpose(0, 1)).mul(0.25);
      var causal = Tensor.arange(n).reshape(n, 1).lt(Tensor.arange(n).reshape(1, n)); // j > i
      return causal.where(Double.NEGATIVE_INFINITY, scores).softmax(1).matmul(x);
    }, 1e-5f, 6, 11, 30, 2);
  }

  @Test void movementOverTheVariableDim() {
    check("flip", x -> x.flip(0).mul(2), 0, 5, 9, 33);
    check("transpose", x -> x.transpose(0, 1).contiguous().add(1), 0, 5, 9, 33);
    check("regroup [n,16] -> [2,n,8]", x -> x.reshape(2, -1, 8).sum(2), 1e-5f, 5, 9, 33);
    check("regroup [n,16] -> [n*16]", x -> x.mul(2).reshape(-1).add(3), 0, 5, 9, 33);
    check("regroup [n*16] -> [n,16]", x -> x.mul(2).reshape(-1).add(3).reshape(-1, 4).sum(1), 0, 5, 9, 33);
    check("the last row", x -> x.shrink(new int[][]{{x.shape()[0] - 1, x.shape()[0]}, {0, 16}}).mul(2), 0, 5, 9, 33);
    check("rows but the first two", x -> x.shrink(new int[][]{{2, x.shape()[0]}, {0, 16}}).sum(0), 1e-5f, 5, 9, 33);
    check("pad n", x -> x.pad(new int[][]{{1, 2}, {0, 0}}).sum(1), 1e-5f, 5, 9, 33);
    check("pad the other dim", x -> x.pad(new int[][]{{0, 0}, {1, 2}}).add(1), 0, 5, 9, 33);
    check("cumsum over n", x -> x.cumsum(0), 1e-4f, 5, 9, 33);
    check("broadcast against a fixed row", x -> x.add(Tensor.arange(16).cast(DType.FLOAT32)), 0, 5, 9, 33);
  }

  @Test void gatherWithBoundIndices() {
    var table = input(2, 50, 16);
    for (int n : new int[]{4, 9, 23}) {
      int[] ids = new int[n];
      for (int i = 0; i < n; i++) ids[i] = (i * 7 + n) % 50;
      var idx = Tensor.of(ids);
      var got = table.gather(0, idx.bind(0, N).reshape(n, 1).expand(n, 16)).sum(1).toFloatArray();
      var want = table.gather(0, idx.reshape(n, 1).expand(n, 16)).sum(1).toFloatArray();
      assertArrayEquals(want, got, 1e-5f, "n = " + n);
    }
  }

  @Test void valuesThatAreNotSizesOfTheVariableStayRight() {
    // a size computed from the bound one that the kernel cannot see as such (a window of 3 rows at a fixed place): fixed
    for (int n : new int[]{5, 12}) {
      var x = input(n, n, 16);
      var got = x.bind(0, N).shrink(new int[][]{{1, 4}, {0, 16}}).sum(1).toFloatArray();
      assertArrayEquals(x.shrink(new int[][]{{1, 4}, {0, 16}}).sum(1).toFloatArray(), got, 1e-5f);
    }
    // a fixed dim of the same size as the bound one (it may be taken as symbolic too): still the same values
    var x = input(3, 16, 16);
    var y = input(4, 16, 16);
    assertArrayEquals(x.matmul(y).toFloatArray(), x.bind(0, N).matmul(y).toFloatArray(), 1e-5f);
  }

  @Test void gradientsThroughABoundDim() {
    var w = input(5, 16, 8);
    for (int n : new int[]{6, 17, 31}) {
      var x = input(n, n, 16);
      var a = x.detach().requiresGrad(true);
      a.bind(0, N).matmul(w).tanh().softmax(0).sum().backward();
      var b = x.detach().requiresGrad(true);
      b.matmul(w).tanh().softmax(0).sum().backward();
      assertArrayEquals(b.grad().toFloatArray(), a.grad().toFloatArray(), 1e-5f, "n = " + n);
    }
  }

  @Test void errorsNameTheVariable() {
    var x = input(6, 300, 4);
    var e = assertThrows(IllegalArgumentException.class, () -> x.bind(0, N));
    assertTrue(e.getMessage().contains("Variable n") && e.getMessage().contains("300"), e.getMessage());
    var a = input(7, 5, 4).bind(0, N);
    var b = input(8, 6, 4).bind(0, N);
    var e2 = assertThrows(IllegalArgumentException.class, () -> a.sum().add(b.sum()).realize());
    assertTrue(e2.getMessage().contains("n[1..200]") && e2.getMessage().contains("5") && e2.getMessage().contains("6"), e2.getMessage());
    assertEquals(input(7, 5, 4).sum().item(), a.sum().item(), 1e-5);
    assertThrows(IllegalArgumentException.class, () -> new Variable("bad", 0, 4));
    assertThrows(IllegalArgumentException.class, () -> Tensor.of(new float[]{1}).reshape().bind(0, N));
  }

  @Test void aJitReplaysOneCaptureAtEverySize() {
    var w = input(9, 16, 8);
    Function<Tensor[], Tensor[]> f = in -> {
      var x = in[0];
      int n = x.shape()[0];
      var causal = Tensor.arange(n).reshape(n, 1).lt(Tensor.arange(n).reshape(1, n));
      var att = causal.where(Double.NEGATIVE_INFINITY, x.matmul(x.transpose(0, 1)).mul(0.25)).softmax(1).matmul(x); // [n, 16]
      return new Tensor[]{att.matmul(w).relu(), att.sum(0), x.flip(0).shrink(new int[][]{{0, 1}, {0, 16}})}; // [n, 8], [16], [1, 16]
    };
    for (var v : new Variable[]{new Variable("rows", 1, 100), new Variable("rows16", 16, 160, 16)}) {
      var jit = Jit.of(f);
      int[] sizes = v.step() == 1 ? new int[]{7, 12, 30, 30, 5, 64, 5, 12, 64} : new int[]{32, 48, 64, 64, 48, 32}; // (past 64 the sum over n is split: other kernels)
      var seen = new java.util.HashSet<Integer>();
      for (int k = 0; k < sizes.length; k++) {
        int n = sizes[k];
        var x = input(100 + n, n, 16);
        long schedules = Runner.schedules(), compiled = Runner.kernelsCompiled();
        var got = jit.call(x.bind(0, v));
        if (k >= 2) assertEquals(compiled, Runner.kernelsCompiled(), v + ": a call at " + n + " compiles nothing");
        if (seen.contains(n)) assertEquals(schedules, Runner.schedules(), v + ": a replay at " + n + " (checked once) schedules nothing");
        if (k >= 1) seen.add(n); // the capture's size, or one a call ran and checked (the first call only runs)
        var want = f.apply(new Tensor[]{x});
        for (int i = 0; i < want.length; i++) {
          assertArrayEquals(want[i].shape(), got[i].shape(), v + " output " + i + " at " + n);
          assertArrayEquals(want[i].toFloatArray(), got[i].toFloatArray(), 1e-5f, v + " output " + i + " at " + n);
        }
      }
      assertEquals(1, jit.captures(), v + ": one capture serves every size");
    }
  }

  @Test void aJitWhoseFunctionBakesASizeIntoAConstantStillGivesTheRightValues() {
    var n = new Variable("n", 1, 64);
    // mean multiplies by the constant 1/n; the division by a size read in Java is one too: a replay at another n would
    // compute with the captured n's constant, so calls at new sizes run the function (their launches differ)
    Function<Tensor, Tensor> f = x -> x.mean(0).add(x.sum(0).div(x.shape()[0]));
    var jit = Jit.of1(f);
    int[] sizes = {3, 5, 9, 5, 9, 3, 17};
    for (int k = 0; k < sizes.length; k++) {
      int size = sizes[k];
      var x = input(size, size, 4);
      long schedules = Runner.schedules();
      var got = jit.call1(x.bind(0, n)).toFloatArray();
      if (k == 3 || k == 4) assertEquals(schedules, Runner.schedules(), "a size met before replays its own capture: " + size);
      assertArrayEquals(f.apply(x).toFloatArray(), got, 1e-6f, "n = " + size);
    }
  }

  @Test void aJitWhoseFunctionBindsTheVariableToAnotherSizeInsideStaysRight() {
    var n = new Variable("n", 1, 256);
    Function<Tensor[], Tensor[]> f = in -> {
      int size = in[0].shape()[0];
      var s = in[0].sum().realize(); // n bound to size
      var y = Tensor.arange(2 * size).cast(DType.FLOAT32).reshape(2 * size, 1).bind(0, n); // n bound to 2 * size
      return new Tensor[]{y.sum(0).add(s.reshape(1))};
    };
    var jit = Jit.of(f);
    for (int size : new int[]{3, 4, 5, 5, 6, 6}) {
      var x = Tensor.ones(size, 4).realize();
      assertArrayEquals(f.apply(new Tensor[]{x})[0].toFloatArray(), jit.call(x.bind(0, n))[0].toFloatArray(), 0f, "size " + size);
    }
  }

  @Test void aJitTellsAnotherVariableOrAFixedSizeFromTheCapturedOnes() {
    var jit = Jit.of1(x -> x.mul(2).sum(0));
    var n = new Variable("n", 1, 64);
    for (int size : new int[]{3, 5}) jit.call1(input(size, size, 4).bind(0, n));
    var e = assertThrows(IllegalArgumentException.class, () -> jit.call1(input(1, 6, 4)));
    assertTrue(e.getMessage().contains("input 0") && e.getMessage().contains("n[1..64]"), e.getMessage());
    var m = new Variable("m", 1, 64);
    assertThrows(IllegalArgumentException.class, () -> jit.call1(input(1, 6, 4).bind(0, m)));
    assertArrayEquals(input(7, 7, 4).mul(2).sum(0).toFloatArray(), jit.call1(input(7, 7, 4).bind(0, n)).toFloatArray(), 1e-5f, "still usable");
  }

  @Test void aSmallTransformerSamplesUnderOneJitForEveryContextLength() {
    Tensor.manualSeed(11); // weights drawn lazily, with the first call, from the random counter the calls then move on
    var tok = new dev.tinygrad4j.nn.Embedding(20, 16);
    var pos = new dev.tinygrad4j.nn.Embedding(64, 16);
    var norm = new dev.tinygrad4j.nn.LayerNorm(16);
    var qkv = new dev.tinygrad4j.nn.Linear(16, 48);
    var head = new dev.tinygrad4j.nn.Linear(16, 20);
    var proj = new dev.tinygrad4j.nn.Linear(16, 16);
    var norm2 = new dev.tinygrad4j.nn.LayerNorm(16);
    var up = new dev.tinygrad4j.nn.Linear(16, 64);
    var down = new dev.tinygrad4j.nn.Linear(64, 16);
    Function<Tensor, Tensor[]> f = ids -> {
      int t = ids.shape()[0];
      var x = tok.forward(ids).add(pos.forward(Tensor.arange(t)));
      var h = qkv.forward(norm.forward(x));
      var q = h.shrink(new int[][]{{0, t}, {0, 16}}); var k = h.shrink(new int[][]{{0, t}, {16, 32}}); var v = h.shrink(new int[][]{{0, t}, {32, 48}});
      var future = Tensor.arange(t).reshape(t, 1).lt(Tensor.arange(t).reshape(1, t));
      var att = future.where(Double.NEGATIVE_INFINITY, q.matmul(k.transpose(0, 1)).mul(0.25)).softmax(-1).matmul(v);
      x = x.add(proj.forward(att));
      x = x.add(down.forward(up.forward(norm2.forward(x)).gelu()));
      var logits = head.forward(x.shrink(new int[][]{{t - 1, t}, {0, 16}}));
      return new Tensor[]{logits, logits.softmax(-1).cumsum(1).lt(Tensor.rand(1, 1)).sum()};
    };
    var context = new Variable("context", 1, 64);
    var jit = Jit.of(in -> f.apply(in[0]));
    var ids = new java.util.ArrayList<>(java.util.List.of(1, 2, 3));
    var contexts = new java.util.ArrayList<int[]>();
    var logits = new java.util.ArrayList<float[]>();
    for (int token = 0; token < 8; token++) { // only the JIT runs while sampling (as a user's loop would)
      contexts.add(ids.stream().mapToInt(Integer::intValue).toArray());
      var out = jit.call(Tensor.of(contexts.getLast()).bind(0, context));
      logits.add(out[0].toFloatArray());
      ids.add((int) Math.min(19, out[1].item()));
    }
    assertEquals(1, jit.captures());
    for (int i = 0; i < contexts.size(); i++)
      assertArrayEquals(f.apply(Tensor.of(contexts.get(i)))[0].toFloatArray(), logits.get(i), 1e-5f, "logits at context " + contexts.get(i).length);
  }
}
