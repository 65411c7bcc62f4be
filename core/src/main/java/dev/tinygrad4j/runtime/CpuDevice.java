package dev.tinygrad4j.runtime;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.Flags;
import dev.tinygrad4j.codegen.ProgramSpec;
import dev.tinygrad4j.codegen.Target;
import dev.tinygrad4j.renderer.CStyle;
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
  /** How kernels are compiled: C semantics pinned to the interpreter's (wrapping ints, no errno, no aliasing tricks). */
  public static final List<String> FLAGS = List.of("-O3", "-march=native", "-shared", "-fPIC", "-fwrapv", "-fno-strict-aliasing",
      "-fno-math-errno", "-ffp-contract=off", "-Wall");

  private final String cc = compiler();
  private final int lanes = Flags.getInt("CPU_LANES", avx512() ? 16 : 8);
  private final Target target = new Target("CPU", java.util.EnumSet.allOf(Ops.class), lanes >= 16 ? List.of(16, 8) : lanes >= 8 ? List.of(8) : List.of(),
      false, 0, Threads.count(), Target.Memory.NATIVE, new CStyle());

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
    MemorySegment p;
    try {
      p = (MemorySegment) ALLOC.invokeExact(64L, bytes);
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
    if (p.equals(MemorySegment.NULL)) throw new OutOfMemoryError("CPU: cannot allocate " + bytes + " bytes");
    var seg = p.reinterpret(size * dtype.itemsize());
    seg.fill((byte) 0); // fresh memory: its pages are mapped now, not inside a kernel (reused blocks keep old bytes)
    return new Native(seg);
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
    try {
      FREE.invokeExact(seg);
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }
  @Override public void copyIn(Object mem, MemorySegment src) { ((Native) mem).seg().copyFrom(src); }
  @Override public void copyOut(MemorySegment dst, Object mem) { dst.copyFrom(((Native) mem).seg().asSlice(0, dst.byteSize())); }

  @Override public Program compile(ProgramSpec spec) {
    var lib = compileCached(((ProgramSpec.Source.Text) spec.source()).code());
    var fn = SymbolLookup.libraryLookup(lib, Arena.global()).find(spec.name())
        .orElseThrow(() -> new IllegalStateException("CPU: kernel " + spec.name() + " missing from " + lib));
    int nbufs = spec.params().size(), n = spec.threads();
    var layouts = new ArrayList<MemoryLayout>();
    for (int i = 0; i < nbufs; i++) layouts.add(ValueLayout.ADDRESS);
    if (n > 0) { layouts.add(ValueLayout.JAVA_INT); layouts.add(ValueLayout.JAVA_INT); }
    MethodHandle h = Linker.nativeLinker().downcallHandle(fn, FunctionDescriptor.ofVoid(layouts.toArray(MemoryLayout[]::new)))
        .asSpreader(Object[].class, layouts.size());
    return mems -> {
      var args = new Object[layouts.size()];
      for (int i = 0; i < nbufs; i++) args[i] = ((Native) mems[i]).seg();
      if (n == 0) call(h, args);
      else Threads.split(n, (start, end) -> {
        var a = args.clone();
        a[nbufs] = start;
        a[nbufs + 1] = end;
        call(h, a);
      });
    };
  }

  private static void call(MethodHandle h, Object[] args) {
    try {
      h.invokeExact(args);
    } catch (Throwable t) {
      throw new IllegalStateException("CPU: kernel call failed", t);
    }
  }

  /** The shared library for a C source: from the disk cache (keyed by source and flags) unless CACHE=0. */
  Path compileCached(String src) {
    try {
      var key = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest((cc + FLAGS + src).getBytes(StandardCharsets.UTF_8))).substring(0, 32);
      boolean cache = Flags.getInt("CACHE", 1) != 0;
      var dir = cache ? cacheDir() : Files.createTempDirectory("tinygrad4j-cpu");
      var lib = dir.resolve(key + ".so");
      if (cache && Files.exists(lib)) return lib;
      Files.createDirectories(dir);
      var c = dir.resolve(key + ".c");
      Files.writeString(c, src);
      var tmp = dir.resolve(key + "." + ProcessHandle.current().pid() + ".tmp.so");
      var cmd = new ArrayList<>(List.of(cc));
      cmd.addAll(FLAGS);
      cmd.addAll(List.of("-o", tmp.toString(), c.toString(), "-lm"));
      var p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (p.waitFor() != 0) throw new IllegalStateException("CPU: " + cc + " failed on a kernel:\n" + out + "\n" + src);
      if (!out.isBlank() && Flags.debug() >= 1) System.err.println("CPU: compiler said:\n" + out);
      Files.move(tmp, lib, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      COMPILES.incrementAndGet();
      return lib;
    } catch (IOException | InterruptedException | java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("CPU: cannot compile a kernel: " + e.getMessage(), e);
    }
  }

  private static final java.util.concurrent.atomic.AtomicInteger COMPILES = new java.util.concurrent.atomic.AtomicInteger();
  /** Number of compiler runs so far (the disk cache avoids them). */
  public static int compiles() { return COMPILES.get(); }

  /** Where compiled kernels are kept: $XDG_CACHE_HOME/tinygrad4j/cpu, else ~/.cache/tinygrad4j/cpu. */
  public static Path cacheDir() {
    var xdg = System.getenv("XDG_CACHE_HOME");
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
