package dev.tinygrad4j.runtime;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.Flags;
import dev.tinygrad4j.codegen.ProgramSpec;
import dev.tinygrad4j.codegen.Target;
import dev.tinygrad4j.renderer.Cuda;
import dev.tinygrad4j.uop.Ops;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * CUDA: the driver API (libcuda.so) through java.lang.foreign on device 0's primary context; kernels are CUDA C++
 * compiled to PTX by NVRTC (libnvrtc.so) at run time, the PTX cached on disk, and launched with the grid and blocks
 * their GLOBAL and LOCAL ranges give.
 */
public final class CudaDevice implements Device {
  /** Where the libraries are looked for: the driver's folders, CUDA toolkits, and NVIDIA's Python wheels. */
  static final List<String> DIRS = List.of("/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/nvidia/lib64",
      "/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib", "/usr/lib/wsl/lib");

  /** The first file named like one of names in the usual folders, or in site-packages/nvidia/* of a Python. */
  static Path find(List<String> names) {
    var dirs = new ArrayList<Path>(DIRS.stream().map(Path::of).toList());
    for (var root : List.of("/usr/lib", "/usr/local/lib", "/opt/conda/lib", System.getProperty("user.home") + "/.local/lib"))
      try (var pys = Files.list(Path.of(root))) {
        for (var py : pys.filter(p -> p.getFileName().toString().startsWith("python")).toList())
          for (var site : List.of("site-packages", "dist-packages"))
            try (var pkgs = Files.list(py.resolve(site).resolve("nvidia"))) { pkgs.forEach(p -> dirs.add(p.resolve("lib"))); } catch (Exception ignored) { }
      } catch (Exception ignored) { }
    for (var d : dirs) for (var n : names) if (Files.exists(d.resolve(n))) return d.resolve(n);
    for (var d : dirs) // versioned names such as libnvrtc.so.12
      try (var files = Files.list(d)) {
        var hit = files.filter(f -> names.stream().anyMatch(n -> f.getFileName().toString().startsWith(n + "."))).sorted().findFirst();
        if (hit.isPresent()) return hit.get();
      } catch (Exception ignored) { }
    return null;
  }

  private static SymbolLookup open(String what, List<String> names) {
    var p = find(names);
    if (p == null) throw new IllegalStateException("CUDA: " + what + " not found (looked for " + names + " in " + DIRS + " and Python's nvidia packages)");
    if (Flags.debug() >= 1) System.err.println("CUDA: " + what + " at " + p);
    return SymbolLookup.libraryLookup(p, Arena.global());
  }

  private final SymbolLookup cuda = open("driver library", List.of("libcuda.so.1", "libcuda.so"));
  private final SymbolLookup nvrtc = open("NVRTC", List.of("libnvrtc.so"));

  private MethodHandle fn(SymbolLookup lib, String name, MemoryLayout... args) {
    var sym = lib.find(name).orElseThrow(() -> new IllegalStateException("CUDA: no " + name + " in the library"));
    return Linker.nativeLinker().downcallHandle(sym, FunctionDescriptor.of(JAVA_INT, args));
  }

  private final MethodHandle init = fn(cuda, "cuInit", JAVA_INT);
  private final MethodHandle deviceGet = fn(cuda, "cuDeviceGet", ADDRESS, JAVA_INT);
  private final MethodHandle deviceName = fn(cuda, "cuDeviceGetName", ADDRESS, JAVA_INT, JAVA_INT);
  private final MethodHandle deviceMem = fn(cuda, "cuDeviceTotalMem_v2", ADDRESS, JAVA_INT);
  private final MethodHandle attribute = fn(cuda, "cuDeviceGetAttribute", ADDRESS, JAVA_INT, JAVA_INT);
  private final MethodHandle retainCtx = fn(cuda, "cuDevicePrimaryCtxRetain", ADDRESS, JAVA_INT);
  private final MethodHandle setCtx = fn(cuda, "cuCtxSetCurrent", ADDRESS);
  private final MethodHandle sync = fn(cuda, "cuCtxSynchronize");
  private final MethodHandle memAlloc = fn(cuda, "cuMemAlloc_v2", ADDRESS, JAVA_LONG);
  private final MethodHandle memFree = fn(cuda, "cuMemFree_v2", JAVA_LONG);
  private final MethodHandle memset = fn(cuda, "cuMemsetD8_v2", JAVA_LONG, JAVA_INT, JAVA_LONG);
  private final MethodHandle toDevice = fn(cuda, "cuMemcpyHtoD_v2", JAVA_LONG, ADDRESS, JAVA_LONG);
  private final MethodHandle toHost = fn(cuda, "cuMemcpyDtoH_v2", ADDRESS, JAVA_LONG, JAVA_LONG);
  private final MethodHandle loadModule = fn(cuda, "cuModuleLoadData", ADDRESS, ADDRESS);
  private final MethodHandle getFunction = fn(cuda, "cuModuleGetFunction", ADDRESS, ADDRESS, ADDRESS);
  private final MethodHandle launch = fn(cuda, "cuLaunchKernel", ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
      JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
  private final MethodHandle createProgram = fn(nvrtc, "nvrtcCreateProgram", ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS);
  private final MethodHandle compileProgram = fn(nvrtc, "nvrtcCompileProgram", ADDRESS, JAVA_INT, ADDRESS);
  private final MethodHandle logSize = fn(nvrtc, "nvrtcGetProgramLogSize", ADDRESS, ADDRESS);
  private final MethodHandle getLog = fn(nvrtc, "nvrtcGetProgramLog", ADDRESS, ADDRESS);
  private final MethodHandle ptxSize = fn(nvrtc, "nvrtcGetPTXSize", ADDRESS, ADDRESS);
  private final MethodHandle getPtx = fn(nvrtc, "nvrtcGetPTX", ADDRESS, ADDRESS);

  private final MemorySegment ctx;
  private final String name, arch;
  private final long memory;
  /** CUDA threads carry the parallelism: no vector-extension code. */
  private final Target target = new Target("CUDA", java.util.EnumSet.allOf(Ops.class), List.of(), java.util.Set.of(), 1024, 1, Target.Memory.DEVICE, new Cuda());
  private record Mem(long ptr, long bytes) {}

  /** Opens device 0 (its primary context). */
  public CudaDevice() {
    var o = Foreign.call("CUDA", a -> {
      check("cuInit", (int) init.invokeExact(0));
      var dev = a.allocate(JAVA_INT);
      check("cuDeviceGet", (int) deviceGet.invokeExact(dev, 0));
      int d = dev.get(JAVA_INT, 0);
      var ctxOut = a.allocate(ADDRESS);
      check("cuDevicePrimaryCtxRetain", (int) retainCtx.invokeExact(ctxOut, d));
      var nm = a.allocate(256);
      check("cuDeviceGetName", (int) deviceName.invokeExact(nm, 256, d));
      var mem = a.allocate(JAVA_LONG);
      check("cuDeviceTotalMem", (int) deviceMem.invokeExact(mem, d));
      var major = a.allocate(JAVA_INT); var minor = a.allocate(JAVA_INT);
      check("cuDeviceGetAttribute", (int) attribute.invokeExact(major, 75, d)); // compute capability major
      check("cuDeviceGetAttribute", (int) attribute.invokeExact(minor, 76, d)); // and minor
      return new Opened(ctxOut.get(ADDRESS, 0), nm.getString(0), mem.get(JAVA_LONG, 0), "compute_" + major.get(JAVA_INT, 0) + minor.get(JAVA_INT, 0));
    });
    ctx = o.ctx(); name = o.name(); memory = o.memory(); arch = o.arch();
  }

  private record Opened(MemorySegment ctx, String name, long memory, String arch) {}

  private static void check(String call, int err) {
    if (err != 0) throw new IllegalStateException("CUDA: " + call + " failed with error " + err);
  }

  /** Makes the context current on the calling thread (buffers are freed from the cleaner's thread). */
  private void current() throws Throwable { check("cuCtxSetCurrent", (int) setCtx.invokeExact(ctx)); }

  @Override public String name() { return "CUDA"; }
  @Override public Target target() { return target; }
  /** The GPU's name, memory and architecture, for `tinygrad4j info`. */
  @Override public String describe() { return name + ", " + (memory >> 20) + " MiB, " + arch; }

  @Override public Object alloc(DType dtype, long size) {
    long bytes = Math.max(4, size * dtype.itemsize());
    return Foreign.call("CUDA", a -> {
      current();
      var p = a.allocate(JAVA_LONG);
      check("cuMemAlloc(" + bytes + " bytes)", (int) memAlloc.invokeExact(p, bytes));
      long ptr = p.get(JAVA_LONG, 0);
      check("cuMemsetD8", (int) memset.invokeExact(ptr, 0, bytes)); // zeroed like the other devices
      return new Mem(ptr, bytes);
    });
  }

  @Override public void free(Object mem) {
    Foreign.call("CUDA", a -> {
      current();
      check("cuMemFree", (int) memFree.invokeExact(((Mem) mem).ptr()));
      return null;
    });
  }

  @Override public void copyIn(Object mem, MemorySegment src) {
    if (src.byteSize() == 0) return;
    Foreign.call("CUDA", a -> {
      current();
      var host = src.isNative() ? src : a.allocate(src.byteSize()).copyFrom(src);
      check("cuMemcpyHtoD", (int) toDevice.invokeExact(((Mem) mem).ptr(), host, src.byteSize()));
      return null;
    });
  }

  @Override public void copyOut(MemorySegment dst, Object mem) {
    if (dst.byteSize() == 0) return;
    Foreign.call("CUDA", a -> {
      current();
      var host = dst.isNative() ? dst : a.allocate(dst.byteSize());
      check("cuMemcpyDtoH", (int) toHost.invokeExact(host, ((Mem) mem).ptr(), dst.byteSize()));
      if (host != dst) dst.copyFrom(host);
      return null;
    });
  }

  /** PTX for a source: from the disk cache (keyed by source and architecture) unless CACHE=0, else from NVRTC. */
  private byte[] ptx(String kernel, String src) throws Throwable {
    var key = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest((arch + src).getBytes(StandardCharsets.UTF_8))).substring(0, 32);
    var file = CpuDevice.cacheDir().resolveSibling("cuda").resolve(key + ".ptx");
    boolean cache = Flags.getInt("CACHE", 1) != 0;
    if (cache && Files.exists(file)) return Files.readAllBytes(file);
    return Foreign.call("CUDA", a -> {
      var prog = a.allocate(ADDRESS);
      check("nvrtcCreateProgram", (int) createProgram.invokeExact(prog, a.allocateFrom(src), a.allocateFrom(kernel + ".cu"), 0, MemorySegment.NULL, MemorySegment.NULL));
      var p = prog.get(ADDRESS, 0);
      var opts = a.allocate(ADDRESS, 1);
      opts.set(ADDRESS, 0, a.allocateFrom("--gpu-architecture=" + arch));
      int built = (int) compileProgram.invokeExact(p, 1, opts);
      if (built != 0) {
        var n = a.allocate(JAVA_LONG);
        int q = (int) logSize.invokeExact(p, n);
        var log = a.allocate(Math.max(1, n.get(JAVA_LONG, 0)));
        q = (int) getLog.invokeExact(p, log);
        throw new IllegalStateException("CUDA: NVRTC failed on kernel " + kernel + " (" + built + "):\n" + log.getString(0) + "\n" + src);
      }
      var n = a.allocate(JAVA_LONG);
      check("nvrtcGetPTXSize", (int) ptxSize.invokeExact(p, n));
      var out = a.allocate(n.get(JAVA_LONG, 0));
      check("nvrtcGetPTX", (int) getPtx.invokeExact(p, out));
      var bytes = out.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
      if (cache) {
        Files.createDirectories(file.getParent());
        var tmp = Files.createTempFile(file.getParent(), key, ".tmp");
        Files.write(tmp, bytes);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
      return bytes;
    });
  }

  @Override public Program compile(ProgramSpec spec) {
    var src = ((ProgramSpec.Source.Text) spec.source()).code();
    var kernel = spec.name();
    int nbufs = spec.params().size();
    var l = spec.launch();
    var g = l.groups(); var b = l.locals();
    var function = Foreign.call("CUDA", a -> {
      current();
      var module = a.allocate(ADDRESS);
      var image = Arena.global().allocateFrom(java.lang.foreign.ValueLayout.JAVA_BYTE, ptx(kernel, src)); // NUL-terminated PTX
      check("cuModuleLoadData", (int) loadModule.invokeExact(module, image));
      var f = a.allocate(ADDRESS);
      check("cuModuleGetFunction(" + kernel + ")", (int) getFunction.invokeExact(f, module.get(ADDRESS, 0), a.allocateFrom(kernel)));
      return f.get(ADDRESS, 0);
    });
    return mems -> Foreign.call("CUDA", a -> {
        current();
        var values = a.allocate(JAVA_LONG, Math.max(1, nbufs));
        var params = a.allocate(ADDRESS, Math.max(1, nbufs));
        for (int i = 0; i < nbufs; i++) {
          values.setAtIndex(JAVA_LONG, i, ((Mem) mems[i]).ptr());
          params.setAtIndex(ADDRESS, i, values.asSlice(8L * i, 8));
        }
        check("cuLaunchKernel(" + kernel + ")", (int) launch.invokeExact(function, (int) g[0], (int) g[1], (int) g[2], (int) b[0], (int) b[1], (int) b[2], 0, MemorySegment.NULL, params, MemorySegment.NULL));
        check("cuCtxSynchronize", (int) sync.invokeExact());
        return null;
      });
  }
}
