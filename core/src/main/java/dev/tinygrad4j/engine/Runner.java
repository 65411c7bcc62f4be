package dev.tinygrad4j.engine;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.Flags;
import dev.tinygrad4j.codegen.Codegen;
import dev.tinygrad4j.codegen.Linearizer;
import dev.tinygrad4j.codegen.ProgramSpec;
import dev.tinygrad4j.runtime.Buffer;
import dev.tinygrad4j.runtime.Device;
import dev.tinygrad4j.uop.UOp;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs schedules: compiles each kernel once per device through {@link Codegen#compile} (the kernels of a schedule
 * in parallel), caches the result by AST, and launches it after checking its buffers against the spec's bounds.
 */
public final class Runner {
  private Runner() {}

  /** A kernel ready to launch: its spec and its device's program. */
  public static final class Compiled {
    private final ProgramSpec spec;
    private final Device.Program program;
    private final Map<List<Integer>, long[]> needs = new java.util.concurrent.ConcurrentHashMap<>(); // a symbolic kernel's, by values

    private final long[] fixed; // the needs of a kernel whose accesses do not depend on variables (the hot path)

    public Compiled(ProgramSpec spec, Device.Program program) {
      this.spec = spec;
      this.program = program;
      this.fixed = spec.sized().isEmpty() ? spec.params().stream().mapToLong(ProgramSpec.Param::needs).toArray() : null;
    }
    /** What codegen made. */
    public ProgramSpec spec() { return spec; }
    /** The device's program. */
    public Device.Program program() { return program; }

    /** The elements each buffer must hold at these variable values (worked out once per values). */
    public long[] needs(int[] vars) {
      if (fixed != null) return fixed;
      var key = java.util.Arrays.stream(vars).boxed().toList();
      var n = needs.get(key);
      if (n == null) {
        if (needs.size() > 1024) needs.clear();
        needs.put(key, n = spec.needs(vars));
      }
      return n;
    }
  }

  /**
   * What a capture records: a kernel launch on buffers, a copy between devices, or the use of a copy kept from
   * before (valid while its source has the version it had), or a check of a computed flag.
   */
  public sealed interface Step permits Launch, Transfer, Kept, Verify {}
  /** A launch of a compiled kernel on buffers (one per parameter; the first is written) with its variables' values. */
  public record Launch(Compiled kernel, List<Buffer> bufs, int[] vars) implements Step {}
  /** A copy of src's contents into dst. */
  public record Transfer(Buffer dst, Buffer src) implements Step {}
  /** A copy made before the capture and used by it: valid while source keeps this version. */
  public record Kept(Buffer copy, Buffer source, long version) implements Step {}
  /** A check that a computed int32 flag is 0; else message is the error. */
  public record Verify(Buffer flag, String message) implements Step {}
  private record Capture(List<Step> log, Set<UOp> realized, Map<Buffer, UOp> counts) {}
  private static final ThreadLocal<Capture> CAPTURE = new ThreadLocal<>();

  /**
   * Runs body and appends every step it runs on this thread to log, in order; returns body's result. While it runs,
   * results remembered from before are computed again (their kernels are part of what is captured).
   */
  public static <T> T capture(List<Step> log, java.util.function.Supplier<T> body) { return capture(log, new java.util.HashMap<>(), body); }

  /**
   * As {@link #capture(List, java.util.function.Supplier)}; counts receives, for each buffer a symbolic kernel of the
   * capture wrote, its element count as an expression of the variables.
   */
  public static <T> T capture(List<Step> log, Map<Buffer, UOp> counts, java.util.function.Supplier<T> body) {
    var outer = CAPTURE.get();
    CAPTURE.set(new Capture(log, java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>()), counts));
    try {
      return body.get();
    } finally {
      CAPTURE.set(outer);
    }
  }

  /** Whether a result remembered for node u may be used: always, except while capturing a result from before. */
  static boolean usable(UOp u) {
    var c = CAPTURE.get();
    return c == null || c.realized().contains(u);
  }

  /** Notes, while capturing, the nodes a schedule of the capture realized. */
  static void realized(java.util.Collection<UOp> nodes) {
    var c = CAPTURE.get();
    if (c != null) c.realized().addAll(nodes);
  }

  /** Notes, while capturing, that a symbolic kernel writes buffer b, which holds count elements (an expression of variables). */
  static void counted(Buffer b, UOp count) {
    var c = CAPTURE.get();
    if (c != null) c.counts().put(b, count);
  }

  /** Notes, while capturing, that a copy kept from before was used. */
  static void kept(Buffer copy, Buffer source) {
    var c = CAPTURE.get();
    if (c != null) c.log().add(new Kept(copy, source, source.version()));
  }

  private record Key(Device device, UOp ast) {}
  /**
   * Compiled kernels by device and AST, the KERNELS_KEPT (default 4096) most recently used: one dropped here and
   * held nowhere else (a JIT replay holds its own) is collected, and with it its device code (the CPU device unloads a
   * library once none of its kernels is reachable), so ever-new shapes do not fill memory and the process' mappings.
   */
  private static final Map<Key, CompletableFuture<Compiled>> PROGRAMS = java.util.Collections.synchronizedMap(
      new java.util.LinkedHashMap<>(256, 0.75f, true) {
        @Override protected boolean removeEldestEntry(Map.Entry<Key, CompletableFuture<Compiled>> e) {
          int keep = Flags.getInt("KERNELS_KEPT", 4096); // (may have been lowered: trims to it, eldest first)
          for (var it = entrySet().iterator(); size() > keep; ) { it.next(); it.remove(); }
          return false;
        }
      });
  private static final ExecutorService COMPILERS = Executors.newFixedThreadPool(Runtime.getRuntime().availableProcessors(), r -> {
    var t = new Thread(r, "tinygrad4j-compile");
    t.setDaemon(true);
    return t;
  });
  // counters only, never a lock: compiler threads must not wait for a thread that waits for them
  private static final AtomicLong KERNELS_RUN = new AtomicLong(), KERNEL_NANOS = new AtomicLong(), COMPILED = new AtomicLong(), SCHEDULES = new AtomicLong();

  /** Number of kernels launched since start (tests use it to count fusion). */
  public static long kernelsRun() { return KERNELS_RUN.get(); }
  /** Seconds spent inside kernels since start (benchmarks time kernels apart from scheduling and allocation). */
  public static double kernelSeconds() { return KERNEL_NANOS.get() / 1e9; }
  /** Number of schedules made since start (a JIT replay makes none). */
  public static long schedules() { return SCHEDULES.get(); }
  /** Number of kernels compiled since start (each AST once per device). */
  public static long kernelsCompiled() { return COMPILED.get(); }

  private static final Object LOCK = new Object();
  private static long commits; // schedules run and committed (guarded by LOCK): a plan made before another commit is stale

  /**
   * Realizes roots on their devices; returns the buffers assigns overwrote in place. Scheduling, launching and
   * committing hold one lock; waiting for new kernels to compile does not, so threads with new shapes compile side by
   * side (one compile for a kernel two threads need) while others run. A plan waited for is run if nothing was
   * committed meanwhile, else made again.
   */
  public static List<Buffer> realize(List<UOp> roots, List<Device> devices) {
    for (int attempt = 0; ; attempt++) {
      Schedule.Plan plan;
      List<CompletableFuture<Compiled>> programs;
      long seen;
      synchronized (LOCK) {
        plan = Schedule.create(roots, devices);
        SCHEDULES.incrementAndGet();
        programs = programsFor(plan);
        if (attempt >= 2 || programs.stream().allMatch(CompletableFuture::isDone)) return run(plan, programs);
        seen = commits;
      }
      try {
        CompletableFuture.allOf(programs.toArray(CompletableFuture[]::new)).join();
      } catch (CompletionException e) {
        // a kernel that failed to compile: run() reports it
      }
      synchronized (LOCK) {
        if (commits == seen) return run(plan, programs);
      }
    }
  }

  /** Runs body holding the lock schedules run under (a JIT replay launches its steps so, as a schedule does). */
  public static <T> T exclusive(java.util.function.Supplier<T> body) {
    synchronized (LOCK) { return body.get(); }
  }

  /**
   * The program of each kernel of a plan, in order: every kernel not compiled before starts compiling now (codegen
   * on all cores, then each device compiles its new kernels together).
   */
  private static List<CompletableFuture<Compiled>> programsFor(Schedule.Plan plan) {
    var programs = new ArrayList<CompletableFuture<Compiled>>();
    var fresh = new java.util.LinkedHashMap<Device, List<Job>>();
    for (var item : plan.items()) {
      if (!(item instanceof Schedule.Kernel k)) continue;
      var mine = new CompletableFuture<Compiled>();
      var known = PROGRAMS.putIfAbsent(new Key(k.device(), k.ast()), mine);
      if (known == null) fresh.computeIfAbsent(k.device(), d -> new ArrayList<>()).add(new Job(k.name(), k.ast(), mine));
      programs.add(known != null ? known : mine);
    }
    fresh.forEach(Runner::compileTogether);
    return programs;
  }

  /** Runs a plan's steps (each kernel once its program is ready) and commits its results; holds LOCK. */
  private static List<Buffer> run(Schedule.Plan plan, List<CompletableFuture<Compiled>> programs) {
    int next = 0;
    for (var item : plan.items()) {
      switch (item) {
        case Schedule.Copy c -> transfer(c.dst(), c.src());
        case Schedule.Kernel k -> launch(join(programs.get(next++)), k.bufs(), k.vars());
      }
    }
    Schedule.commit(plan); // only now: a schedule that failed halfway leaves no half-made results behind
    commits++;
    return plan.overwritten();
  }

  /** The kernel compiled for dev (once per AST; later calls get the same program). */
  public static Compiled compile(Device dev, String name, UOp ast) { return join(compileAsync(dev, name, ast)); }

  private static CompletableFuture<Compiled> compileAsync(Device dev, String name, UOp ast) {
    return PROGRAMS.computeIfAbsent(new Key(dev, ast), k -> CompletableFuture.supplyAsync(() -> {
      var spec = codegen(dev, name, ast);
      var program = dev.compile(spec);
      COMPILED.incrementAndGet();
      return new Compiled(spec, program);
    }, COMPILERS));
  }

  /** A kernel to compile and where its result goes. */
  private record Job(String name, UOp ast, CompletableFuture<Compiled> result) {}

  /** Codegen for each job on the compile pool, then one {@link Device#compileAll} for those that passed it. */
  private static void compileTogether(Device dev, List<Job> jobs) {
    var specs = jobs.stream().map(j -> CompletableFuture.supplyAsync(() -> codegen(dev, j.name(), j.ast()), COMPILERS)).toList();
    CompletableFuture.allOf(specs.toArray(CompletableFuture[]::new)).handleAsync((ignored, failure) -> {
      try {
        var ready = new ArrayList<Job>();
        var readySpecs = new ArrayList<ProgramSpec>();
        for (int i = 0; i < jobs.size(); i++) {
          try {
            readySpecs.add(specs.get(i).join());
            ready.add(jobs.get(i));
          } catch (CompletionException e) {
            jobs.get(i).result().completeExceptionally(e.getCause());
          }
        }
        List<Device.Program> programs;
        try {
          programs = dev.compileAll(readySpecs);
        } catch (RuntimeException | Error together) { // each alone, so that each kernel gets its own result or error
          for (int i = 0; i < ready.size(); i++) {
            try {
              var program = dev.compile(readySpecs.get(i));
              COMPILED.incrementAndGet();
              ready.get(i).result().complete(new Compiled(readySpecs.get(i), program));
            } catch (RuntimeException | Error e) {
              ready.get(i).result().completeExceptionally(e);
            }
          }
          return null;
        }
        COMPILED.addAndGet(ready.size()); // counted before anyone can see them done
        for (int i = 0; i < ready.size(); i++) ready.get(i).result().complete(new Compiled(readySpecs.get(i), programs.get(i)));
      } catch (RuntimeException | Error e) {
        for (var j : jobs) j.result().completeExceptionally(e); // no-op for those already complete
      }
      return null;
    }, COMPILERS);
  }

  private static ProgramSpec codegen(Device dev, String name, UOp ast) {
    int debug = Flags.debug();
    if (debug >= 5) System.out.println(ast);
    var spec = Codegen.compile(name, ast, dev.target());
    if (debug >= 3) System.out.println("opts for " + name + ": " + spec.opts());
    if (debug >= 4) System.out.println(Linearizer.format(name, spec.linear()) + spec.source());
    return spec;
  }

  private static Compiled join(CompletableFuture<Compiled> f) {
    try {
      return f.join();
    } catch (CompletionException e) {
      synchronized (PROGRAMS) { PROGRAMS.values().remove(f); } // a failed compile is not remembered: the next call tries again and gets the error again
      if (e.getCause() instanceof RuntimeException r) throw r;
      if (e.getCause() instanceof Error err) throw err;
      throw e;
    }
  }

  /** Compiles (once) and launches one kernel of a schedule. */
  public static void run(Schedule.Kernel k) { launch(compile(k.device(), k.name(), k.ast()), k.bufs(), k.vars()); }

  /** Copies src's contents into dst through the host. */
  public static void transfer(Buffer dst, Buffer src) {
    try (var arena = Arena.ofConfined()) {
      var host = arena.allocate(src.nbytes());
      dst.copyIn(src.copyOut(host));
    }
    var c = CAPTURE.get();
    if (c != null) c.log().add(new Transfer(dst, src));
    if (Flags.debug() >= 1) System.out.printf("copy %8d bytes  %s -> %s%n", src.nbytes(), src.device().name(), dst.device().name());
  }

  /**
   * Reads the int32 flag a schedule computed (nonzero where a check found a bad value, see {@code Tensor.check}) and
   * throws IllegalArgumentException(message) unless it is 0; a capture records the check, so replays make it too.
   */
  public static void verify(Buffer flag, String message) {
    var c = CAPTURE.get();
    if (c != null) c.log().add(new Verify(flag, message));
    if (flagged(flag)) throw new IllegalArgumentException(message);
  }

  /** Whether a check's int32 flag is set. */
  public static boolean flagged(Buffer flag) {
    try (var arena = Arena.ofConfined()) {
      return flag.copyOut(arena.allocate(flag.nbytes())).get(java.lang.foreign.ValueLayout.JAVA_INT, 0) != 0;
    }
  }

  private record Values(Device device, List<Integer> values) {}
  /** Buffers holding variable values, the most recently used per device and values (a launch reads them, none writes). */
  private static final Map<Values, Buffer> VALUES = java.util.Collections.synchronizedMap(new java.util.LinkedHashMap<>(64, 0.75f, true) {
    @Override protected boolean removeEldestEntry(Map.Entry<Values, Buffer> e) { return size() > 1024; }
  });

  private static Buffer values(Device dev, int[] vars) {
    return VALUES.computeIfAbsent(new Values(dev, java.util.Arrays.stream(vars).boxed().toList()),
        k -> new Buffer(dev, DType.INT32, vars.length).copyIn(java.lang.foreign.MemorySegment.ofArray(vars.clone())));
  }

  /** Launches a compiled kernel with no variables on these buffers (one per parameter) once they pass the spec's bounds. */
  public static void launch(Compiled c, List<Buffer> bufs) { launch(c, bufs, new int[0]); }

  /**
   * Launches a compiled kernel on these buffers (one per buffer parameter; a symbolic kernel's values buffer is made
   * here from vars) once they pass the spec's bounds at these variable values.
   */
  public static void launch(Compiled c, List<Buffer> bufs, int[] vars) {
    var spec = c.spec();
    int values = spec.vars().isEmpty() ? 0 : 1; // a symbolic kernel's last parameter: the values, passed here
    if (vars.length != spec.vars().size())
      throw new IllegalStateException("kernel " + spec.name() + " reads the variables " + spec.vars() + ", given " + vars.length + " values");
    if (bufs.size() + values != spec.params().size())
      throw new IllegalStateException("kernel " + spec.name() + " takes " + (spec.params().size() - values) + " buffers, got " + bufs.size());
    var needs = c.needs(vars);
    var mems = new Object[bufs.size() + values];
    if (values > 0) mems[bufs.size()] = values(bufs.getFirst().device(), vars).mem();
    for (int i = 0; i < bufs.size(); i++) {
      var b = bufs.get(i);
      long need = needs[i];
      if (b.size() < need) throw new IllegalStateException("kernel " + spec.name() + " reads or writes " + need + " elements of buffer " + i + ", which has " + b.size());
      mems[i] = b.mem();
    }
    int debug = Flags.debug();
    long t0 = System.nanoTime();
    c.program().run(mems);
    long ns = System.nanoTime() - t0;
    bufs.getFirst().written();
    var cap = CAPTURE.get();
    if (cap != null) cap.log().add(new Launch(c, List.copyOf(bufs), vars));

    KERNELS_RUN.incrementAndGet();
    KERNEL_NANOS.addAndGet(ns);
    var dev = bufs.getFirst().device().name();
    if (debug >= 2) System.out.printf("%-8s kernel %-24s bufs %-3d %10.3f ms%n", dev, spec.name(), bufs.size(), ns / 1e6);
    else if (debug >= 1) System.out.printf("%-8s kernel %-24s bufs %d%n", dev, spec.name(), bufs.size());
  }
}
