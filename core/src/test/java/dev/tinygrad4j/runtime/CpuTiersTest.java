package dev.tinygrad4j.runtime;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.Flags;
import dev.tinygrad4j.Tensor;
import dev.tinygrad4j.engine.Runner;
import dev.tinygrad4j.nn.Adam;
import dev.tinygrad4j.nn.BatchNorm;
import dev.tinygrad4j.nn.Conv2d;
import dev.tinygrad4j.nn.LayerNorm;
import dev.tinygrad4j.nn.Linear;
import dev.tinygrad4j.nn.State;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The CPU device's two tiers, JVM bytecode over native memory and compiled C, give the same bits for every kernel
 * of real workloads (a CNN training step with Adam, a transformer block, transcendentals, integer and half-precision
 * ops), and a tiered kernel runs at once and hands over to C.
 */
class CpuTiersTest {
  private static String devBefore;
  private static CpuDevice cpu;

  @BeforeAll static void onCpu() {
    devBefore = Flags.get("DEV");
    Flags.set("DEV", "CPU");
    cpu = (CpuDevice) Devices.get("CPU");
  }

  @AfterAll static void restore() { Flags.set("DEV", devBefore); }

  /**
   * Runs body once, then again capturing its kernels (as the JIT does), then runs each captured kernel again in each tier on the same buffers (its
   * output restored in between) and checks the outputs are equal byte for byte. Returns how many kernels it checked.
   */
  private static int sameBits(Supplier<List<Tensor>> body) {
    for (var t : body.get()) t.realize();
    var log = new ArrayList<Runner.Step>();
    Runner.capture(log, () -> {
      for (var t : body.get()) t.realize();
      return null;
    });
    var launches = log.stream().filter(s -> s instanceof Runner.Launch).map(s -> (Runner.Launch) s).toList();
    // C versions compile in parallel (the first tier needs no compiler)
    var compiled = launches.parallelStream().map(l -> cpu.compile(l.kernel().spec(), CpuDevice.Tiers.C)).toList();
    try (var arena = Arena.ofConfined()) {
      for (int i = 0; i < launches.size(); i++) {
        var l = launches.get(i);
        var spec = l.kernel().spec();
        var out = l.bufs().getFirst();
        var mems = l.bufs().stream().map(Buffer::mem).toArray();
        var before = out.copyOut(arena.allocate(out.nbytes()));
        cpu.compile(spec, CpuDevice.Tiers.JVM).run(mems);
        var jvm = out.copyOut(arena.allocate(out.nbytes()));
        out.copyIn(before);
        compiled.get(i).run(mems);
        var c = out.copyOut(arena.allocate(out.nbytes()));
        long at = jvm.mismatch(c);
        if (at >= 0) {
          long e = at / out.dtype().itemsize();
          fail("kernel " + spec.name() + " (" + out.dtype().lowerName() + "): element " + e + " is " + Buffer.readFloat(jvm, out.dtype(), e)
              + " in the JVM tier, " + Buffer.readFloat(c, out.dtype(), e) + " in C\n" + spec.source());
        }
      }
    }
    return launches.size();
  }

  @Test void cnnTrainingStepWithAdam() {
    Tensor.manualSeed(3);
    var conv1 = new Conv2d(1, 8, 3); var bn = new BatchNorm(8); var conv2 = new Conv2d(8, 16, 3); var fc = new Linear(16 * 4 * 4, 10);
    var params = new ArrayList<>(State.parameters(conv1));
    params.addAll(State.parameters(bn));
    params.addAll(State.parameters(conv2));
    params.addAll(State.parameters(fc));
    var opt = new Adam(params, 1e-3);
    var x = Tensor.randn(16, 1, 14, 14).realize();
    var y = Tensor.randint(0, 10, 16).realize();
    int kernels = sameBits(() -> {
      try (var mode = Tensor.train()) {
        opt.zeroGrad();
        var h = bn.forward(conv1.forward(x)).relu().maxPool2d(2, 2);
        var loss = fc.forward(conv2.forward(h).relu().reshape(16, 16 * 4 * 4)).crossEntropy(y);
        loss.backward();
        opt.step(loss);
        return List.of(loss);
      }
    });
    assertTrue(kernels > 20, "a training step runs many kernels: " + kernels);
  }

  @Test void transformerBlock() {
    Tensor.manualSeed(4);
    var ln = new LayerNorm(64); var q = new Linear(64, 64); var k = new Linear(64, 64); var v = new Linear(64, 64); var ff = new Linear(64, 256);
    var x = Tensor.randn(2, 24, 64).realize();
    int kernels = sameBits(() -> {
      var h = ln.forward(x);
      var att = q.forward(h).matmul(k.forward(h).transpose(1, 2)).mul(0.125).softmax(-1).matmul(v.forward(h));
      return List.of(ff.forward(att.add(x)).gelu().logsumexp(-1), att.sigmoid().silu().tanh().sum());
    });
    assertTrue(kernels > 5, "kernels: " + kernels);
  }

  @Test void transcendentalsOverWideRanges() {
    Tensor.manualSeed(5);
    var x = Tensor.randn(4099).mul(30).realize(); // an odd size: vector loops and their scalar tails
    var p = x.abs().add(1e-30).realize();
    sameBits(() -> List.of(x.exp(), x.exp2(), p.log(), p.log2(), x.sin(), x.cos(), p.sqrt(), p.rsqrt(), x.reciprocal(), x.pow(3),
        x.trunc(), x.floor(), x.ceil(), x.softplus(), x.elu(), x.max(), x.min(), x.sum(), x.mean(), x.std(0)));
  }

  @Test void integerAndHalfPrecisionOps() {
    var i = Tensor.of(new int[]{Integer.MIN_VALUE + 1, -7, -1, 0, 1, 7, 1 << 30, Integer.MAX_VALUE, 123456, -99999});
    var d = Tensor.of(new int[]{3, -2, 5, 1, -3, 4, 7, 9, -11, 13});
    var h = Tensor.randn(257).cast(DType.FLOAT16).realize();
    var b = Tensor.randn(257).cast(DType.BFLOAT16).realize();
    sameBits(() -> List.of(i.add(d), i.mul(d), i.idiv(d), i.mod(d), i.shl(d.abs()), i.shr(d.abs()), i.xor(d), i.cast(DType.FLOAT32),
        i.cast(DType.INT64).mul(i.cast(DType.INT64)), i.cast(DType.UINT8), i.cast(DType.INT16), i.lt(d), i.sum(),
        h.mul(h).add(1).exp(), h.sum(), b.mul(b).sqrt(), b.cast(DType.FLOAT32).mean(), i.cast(DType.FLOAT16)));
  }

  @Test void aTieredKernelRunsAtOnceAndHandsOverToC() throws Exception {
    var log = new ArrayList<Runner.Step>();
    var x = Tensor.of(new float[]{1, 2, 3, 4}).realize();
    Runner.capture(log, () -> x.mul(2.5f).add(1).realize());
    var launch = (Runner.Launch) log.getLast();
    var was = Flags.get("CACHE");
    Flags.set("CACHE", "0"); // a fresh compile, not a library from the disk cache
    try (var arena = Arena.ofConfined()) {
      var program = cpu.compile(launch.kernel().spec(), CpuDevice.Tiers.BOTH);
      var out = launch.bufs().getFirst();
      var mems = launch.bufs().stream().map(Buffer::mem).toArray();
      long firstTier = CpuDevice.firstTierRuns();
      int compiles = CpuDevice.compiles();
      program.run(mems);
      assertEquals(firstTier + 1, CpuDevice.firstTierRuns(), "the first launch runs as JVM bytecode, without waiting for the compiler");
      var seg = out.copyOut(arena.allocate(out.nbytes()));
      for (int e = 0; e < 4; e++) assertEquals((e + 1) * 2.5f + 1, Buffer.readFloat(seg, DType.FLOAT32, e), 0f);
      long deadline = System.nanoTime() + 120_000_000_000L; // two minutes for the compiler on a loaded machine
      while (CpuDevice.compiles() == compiles && System.nanoTime() < deadline) Thread.sleep(20);
      assertTrue(CpuDevice.compiles() > compiles, "the C version compiled in the background");
      Thread.sleep(100); // the compiled library is loaded after the compile is counted
      firstTier = CpuDevice.firstTierRuns();
      out.copyIn(arena.allocate(out.nbytes())); // zeros: the next run must write every element again
      program.run(mems);
      assertEquals(firstTier, CpuDevice.firstTierRuns(), "once compiled, the C version runs");
      assertEquals(-1, seg.mismatch(out.copyOut(arena.allocate(out.nbytes()))));
    } finally {
      Flags.set("CACHE", was);
    }
  }
}
