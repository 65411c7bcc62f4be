package dev.tinygrad4j.codegen;

import dev.tinygrad4j.Tensor;
import dev.tinygrad4j.codegen.Optimizer.Opt;
import dev.tinygrad4j.codegen.Optimizer.OptOp;
import dev.tinygrad4j.engine.Runner;
import dev.tinygrad4j.engine.Schedule;
import dev.tinygrad4j.runtime.Devices;
import dev.tinygrad4j.uop.Ops;
import dev.tinygrad4j.uop.UOp;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.*;

/** Opts change the loop structure, never the values: every opt on several kernels against the plain kernel. */
class OptimizerTest {
  /** Runs the schedule of t with the opts chosen for each kernel; returns the output. */
  private static float[] run(Tensor t, Function<UOp, List<Opt>> choose) {
    var dev = Devices.get(t.device());
    var plan = Schedule.create(List.of(t.uop()), List.of(dev));
    Schedule.Kernel last = null;
    for (var item : plan.items()) {
      var k = (Schedule.Kernel) item;
      var spec = Codegen.compile(k.name(), k.ast(), dev.target(), choose.apply(Codegen.simplify(k.ast())));
      Runner.launch(new Runner.Compiled(spec, dev.compile(spec)), k.bufs());
      last = k;
    }
    try (var arena = Arena.ofConfined()) {
      var out = last.bufs().getFirst();
      return out.copyOut(arena.allocate(out.nbytes())).toArray(ValueLayout.JAVA_FLOAT);
    }
  }

  private static void check(Tensor t, List<Opt> opts) {
    var plain = run(t, ast -> List.of());
    var tuned = run(t, ast -> Optimizer.reduces(ast).isEmpty() && opts.stream().anyMatch(o -> o.op() == OptOp.UNROLL) ? List.of() : opts);
    assertArrayEquals(plain, tuned, 1e-5f, opts::toString);
  }

  private final Tensor a = Tensor.rand(8, 12).realize(), b = Tensor.rand(12, 16).realize();

  @Test void upcastsAndUnrollsKeepMatmulValues() {
    for (var opts : List.of(
        List.of(new Opt(OptOp.UPCAST, 1, 16)),
        List.of(new Opt(OptOp.UPCAST, 0, 4), new Opt(OptOp.UPCAST, 1, 8)),
        List.of(new Opt(OptOp.UPCAST, 0, 8), new Opt(OptOp.UPCAST, 0, 16)), // both dims fully upcast
        List.of(new Opt(OptOp.UNROLL, 0, 4)),
        List.of(new Opt(OptOp.UNROLL, 0, 3), new Opt(OptOp.UPCAST, 1, 4), new Opt(OptOp.THREAD, 0, 2)),
        List.of(new Opt(OptOp.SWAP, 0, 1), new Opt(OptOp.UPCAST, 0, 2)),
        List.of(new Opt(OptOp.PADTO, 1, 5), new Opt(OptOp.PADTO, 0, 3), new Opt(OptOp.UPCAST, 1, 20)),
        List.of(new Opt(OptOp.PADTO, 0, 16), new Opt(OptOp.UPCAST, 0, 16), new Opt(OptOp.THREAD, 0, 2))))
      check(a.matmul(b), opts);
  }

  @Test void heuristicTilesMatmulAndConv() {
    var mm = a.matmul(b).add(1).relu();
    assertArrayEquals(run(mm, ast -> List.of()), run(mm, ast -> Optimizer.heuristic(ast, 2, 16)), 1e-5f);
    var x = Tensor.rand(2, 4, 9, 9).realize(); var w = Tensor.rand(8, 4, 3, 3).realize();
    var conv = x.conv2d(w, null, 1, 1, 1, 1);
    assertArrayEquals(run(conv, ast -> List.of()), run(conv, ast -> Optimizer.heuristic(ast, 2, 16)), 1e-5f);
    var sm = a.softmax(1);
    assertArrayEquals(run(sm, ast -> List.of()), run(sm, ast -> Optimizer.heuristic(ast, 4, 16)), 1e-6f);
  }

  @Test void paddedTilesCoverOddSizes() {
    var x = Tensor.rand(37, 19).realize(); var y = Tensor.rand(19, 41).realize();
    var mm = x.matmul(y).exp();
    var plain = run(mm, ast -> List.of());
    assertArrayEquals(plain, run(mm, ast -> List.of(new Opt(OptOp.PADTO, 1, 16), new Opt(OptOp.UPCAST, 1, 16), new Opt(OptOp.PADTO, 0, 8),
        new Opt(OptOp.UPCAST, 0, 8))), 1e-5f);
    assertArrayEquals(plain, run(mm, ast -> Optimizer.heuristic(ast, 2, 16)), 1e-5f);
    var big = Tensor.rand(3, 1023).realize().matmul(Tensor.rand(1023, 70).realize());
    var opts = Optimizer.heuristic(Codegen.simplify(((Schedule.Kernel) Schedule.create(List.of(big.uop()), List.of(Devices.get(big.device()))).items().getFirst()).ast()), 1, 16);
    assertTrue(opts.stream().anyMatch(o -> o.op() == OptOp.PADTO), opts::toString);
    assertArrayEquals(run(big, ast -> List.of()), run(big, ast -> Optimizer.heuristic(ast, 2, 16)), 1e-3f);
  }

  @Test void heuristicRegisterTilesMatmul() {
    var ast = ((Schedule.Kernel) Schedule.create(List.of(Tensor.rand(64, 32).realize().matmul(Tensor.rand(32, 64).realize()).uop()),
        List.of(Devices.get(Devices.defaultName()))).items().getFirst()).ast();
    var opts = Optimizer.heuristic(Codegen.simplify(ast), 1, 16);
    assertEquals(List.of(new Opt(OptOp.UPCAST, 0, 8), new Opt(OptOp.UPCAST, 1, 32), new Opt(OptOp.SWAP, 0, 1)), opts);
    assertEquals(List.of(new Opt(OptOp.UPCAST, 0, 4), new Opt(OptOp.UPCAST, 1, 32), new Opt(OptOp.SWAP, 0, 1)),
        Optimizer.heuristic(Codegen.simplify(ast), 1, 8), "with 8-lane vectors the tile's 16 accumulators are 4 rows of 4");
    var prog = Codegen.compile("mm", ast, Devices.get(Devices.defaultName()).target(), opts).linear();
    var acc = prog.stream().filter(u -> u.op() == Ops.DEFINE_ACC).findFirst().orElseThrow();
    assertEquals(256, ((UOp.Acc) acc.arg()).size(), "an 8x32 accumulator tile");
    var firstLoop = prog.stream().filter(u -> u.op() == Ops.RANGE).findFirst().orElseThrow();
    assertEquals(2, firstLoop.rangeSize(), "the loop over column tiles is outermost");
  }

  @Test void badOptsAreRejected() {
    var ast = ((Schedule.Kernel) Schedule.create(List.of(a.matmul(b).uop()), List.of(Devices.get(Devices.defaultName()))).items().getFirst()).ast();
    assertThrows(IllegalArgumentException.class, () -> Optimizer.apply(ast, new Opt(OptOp.UPCAST, 0, 5)));
    assertThrows(IllegalArgumentException.class, () -> Optimizer.apply(ast, new Opt(OptOp.UNROLL, 1, 2)));
    assertThrows(IllegalArgumentException.class, () -> Optimizer.apply(ast, new Opt(OptOp.PADTO, 0, 0)));
  }
}
