package dev.tinygrad4j;

import dev.tinygrad4j.engine.Runner;
import dev.tinygrad4j.nn.Adam;
import dev.tinygrad4j.nn.BatchNorm;
import dev.tinygrad4j.nn.Linear;
import dev.tinygrad4j.nn.State;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Capture and replay give what running the function eagerly gives, call after call, on every device. */
class JitTest {
  private static Tensor input(long seed, int... shape) {
    Tensor.manualSeed(seed);
    return Tensor.randn(shape).realize();
  }

  @Test void replayEqualsEagerWithFreshInputsAndKeepsEarlierOutputs() {
    var w = input(1, 8, 4).realize();
    java.util.function.Function<Tensor[], Tensor[]> f = in -> new Tensor[]{in[0].matmul(w).add(in[1]).relu().sum(1), in[0].exp().max()};
    var jit = Jit.of(f);
    var kept = new ArrayList<float[]>();
    var outs = new ArrayList<Tensor>();
    for (int call = 0; call < 5; call++) {
      var x = input(10 + call, 3, 8); var b = input(20 + call, 3, 4);
      long compiledBefore = Runner.kernelsCompiled();
      var got = jit.call(x, b);
      if (call >= 2) assertEquals(compiledBefore, Runner.kernelsCompiled(), "a replay compiles nothing");
      var want = f.apply(new Tensor[]{x, b});
      assertArrayEquals(want[0].toFloatArray(), got[0].toFloatArray(), 1e-6f, "call " + call);
      assertArrayEquals(want[1].toFloatArray(), got[1].toFloatArray(), 1e-6f, "call " + call);
      kept.add(want[0].toFloatArray());
      outs.add(got[0]);
    }
    for (int call = 0; call < 5; call++) assertArrayEquals(kept.get(call), outs.get(call).toFloatArray(), 1e-6f, "outputs stay what they were");
    assertEquals(1, jit.captures());
  }

  @Test void aCaptureTakesWeightsDrawnBeforeTheRandomCounterMovedOnAsData() {
    var w = Tensor.rand(2); // lazy: drawn by the first call, from the random counter, which then moves on
    var jit = Jit.of1(x -> x.add(w));
    var first = jit.call1(Tensor.of(new float[]{1, 2})).toFloatArray();
    for (int call = 1; call < 4; call++) // capture, replay, replay: w stays what the first call drew
      assertArrayEquals(first, jit.call1(Tensor.of(new float[]{1, 2})).toFloatArray(), 0f, "call " + call);
    assertArrayEquals(Tensor.of(new float[]{1, 2}).add(w).toFloatArray(), first, 0f);
  }

  @Test void replaysNeitherScheduleNorBuildGraphs() {
    var jit = Jit.of1(x -> x.mul(2).add(1).sqrt().sum());
    var xs = new ArrayList<Tensor>();
    for (int i = 0; i < 7; i++) xs.add(input(i, 64));
    for (int i = 0; i < 2; i++) jit.call1(xs.get(i));
    long schedules = Runner.schedules(), kernels = Runner.kernelsRun();
    var outs = new ArrayList<Tensor>();
    for (int i = 2; i < 7; i++) outs.add(jit.call1(xs.get(i)));
    assertEquals(schedules, Runner.schedules(), "a replay schedules nothing");
    assertTrue(Runner.kernelsRun() > kernels, "it launches the captured kernels");
    for (int i = 2; i < 7; i++) assertEquals(xs.get(i).mul(2).add(1).sqrt().sum().item(), outs.get(i - 2).item(), 1e-4);
  }

  /** A small model trained with Adam for steps steps of fixed batches, eagerly or under a JIT; returns the losses. */
  private static float[] train(boolean jit, int steps) {
    Tensor.manualSeed(7);
    var l1 = new Linear(6, 16); var bn = new BatchNorm(16); var l2 = new Linear(16, 3);
    var params = new ArrayList<>(State.parameters(l1));
    params.addAll(State.parameters(bn));
    params.addAll(State.parameters(l2));
    var opt = new Adam(params, 0.01);
    java.util.function.Function<Tensor[], Tensor[]> step = in -> {
      try (var mode = Tensor.train()) {
        opt.zeroGrad();
        var h = bn.forward(l1.forward(in[0]).relu()).dropout(0.2);
        var loss = l2.forward(h).crossEntropy(in[1]);
        loss.backward();
        opt.step(loss);
        return new Tensor[]{loss};
      }
    };
    var j = Jit.of(step);
    var losses = new float[steps];
    for (int s = 0; s < steps; s++) {
      var x = input(100, 12, 6); // the same batch, in new buffers every step
      Tensor.manualSeed(200);
      var y = Tensor.randint(0, 3, 12).realize();
      losses[s] = (float) (jit ? j.call(x, y)[0] : step.apply(new Tensor[]{x, y})[0]).item();
    }
    losses = Arrays.copyOf(losses, steps + 1);
    losses[steps] = bn.runningMean.sum().add(bn.runningVar.sum()).toFloatArray()[0]; // the statistics were updated on every replay
    return losses;
  }

  @Test void aJitAdamStepGivesTheEagerLosses() {
    var eager = train(false, 6);
    var jit = train(true, 6);
    assertArrayEquals(eager, jit, 1e-6f, () -> Arrays.toString(eager) + " vs " + Arrays.toString(jit));
    assertTrue(eager[5] < eager[0], "the loss goes down");
  }

  @Test void dropoutDiffersOnEveryReplayAndMatchesEager() {
    try (var mode = Tensor.train()) {
      var x = Tensor.ones(256).realize();
      var jit = Jit.of1(t -> t.dropout(0.5));
      Tensor.manualSeed(3);
      var got = new ArrayList<float[]>();
      for (int i = 0; i < 5; i++) got.add(jit.call1(x).toFloatArray());
      Tensor.manualSeed(3);
      for (int i = 0; i < 5; i++) assertArrayEquals(x.dropout(0.5).toFloatArray(), got.get(i), "call " + i + " draws what an eager call draws");
      assertFalse(Arrays.equals(got.get(3), got.get(4)), "each replay draws new numbers");
      Tensor.manualSeed(3); // a new seed between replays is what the next replay uses
      var again = jit.call1(x).toFloatArray();
      assertArrayEquals(got.getFirst(), again);
    }
  }

  @Test void wrongInputsRaiseAndLeaveTheStateIntact() {
    var acc = Tensor.zeros(4).contiguous().realize();
    var jit = Jit.of1(x -> { acc.assign(acc.add(x)); return acc.mul(1); });
    for (int i = 0; i < 3; i++) jit.call1(Tensor.ones(4));
    var e = assertThrows(IllegalArgumentException.class, () -> jit.call1(Tensor.ones(5)));
    assertTrue(e.getMessage().contains("input 0") && e.getMessage().contains("[5]") && e.getMessage().contains("[4]"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> jit.call1(Tensor.ones(4).cast(DType.FLOAT64)));
    assertThrows(IllegalArgumentException.class, () -> jit.call(Tensor.ones(4), Tensor.ones(4)));
    assertArrayEquals(new float[]{3, 3, 3, 3}, acc.toFloatArray(), "nothing ran");
    assertArrayEquals(new float[]{4, 4, 4, 4}, jit.call1(Tensor.ones(4)).toFloatArray());
  }

  @Test void eagerCodeSeesWhatReplaysAssigned() {
    var acc = Tensor.zeros(4).contiguous().realize();
    var jit = Jit.of1(x -> { acc.assign(acc.add(x)); return acc.mul(1); });
    for (int i = 0; i < 3; i++) jit.call1(Tensor.ones(4));
    assertArrayEquals(new float[]{6, 6, 6, 6}, acc.mul(2).toFloatArray());
    var view = acc.reshape(2, 2);
    for (int i = 0; i < 2; i++) jit.call1(Tensor.ones(4));
    assertArrayEquals(new float[]{10, 10, 10, 10}, acc.mul(2).toFloatArray(), "the same expression, built after the replays");
    assertArrayEquals(new float[]{6, 6, 6, 6}, view.add(1).toFloatArray(), "a view follows its tensor");
  }

  @Test void aTensorReassignedOutsideIsReadAgain() {
    var w = Tensor.of(new float[]{1, 2}).realize();
    var jit = Jit.of1(x -> x.mul(w));
    for (int i = 0; i < 3; i++) jit.call1(Tensor.ones(2));
    w.assign(Tensor.of(new float[]{5, 6})).realize(); // in place: the replay reads the new contents
    assertArrayEquals(new float[]{5, 6}, jit.call1(Tensor.ones(2)).toFloatArray());
    w.assign(w.flip(0)).realize(); // not in place (reads another element): w moves to a new buffer, the JIT captures again
    assertArrayEquals(new float[]{6, 5}, jit.call1(Tensor.ones(2)).toFloatArray());
    assertEquals(2, jit.captures());
  }

  @Test void intermediatesShareMemory() {
    var jit = Jit.of1(x -> {
      var y = x;
      for (int i = 0; i < 6; i++) y = y.mul(1.5).add(i).contiguous(); // six intermediates, each used once
      return y.sum();
    });
    var x = Tensor.rand(1024).realize();
    jit.call1(x);
    jit.call1(x);
    assertTrue(jit.intermediateBytes() <= 2 * 1024 * 4, "two buffers serve six intermediates: " + jit.intermediateBytes());
    assertEquals(x.mul(1.5).add(0).mul(1.5).add(1).mul(1.5).add(2).mul(1.5).add(3).mul(1.5).add(4).mul(1.5).add(5).sum().item(), jit.call1(x).item(), 1e-2);
  }
}
