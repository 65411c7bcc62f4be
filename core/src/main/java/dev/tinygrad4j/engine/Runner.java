package dev.tinygrad4j.engine;

import dev.tinygrad4j.Flags;
import dev.tinygrad4j.codegen.Linearizer;
import dev.tinygrad4j.codegen.Optimizer;
import dev.tinygrad4j.runtime.Buffer;
import dev.tinygrad4j.runtime.Device;
import dev.tinygrad4j.uop.PatternMatcher;
import dev.tinygrad4j.uop.Symbolic;
import dev.tinygrad4j.uop.UOp;

import java.lang.foreign.Arena;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Runs schedules: compiles each kernel once per device (cached by its AST) and launches it. */
public final class Runner {
  private Runner() {}

  private record CacheKey(Device device, UOp ast) {}
  /** A compiled kernel and the number of elements each of its buffers must hold. */
  private record Compiled(Device.Program program, long[] needs) {}
  private static final Map<CacheKey, Compiled> PROGRAMS = new HashMap<>();
  private static long kernelsRun, kernelNanos;

  /** Number of kernels launched since start (tests use it to count fusion). */
  public static synchronized long kernelsRun() { return kernelsRun; }
  /** Seconds spent inside kernels since start (benchmarks time kernels apart from scheduling and allocation). */
  public static synchronized double kernelSeconds() { return kernelNanos / 1e9; }

  /** Realizes roots on their devices and returns the buffer views holding their values. */
  public static synchronized List<UOp> realize(List<UOp> roots, List<Device> devices) {
    var plan = Schedule.create(roots, devices);
    int debug = Flags.debug();
    for (var item : plan.items()) {
      switch (item) {
        case Schedule.Copy c -> {
          try (var arena = Arena.ofConfined()) {
            var host = arena.allocate(c.src().nbytes());
            c.dst().copyIn(c.src().copyOut(host));
          }
          if (debug >= 1) System.out.printf("copy %8d bytes  %s -> %s%n", c.src().nbytes(), c.src().device().name(), c.dst().device().name());
        }
        case Schedule.Kernel k -> run(k, debug);
      }
    }
    Schedule.commit(plan); // only now: a schedule that failed halfway leaves no half-made results behind
    var views = new java.util.ArrayList<UOp>();
    for (int i = 0; i < roots.size(); i++) views.add(Schedule.realized(roots.get(i), devices.get(i)));
    return views;
  }

  /** Compiles (once) and runs one kernel; its buffers are checked against the index bounds first. */
  static void run(Schedule.Kernel k, int debug) {
    var dev = k.bufs().getFirst().device();
    if (debug >= 5) System.out.println(k.ast());
    var prog = PROGRAMS.get(new CacheKey(dev, k.ast()));
    if (prog == null) {
      var ast = PatternMatcher.graphRewrite(k.ast(), Symbolic.RULES); // opts read clean index expressions
      var opts = Flags.getInt("NOOPT", 0) != 0 ? List.<Optimizer.Opt>of() : dev.localSize() > 0 ? Optimizer.gpu(ast, dev.localSize()) : Optimizer.heuristic(ast, dev.threads());
      if (debug >= 3) System.out.println("opts for " + k.name() + ": " + opts);
      var linear = Linearizer.linearize(Optimizer.apply(ast, opts), dev.ops());
      if (debug >= 4) System.out.println(Linearizer.format(k.name(), linear));
      var needs = Linearizer.needs(k.name(), linear); // before any code is made: a bad index throws here
      prog = new Compiled(dev.compile(k.name(), linear), needs);
      PROGRAMS.put(new CacheKey(dev, k.ast()), prog);
    }
    for (int i = 0; i < prog.needs().length; i++)
      if (i >= k.bufs().size() || k.bufs().get(i).size() < prog.needs()[i]) throw new IllegalStateException("kernel " + k.name()
          + " reads or writes " + prog.needs()[i] + " elements of buffer " + i + ", which has " + (i < k.bufs().size() ? k.bufs().get(i).size() : 0));
    var mems = k.bufs().stream().map(Buffer::mem).toArray();
    long t0 = System.nanoTime();
    prog.program().run(mems);
    long ns = System.nanoTime() - t0;
    kernelsRun++;
    kernelNanos += ns;
    if (debug >= 2) System.out.printf("%-8s kernel %-24s bufs %-3d %10.3f ms%n", dev.name(), k.name(), k.bufs().size(), ns / 1e6);
    else if (debug >= 1) System.out.printf("%-8s kernel %-24s bufs %d%n", dev.name(), k.name(), k.bufs().size());
  }
}
