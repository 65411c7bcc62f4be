package dev.tinygrad4j.runtime;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.Flags;
import dev.tinygrad4j.codegen.Codegen;
import dev.tinygrad4j.codegen.ProgramSpec;
import dev.tinygrad4j.codegen.Target;
import dev.tinygrad4j.renderer.CStyle;
import dev.tinygrad4j.renderer.JvmBytecode;
import dev.tinygrad4j.uop.Ops;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** CPU: kernels rendered as C, compiled by the system C compiler (cached on disk), called through java.lang.foreign. */
public final class CpuDevice implements Device {
  private record Native(MemorySegment seg) {}
  // memory comes from aligned_alloc/free: no zeroing, and freeing needs no arena handshake across threads
  private static final MethodHandle ALLOC = libc("aligned_alloc", FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
  private static final MethodHandle FREE = libc("free", FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));

  private static MethodHandle libc(String name, FunctionDescriptor fd) {
    var linker = Linker.nativeLinker();
    return linker.downcallHandle(linker.defaultLookup().find(name).orElseThrow(), fd);
  }

  private static final String[] COMPILERS = {"cc", "gcc", "clang"};
  /**
   * How kernels are compiled: C semantics pinned to the interpreter's (wrapping ints, no errno, no aliasing tricks).
   * No loop if-conversion: GCC 12.2 at -O3 vectorized a kernel's outer loop wrongly through it (a max over
   * where(index == place, position, -1), then (0 &lt; m) | (m == 0) selecting a float: every output 0); the kernels'
   * own vector code does not need it.
   */
  public static final List<String> FLAGS = List.of("-O3", "-march=native", "-shared", "-fPIC", "-fwrapv", "-fno-strict-aliasing",
      "-fno-math-errno", "-ffp-contract=off", "-fno-tree-loop-if-convert", "-Wall");

  private final String cc = compiler();
  private final int lanes = Flags.getInt("CPU_LANES", avx512() ? 16 : 8);
  private final Target target = new Target("CPU", java.util.EnumSet.allOf(Ops.class), lanes >= 16 ? List.of(16, 8, 4, 1) : lanes >= 8 ? List.of(8, 4, 1) : List.of(),
      java.util.Set.of(Ops.CAST, Ops.WHERE), 0, Threads.count(), Target.Memory.NATIVE, new CStyle());

  /** Whether this machine's CPU has 512-bit vectors (cc -march=native then targets them). */
  private static boolean avx512() {
    try {
      return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().anyMatch(l -> l.startsWith("flags") && l.contains(" avx512f"));
    } catch (java.io.IOException | RuntimeException e) {
      return false;
    }
  }

  @Override public String name() { return "CPU"; }
  @Override public String describe() { return "C via " + cc + ", " + Threads.count() + " threads, " + Math.max(1, lanes) + "-lane vectors"; }
  @Override public Target target() { return target; }

  // freed blocks are kept for reuse (up to CACHED_MAX bytes): fresh memory costs page faults on first touch
  private static final long CACHED_MAX = 4L << 30;
  private final java.util.Map<Long, java.util.ArrayDeque<MemorySegment>> cached = new java.util.HashMap<>();
  private long cachedBytes;

  private long allocatedSinceCollect; // bytes handed out since this device last asked for a collection

  @Override public Object alloc(DType dtype, long size) {
    long bytes = Math.max(64, (size * dtype.itemsize() + 63) / 64 * 64);
    for (int attempt = 0; ; attempt++) {
      synchronized (cached) {
        allocatedSinceCollect += bytes;
        var reuse = cached.getOrDefault(bytes, new java.util.ArrayDeque<>()).poll();
        if (reuse != null) {
          cachedBytes -= bytes;
          return new Native(reuse.reinterpret(size * dtype.itemsize()));
        }
        // a large block not in the cache: unreachable buffers of the same size (the last run of the same model)
        // are likely waiting for a collection; fresh memory costs a page fault per 4 KB on first touch
        if (attempt > 0 || bytes < 1 << 20 || allocatedSinceCollect < 256L << 20) break;
        allocatedSinceCollect = 0;
      }
      Buffer.collect();
    }
    boolean capped = Flags.getInt("CPU_MEMORY_MB", 0) > 0;
    long room = bytes >= 1 << 20 || capped ? room() : Long.MAX_VALUE; // (small blocks skip reading /proc/meminfo)
    if (bytes > room) { releaseCached(); room = room(); } // blocks kept for reuse go back first
    if (bytes > room) // touching more than there is would bring the kernel's OOM killer, not an exception
      throw new IllegalStateException("CPU: a buffer of " + size + " " + dtype.lowerName() + " (" + bytes + " bytes) does not fit: "
          + Math.max(0, room) + " bytes are available" + (capped ? " under CPU_MEMORY_MB" : ""));
    MemorySegment p;
    try {
      p = (MemorySegment) ALLOC.invokeExact(64L, bytes);
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
    if (p.equals(MemorySegment.NULL)) throw new IllegalStateException("CPU: cannot allocate " + bytes + " bytes");
    var seg = p.reinterpret(size * dtype.itemsize());
    seg.fill((byte) 0); // fresh memory: its pages are mapped now, not inside a kernel (reused blocks keep old bytes)
    return new Native(seg);
  }
  /**
   * Bytes a fresh block may take: CPU_MEMORY_MB less what live buffers hold when that flag is set, else the memory
   * /proc/meminfo calls available (no limit where it cannot be read).
   */
  private static long room() {
    int mb = Flags.getInt("CPU_MEMORY_MB", 0);
    if (mb > 0) return ((long) mb << 20) - Buffer.liveBytes();
    try {
      for (var l : Files.readAllLines(Path.of("/proc/meminfo")))
        if (l.startsWith("MemAvailable:")) return Long.parseLong(l.replaceAll("\\D", "")) * 1024;
    } catch (java.io.IOException | RuntimeException e) {
      // no such file: no limit
    }
    return Long.MAX_VALUE;
  }

  /** Frees the blocks kept for reuse. */
  private void releaseCached() {
    synchronized (cached) {
      for (var q : cached.values()) for (var seg : q) release(seg);
      cached.clear();
      cachedBytes = 0;
    }
  }

  @Override public void free(Object mem) {
    var seg = ((Native) mem).seg();
    long bytes = Math.max(64, (seg.byteSize() + 63) / 64 * 64);
    synchronized (cached) {
      if (cachedBytes + bytes <= CACHED_MAX) {
        cached.computeIfAbsent(bytes, k -> new java.util.ArrayDeque<>()).push(seg.reinterpret(bytes));
        cachedBytes += bytes;
        return;
      }
    }
    release(seg);
  }

  private static void release(MemorySegment seg) {
    try {
      FREE.invokeExact(seg);
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }
  @Override public void copyIn(Object mem, MemorySegment src) { ((Native) mem).seg().copyFrom(src); }
  @Override public void copyOut(MemorySegment dst, Object mem) { dst.copyFrom(((Native) mem).seg().asSlice(0, dst.byteSize())); }

  /**
   * Which tiers run kernels (flag CPU_TIERS): JVM then C (default: a kernel runs at once as JVM bytecode over the
   * same native memory while the C compiler works in the background, then the C version takes over), C only (wait
   * for the compiler), or JVM only.
   */
  public enum Tiers { BOTH, C, JVM }

  /** The CPU_TIERS flag: "JVM,C" (default), "C" or "JVM". */
  public static Tiers tiers() {
    var v = Flags.get("CPU_TIERS");
    if (v == null || v.isBlank()) return Tiers.BOTH;
    return switch (v.trim().toUpperCase(java.util.Locale.ROOT).replace(" ", "")) {
      case "JVM,C", "BOTH" -> Tiers.BOTH;
      case "C" -> Tiers.C;
      case "JVM" -> Tiers.JVM;
      default -> throw new IllegalArgumentException("flag CPU_TIERS must be JVM,C or C or JVM, got '" + v + "'");
    };
  }

  // the first tier: the same linear program printed as bytecode over the buffers' native memory
  // (made on first use: asking the vector API for its width loads it, ~0.1 s)
  private static final class FirstTier {
    static final Target TARGET = new Target("CPU", java.util.EnumSet.allOf(Ops.class), JvmBytecode.vectorWidth() > 1 ? List.of(JvmBytecode.vectorWidth()) : List.of(),
        java.util.Set.of(Ops.MAX), 0, Threads.count(), Target.Memory.NATIVE, new JvmBytecode(Target.Memory.NATIVE));
  }

  @Override public Program compile(ProgramSpec spec) { return compile(spec, tiers()); }

  /** The kernel's program in these tiers. */
  public Program compile(ProgramSpec spec, Tiers tiers) { return compileAll(List.of(spec), tiers).getFirst(); }

  /** Kernels not in the disk cache compile together: one C file per core (a compiler run costs ~0.05 s beyond its kernels). */
  @Override public List<Program> compileAll(List<ProgramSpec> specs) { return compileAll(specs, tiers()); }

  /**
   * The kernels' programs in these tiers. Kernels the disk cache lacks are compiled in one C file per core; with both
   * tiers, each of them whose work is at most CPU_TIER_MAX_WORK runs as JVM bytecode until its file is compiled, the
   * others wait for it.
   */
  public List<Program> compileAll(List<ProgramSpec> specs, Tiers tiers) {
    var units = specs.stream().map(this::unit).toList();
    var out = new ArrayList<Program>();
    if (tiers == Tiers.JVM) {
      for (var spec : specs) out.add(firstTier(spec));
      return out;
    }
    var found = new java.util.HashMap<String, MemorySegment>();
    for (var u : units) if (!found.containsKey(u.key())) found.put(u.key(), cachedFunction(u));
    var missing = units.stream().filter(u -> found.get(u.key()) == null).distinct().toList();
    // round-robin by work, so that each file gets a share of the heavy kernels
    int files = Math.max(1, Math.min(missing.size(), Runtime.getRuntime().availableProcessors()));
    var groups = new ArrayList<List<Unit>>();
    for (int i = 0; i < files; i++) groups.add(new ArrayList<>());
    var byWork = new ArrayList<>(missing);
    byWork.sort(java.util.Comparator.comparingLong(Unit::work).reversed());
    for (int i = 0; i < byWork.size(); i++) groups.get(i % files).add(byWork.get(i));
    boolean background = tiers == Tiers.BOTH;
    var built = new java.util.HashMap<String, CompletableFuture<SymbolLookup>>();
    for (var g : groups) {
      var lib = CompletableFuture.supplyAsync(() -> build(g, background), BACKGROUND);
      for (var u : g) built.put(u.key(), lib);
    }
    for (int i = 0; i < specs.size(); i++) {
      var spec = specs.get(i);
      var u = units.get(i);
      var lib = built.get(u.key());
      if (lib == null) out.add(nativeProgram(spec, found.get(u.key())));
      else {
        // a file that failed to compile: this kernel alone, for its own library or its own error
        var c = lib.handle((library, error) -> nativeProgram(spec, function(error == null ? library : build(List.of(u), background), u)));
        out.add(background && spec.work() <= FIRST_TIER_MAX_WORK ? new Tiered(spec.name(), firstTier(spec), c) : join(c));
      }
    }
    return out;
  }

  /** A kernel's C code for a compiler run: the prelude, the kernel, and its key in the disk cache. */
  private record Unit(String key, String name, String prelude, String kernel, long work) {
    @Override public boolean equals(Object o) { return o instanceof Unit u && u.key.equals(key); }
    @Override public int hashCode() { return key.hashCode(); }
  }

  private Unit unit(ProgramSpec spec) {
    var src = ((ProgramSpec.Source.Text) spec.source()).code();
    int at = src.lastIndexOf("void " + spec.name() + "(");
    if (at < 0) throw new IllegalStateException("CPU: no function " + spec.name() + " in its source");
    return new Unit(key(src), spec.name(), src.substring(0, at), src.substring(at), spec.work());
  }

  private static <T> T join(CompletableFuture<T> f) {
    try {
      return f.join();
    } catch (java.util.concurrent.CompletionException e) {
      if (e.getCause() instanceof RuntimeException r) throw r;
      if (e.getCause() instanceof Error err) throw err;
      throw e;
    }
  }

  /**
   * Kernels of more work than this wait for their C version: a compile takes ~0.1 s, and in that time the JVM tier
   * gets through about this much (its scalar loops run 5-20x slower than C's vectors); flag CPU_TIER_MAX_WORK.
   */
  private static final long FIRST_TIER_MAX_WORK = Flags.getInt("CPU_TIER_MAX_WORK", 1 << 25);

  /** The kernel as JVM bytecode over the buffers' native memory: ready in about a millisecond. */
  Program firstTier(ProgramSpec spec) {
    var source = (ProgramSpec.Source.ClassFile) Codegen.render(spec.name(), spec.params(), spec.linear(), FirstTier.TARGET);
    var program = JvmDevice.load(spec.name(), source, spec.threads() >= 0 ? m -> spec.threads()
        : m -> spec.threads(values((MemorySegment) m[m.length - 1], spec.vars().size()))); // (it runs over the segments)
    return mems -> {
      var segs = new Object[mems.length];
      for (int i = 0; i < mems.length; i++) segs[i] = ((Native) mems[i]).seg();
      program.run(segs);
    };
  }

  /** Runs the first tier until the C version is ready, then the C version (the first tier if the compiler failed). */
  private static final class Tiered implements Program {
    private final String name;
    private volatile Program now;
    private volatile CompletableFuture<Program> next; // null once the C version runs (or failed)

    Tiered(String name, Program first, CompletableFuture<Program> next) {
      this.name = name;
      this.now = first;
      this.next = next;
    }

    @Override public void run(Object[] mems) {
      var n = next;
      if (n != null && n.isDone()) swap(n);
      boolean firstTier = next != null;
      now.run(mems);
      if (firstTier) FIRST_TIER_RUNS.incrementAndGet();
    }

    private synchronized void swap(CompletableFuture<Program> n) {
      if (next != n) return;
      try {
        now = n.join();
      } catch (java.util.concurrent.CompletionException e) {
        System.err.println("CPU: kernel " + name + " stays JVM bytecode, its C version failed: " + e.getCause().getMessage().lines().findFirst().orElse(""));
      }
      next = null;
    }
  }

  private static final java.util.concurrent.atomic.AtomicLong FIRST_TIER_RUNS = new java.util.concurrent.atomic.AtomicLong();
  /** Kernel launches that ran as JVM bytecode while their C version compiled. */
  public static long firstTierRuns() { return FIRST_TIER_RUNS.get(); }

  // C compiles of the tiered mode: one per core, at low priority (the first tier is running meanwhile)
  private static final ExecutorService BACKGROUND = Executors.newFixedThreadPool(Runtime.getRuntime().availableProcessors(), r -> {
    var t = new Thread(r, "tinygrad4j-cc");
    t.setDaemon(true);
    return t;
  });

  /** The C kernel in a compiled library, called through a downcall handle. */
  private static Program nativeProgram(ProgramSpec spec, MemorySegment fn) {
    int nbufs = spec.params().size(), n = spec.threads();
    var layouts = new ArrayList<MemoryLayout>();
    for (int i = 0; i < nbufs; i++) layouts.add(ValueLayout.ADDRESS);
    if (n != 0) { layouts.add(ValueLayout.JAVA_INT); layouts.add(ValueLayout.JAVA_INT); }
    MethodHandle h = Linker.nativeLinker().downcallHandle(fn, FunctionDescriptor.ofVoid(layouts.toArray(MemoryLayout[]::new)))
        .asSpreader(Object[].class, layouts.size());
    return mems -> {
      var args = new Object[layouts.size()];
      for (int i = 0; i < nbufs; i++) args[i] = ((Native) mems[i]).seg();
      int count = n >= 0 ? n : spec.threads(values(((Native) mems[nbufs - 1]).seg(), spec.vars().size())); // a symbolic range: its size now
      if (n == 0) call(h, args);
      else Threads.split(count, (start, end) -> {
        var a = args.clone();
        a[nbufs] = start;
        a[nbufs + 1] = end;
        call(h, a);
      });
    };
  }

  /** The first n int32 values of a segment (a symbolic kernel's values buffer). */
  private static int[] values(MemorySegment seg, int n) {
    var v = new int[n];
    for (int i = 0; i < n; i++) v[i] = seg.getAtIndex(ValueLayout.JAVA_INT, i);
    return v;
  }

  private static void call(MethodHandle h, Object[] args) {
    try {
      h.invokeExact(args);
    } catch (Throwable t) {
      throw new IllegalStateException("CPU: kernel call failed", t);
    }
  }

  /** The cache key of a C source: its text, the flags, the compiler and the library layout. */
  private String key(String src) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest((LAYOUT + cc + FLAGS + src).getBytes(StandardCharsets.UTF_8))).substring(0, 32);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A kernel's function in a library just built for it. */
  private static MemorySegment function(SymbolLookup lib, Unit u) {
    return lib.find(symbol(u.key())).orElseThrow(() -> new IllegalStateException("CPU: kernel " + u.name() + " missing from its library"));
  }

  /**
   * A kernel's function from the disk cache (never with CACHE=0), or null. Nothing unverified is loaded: the library
   * must match the checksum written with it and hold the function named by the kernel's key; a file that fails is
   * reported in one line and compiled again (the new file replaces it).
   */
  private static MemorySegment cachedFunction(Unit u) {
    if (Flags.getInt("CACHE", 1) == 0) return null;
    var link = cacheDir().resolve(u.key() + ".so");
    if (!Files.exists(link)) return null;
    Path lib;
    try {
      lib = link.toRealPath();
      if (!VERIFIED.contains(lib)) {
        var sum = lib.resolveSibling(lib.getFileName() + ".sha256");
        if (!Files.exists(sum) || !Files.readString(sum).strip().equals(sha256(Files.readAllBytes(lib)))) {
          System.err.println("CPU: kernel cache file " + lib + " does not match its checksum; compiling it again");
          return null;
        }
        VERIFIED.add(lib);
      }
    } catch (IOException e) {
      System.err.println("CPU: kernel cache file " + link + " cannot be read (" + e.getMessage() + "); compiling it again");
      return null;
    }
    try {
      var fn = SymbolLookup.libraryLookup(lib, Arena.ofAuto()).find(symbol(u.key())); // unloaded once no kernel of it is reachable
      if (fn.isEmpty()) System.err.println("CPU: kernel cache file " + lib + " lacks kernel " + u.name() + "; compiling it again");
      return fn.orElse(null);
    } catch (IllegalArgumentException e) {
      System.err.println("CPU: kernel cache file " + lib + " does not load (" + e.getMessage() + "); compiling it again");
      return null;
    }
  }

  // libraries whose checksum this process has checked (a group's library serves many kernels)
  private static final java.util.Set<Path> VERIFIED = java.util.concurrent.ConcurrentHashMap.newKeySet();

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** How libraries are laid out (in every key: a library of another layout is never loaded). */
  private static final String LAYOUT = "kernels named k_<key>, several per library, each library with its sha256\n";

  /** A kernel's function in its library: named by its key, so kernels of one name can share a library. */
  private static String symbol(String key) { return "k_" + key; }

  /**
   * Compiles kernels (of one prelude) into one library (at low priority if background): a temporary name renamed
   * into place, then, for several kernels, a link per kernel key to it, so each is found in the disk cache alone.
   */
  private SymbolLookup build(List<Unit> units, boolean background) {
    try {
      boolean cache = Flags.getInt("CACHE", 1) != 0;
      var dir = cache ? cacheDir() : Files.createTempDirectory("tinygrad4j-cpu");
      Files.createDirectories(dir);
      var src = new StringBuilder(units.getFirst().prelude());
      for (var u : units) {
        if (!u.prelude().equals(units.getFirst().prelude())) throw new IllegalStateException("CPU: kernels of different preludes in one file");
        src.append("#define ").append(u.name()).append(' ').append(symbol(u.key())).append('\n').append(u.kernel()).append("#undef ").append(u.name()).append('\n');
      }
      var name = units.size() == 1 ? units.getFirst().key() : key(src.toString());
      var lib = dir.resolve(name + ".so");
      var tag = name + "." + ProcessHandle.current().pid() + "." + BUILDS.incrementAndGet();
      var c = dir.resolve(tag + ".tmp.c");
      Files.writeString(c, src);
      var tmp = dir.resolve(tag + ".tmp.so");
      var cmd = new ArrayList<String>();
      if (background && NICE != null) cmd.addAll(List.of(NICE, "-n", "10"));
      cmd.add(cc);
      cmd.addAll(FLAGS);
      cmd.addAll(List.of("-o", tmp.toString(), c.toString(), "-lm"));
      var p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      int rc = p.waitFor();
      Files.move(c, dir.resolve(name + ".c"), StandardCopyOption.REPLACE_EXISTING);
      if (rc != 0) {
        Files.deleteIfExists(tmp);
        throw new IllegalStateException("CPU: " + cc + " failed on " + (units.size() == 1 ? "a kernel" : units.size() + " kernels") + ":\n" + out + "\n" + src);
      }
      if (!out.isBlank() && Flags.debug() >= 1) System.err.println("CPU: compiler said:\n" + out);
      // the checksum first: a reader that sees it with an older library recompiles, never loads a wrong one
      var sum = dir.resolve(tag + ".tmp.sha256");
      Files.writeString(sum, sha256(Files.readAllBytes(tmp)));
      Files.move(sum, dir.resolve(name + ".so.sha256"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      // loaded under its temporary name, which no earlier load used: the loader would hand back a library it
      // already has for a name it has seen, even when the file behind that name was replaced
      var loaded = SymbolLookup.libraryLookup(tmp, Arena.ofAuto()); // unloaded once none of its kernels is reachable
      Files.move(tmp, lib, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      VERIFIED.remove(lib.toRealPath());
      if (units.size() > 1) for (var u : units) {
        var link = dir.resolve(tag + "." + u.key() + ".tmp.link");
        Files.deleteIfExists(link);
        Files.createSymbolicLink(link, lib.getFileName());
        Files.move(link, dir.resolve(u.key() + ".so"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      }
      COMPILES.incrementAndGet();
      KERNELS_COMPILED.addAndGet(units.size());
      return loaded;
    } catch (IOException | InterruptedException e) {
      throw new IllegalStateException("CPU: cannot compile a kernel: " + e.getMessage(), e);
    }
  }

  private static final java.util.concurrent.atomic.AtomicLong BUILDS = new java.util.concurrent.atomic.AtomicLong();
  private static final String NICE = Files.isExecutable(Path.of("/usr/bin/nice")) ? "/usr/bin/nice" : null;

  private static final java.util.concurrent.atomic.AtomicInteger COMPILES = new java.util.concurrent.atomic.AtomicInteger();
  private static final java.util.concurrent.atomic.AtomicInteger KERNELS_COMPILED = new java.util.concurrent.atomic.AtomicInteger();
  /** Number of compiler runs so far (the disk cache avoids them; one run compiles one or more kernels). */
  public static int compiles() { return COMPILES.get(); }
  /** Number of kernels the compiler runs so far compiled. */
  public static int kernelsCompiled() { return KERNELS_COMPILED.get(); }

  /** Where compiled kernels are kept: $XDG_CACHE_HOME/tinygrad4j/cpu, else ~/.cache/tinygrad4j/cpu. */
  public static Path cacheDir() {
    var xdg = Flags.get("XDG_CACHE_HOME");
    var base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
    return base.resolve("tinygrad4j").resolve("cpu");
  }

  /** The C compiler on the PATH (cc, gcc or clang). */
  public static String compiler() {
    var path = System.getenv("PATH");
    if (path != null) for (var name : COMPILERS) for (var dir : path.split(java.io.File.pathSeparator)) {
      var f = Path.of(dir, name);
      if (Files.isExecutable(f)) return f.toString();
    }
    throw new IllegalStateException("CPU: no C compiler (cc, gcc or clang) on the PATH");
  }
}
