package dev.tinygrad4j.cli;

import dev.tinygrad4j.Flags;
import dev.tinygrad4j.Tensor;
import dev.tinygrad4j.engine.Runner;
import dev.tinygrad4j.runtime.Devices;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.DoubleSupplier;

import static java.lang.foreign.ValueLayout.*;

/** {@code tinygrad4j bench matmul|ops}: speed as ratios against a baseline measured in the same process. */
final class Bench {
  private Bench() {}

  private static final int RUNS = 5;

  /**
   * The fp32 peak as measured: a C loop of independent vector fmas (16 lanes with AVX-512, else 8; 12 accumulators,
   * which fit in the vector registers, so neither latency nor memory limits it) on every thread, compiled with the CPU device's compiler; median of three runs. NaN
   * where no C compiler is found. PEAK_GFLOPS overrides.
   */
  private static double measuredPeak() {
    if (Flags.getInt("PEAK_GFLOPS", 0) > 0) return Flags.getInt("PEAK_GFLOPS", 0);
    var src = """
        #include <pthread.h>
        #include <time.h>
        typedef float vec __attribute__((vector_size(4 * W)));
        static volatile float sink;
        static void* loop(void* arg) {
          long n = *(long*)arg;
          vec a[12], b, c;
          for (int j = 0; j < W; j++) { b[j] = 1.0000001f; c[j] = 1e-7f; }
          for (int i = 0; i < 12; i++) for (int j = 0; j < W; j++) a[i][j] = i + j;
          for (long k = 0; k < n; k++)
            for (int i = 0; i < 12; i++) a[i] = a[i] * b + c;
          float s = 0;
          for (int i = 0; i < 12; i++) s += a[i][0];
          sink = s;
          return 0;
        }
        double fma_gflops(int threads, long n) {
          pthread_t t[64];
          struct timespec t0, t1;
          clock_gettime(CLOCK_MONOTONIC, &t0);
          for (int i = 0; i < threads; i++) pthread_create(&t[i], 0, loop, &n);
          for (int i = 0; i < threads; i++) pthread_join(t[i], 0);
          clock_gettime(CLOCK_MONOTONIC, &t1);
          double s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
          return threads * (double) n * 12 * W * 2 / s / 1e9;
        }
        """;
    try {
      var dir = java.nio.file.Files.createTempDirectory("tinygrad4j-peak");
      var c = dir.resolve("peak.c"); var so = dir.resolve("peak.so");
      java.nio.file.Files.writeString(c, src);
      var p = new ProcessBuilder(dev.tinygrad4j.runtime.CpuDevice.compiler(), "-O3", "-march=native", "-ffp-contract=fast", "-pthread", "-DW=" + (avx512() ? 16 : 8),
          "-shared", "-fPIC", "-o", so.toString(), c.toString()).redirectErrorStream(true).start();
      var log = new String(p.getInputStream().readAllBytes());
      if (p.waitFor() != 0) throw new IllegalStateException(log);
      var f = Linker.nativeLinker().downcallHandle(SymbolLookup.libraryLookup(so, Arena.global()).find("fma_gflops").orElseThrow(),
          FunctionDescriptor.of(JAVA_DOUBLE, JAVA_INT, JAVA_LONG));
      var g = new double[3];
      for (int i = 0; i < 3; i++) g[i] = (double) f.invokeExact(dev.tinygrad4j.runtime.Threads.count(), 40_000_000L);
      Arrays.sort(g);
      return g[1];
    } catch (Throwable e) {
      System.out.println("peak: not measured (" + e.getMessage() + ")");
      return Double.NaN;
    }
  }

  private static boolean avx512() {
    try {
      return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/cpuinfo")).contains(" avx512f");
    } catch (java.io.IOException e) {
      return false;
    }
  }

  /**
   * Runs this command again in a child JVM with OPENBLAS_CORETYPE=SkylakeX when the CPU has AVX-512 and the
   * variable is unset: Debian's OpenBLAS does not recognise this CPU and falls back to its AVX2 kernel, and the
   * variable must be set before the library loads. Returns true if the child ran the benchmark.
   */
  private static boolean withBestOpenBlasKernel() {
    if (!avx512() || System.getenv("OPENBLAS_CORETYPE") != null) return false;
    rerun(java.util.Map.of("OPENBLAS_CORETYPE", "SkylakeX"));
    return true;
  }

  /** Runs this command again in a child JVM with these environment variables added; fails if the child does. */
  private static void rerun(java.util.Map<String, String> env) {
    var info = ProcessHandle.current().info();
    var cmd = new java.util.ArrayList<String>(List.of(info.command().orElseThrow()));
    cmd.addAll(List.of(info.arguments().orElseThrow()));
    try {
      var pb = new ProcessBuilder(cmd).inheritIO();
      pb.environment().putAll(env);
      int rc = pb.start().waitFor();
      if (rc != 0) throw new IllegalStateException("bench: the run with " + env + " exited with " + rc);
    } catch (java.io.IOException e) {
      throw new IllegalStateException("bench: cannot run " + cmd.getFirst() + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static void run(String what) {
    switch (what) {
      case "matmul" -> matmul();
      case "ops" -> ops();
      case "mnist" -> MnistCommand.bench();
      case "minilm" -> minilm();
      case "jit" -> jit();
      case "coldstart" -> coldstart();
      default -> throw new IllegalArgumentException("bench: unknown benchmark '" + what + "' (matmul, ops, mnist, minilm, jit, coldstart)");
    }
  }

  /**
   * Dispatch overhead: a step of 100 tiny kernels (each a contiguous add over 16 floats, so the kernels themselves
   * cost next to nothing) run eagerly (graph, schedule, launch) and replayed by a Jit, per device: microseconds per step
   * and per kernel.
   */
  private static void jit() {
    int n = 100;
    System.out.printf("a step of %d kernels over 16 floats: microseconds per step and per kernel (median of %d after warm-up)%n", n, RUNS);
    System.out.printf("%-8s %14s %14s %14s %14s%n", "device", "eager/step", "jit/step", "eager/kernel", "jit/kernel");
    java.util.function.Function<Tensor[], Tensor[]> step = in -> {
      var y = in[0];
      for (int i = 0; i < n; i++) y = y.add(1).contiguous();
      return new Tensor[]{y};
    };
    for (var d : devices()) {
      Flags.set("DEV", d);
      try {
        // a new input every call: the same graph over the same buffer would be remembered, not run
        double eager = median(() -> {
          var x = Tensor.rand(16).realize();
          long t0 = System.nanoTime();
          step.apply(new Tensor[]{x})[0].realize();
          return (System.nanoTime() - t0) / 1e9;
        });
        var j = dev.tinygrad4j.Jit.of(step);
        double jit = median(() -> {
          var x = Tensor.rand(16).realize();
          long t0 = System.nanoTime();
          j.call(x);
          return (System.nanoTime() - t0) / 1e9;
        });
        System.out.printf("%-8s %14.1f %14.1f %14.2f %14.2f%n", d, eager * 1e6, jit * 1e6, eager * 1e6 / n, jit * 1e6 / n);
      } finally {
        Flags.set("DEV", null);
      }
    }
  }

  /**
   * Cold start on the default device, in child JVMs whose kernel cache folder is empty: seconds for a whole JVM
   * run of a one-op program (the command line's start and exit included); seconds (and kernels compiled) to the first MNIST training step (batch 512,
   * under its Jit), to the first all-MiniLM-L6-v2 embedding, to an embedding of a new sentence length after warm-up
   * next to a repeated one, and to 60 tokens sampled from a small transformer whose context grows by one each token.
   */
  private static void coldstart() {
    if ("one-op".equals(System.getenv("TINYGRAD4J_COLDSTART"))) {
      System.out.println("  Tensor.of(1, 2, 3).add(1) = " + Arrays.toString(Tensor.of(new float[]{1, 2, 3}).add(1).toFloatArray()));
      return;
    }
    if (System.getenv("TINYGRAD4J_COLDSTART") == null) {
      java.nio.file.Path cache;
      try {
        cache = java.nio.file.Files.createTempDirectory("tinygrad4j-cold");
      } catch (java.io.IOException e) {
        throw new IllegalStateException("bench coldstart: " + e.getMessage(), e);
      }
      System.out.println("cold start (kernel cache " + cache + ", empty), device " + Devices.defaultName()
          + (Devices.defaultName().equals("CPU") ? ", tiers " + dev.tinygrad4j.runtime.CpuDevice.tiers() : ""));
      var mnist = System.getenv().getOrDefault("MNIST_DIR", dev.tinygrad4j.runtime.CpuDevice.cacheDir().resolveSibling("mnist").toString());
      long t0 = System.nanoTime();
      rerun(java.util.Map.of("TINYGRAD4J_COLDSTART", "one-op", "XDG_CACHE_HOME", cache.toString()));
      System.out.printf("%-48s %8.2f s%n", "a one-op program, a whole fresh JVM", (System.nanoTime() - t0) / 1e9);
      rerun(java.util.Map.of("TINYGRAD4J_COLDSTART", "1", "XDG_CACHE_HOME", cache.toString(), "MNIST_DIR", mnist)); // no compiled kernels
      return;
    }
    long t0 = System.nanoTime();
    Tensor.manualSeed(0);
    var model = new MnistCnn();
    var opt = new dev.tinygrad4j.nn.Adam(dev.tinygrad4j.nn.State.parameters(model), 1e-3);
    var x = Tensor.rand(512, 1, 28, 28).mul(255).cast(dev.tinygrad4j.DType.UINT8).contiguous().realize();
    var y = Tensor.randint(0, 10, 512).realize();
    try (var mode = Tensor.train()) { MnistCommand.trainStep(model, opt).call(x, y)[0].item(); }
    report("first MNIST training step", t0);
    t0 = System.nanoTime();
    var emb = dev.tinygrad4j.onnx.SentenceEmbedder.allMiniLmL6V2();
    emb.embed(List.of("a first sentence to embed")).toFloatArray();
    report("first MiniLM embedding (model load included)", t0);
    var same = List.of("a first sentence to embed");
    for (int i = 0; i < 3; i++) emb.embed(same).toFloatArray();
    t0 = System.nanoTime();
    emb.embed(same).toFloatArray();
    double repeated = (System.nanoTime() - t0) / 1e9;
    t0 = System.nanoTime();
    emb.embed(List.of("a much longer sentence, with more words than the first one had, so that it needs another bucket of tokens")).toFloatArray();
    double fresh = (System.nanoTime() - t0) / 1e9;
    System.out.printf("%-48s %8.2f s  (a repeated length: %.3f s, %.0fx)%n", "embedding of a new sentence length", fresh, repeated, fresh / repeated);
    Tensor.manualSeed(1);
    var gpt = new TinyGpt();
    var text = new StringBuilder("tinygrad");
    long compiledBefore = Runner.kernelsCompiled();
    t0 = System.nanoTime();
    for (int i = 0; i < 60; i++) text.append(gpt.sample(text));
    System.out.printf("%-48s %8.2f s  (%d kernels compiled for them)%n", "60 tokens, context growing from 8 to 67", (System.nanoTime() - t0) / 1e9,
        Runner.kernelsCompiled() - compiledBefore);
    System.out.printf("kernels compiled %d, C compiler runs %d for %d kernels (so far), launches in the JVM tier while C compiled %d%n", Runner.kernelsCompiled(),
        dev.tinygrad4j.runtime.CpuDevice.compiles(), dev.tinygrad4j.runtime.CpuDevice.kernelsCompiled(), dev.tinygrad4j.runtime.CpuDevice.firstTierRuns());
  }

  /**
   * A character-level transformer with seeded weights (2 pre-norm layers, width 64, 4 heads, 96 printable
   * characters), run over the whole context for every token (no KV cache): each token is a new sequence length, bound to
   * the variable CONTEXT so that one JIT capture (one set of kernels) serves every length.
   */
  private static final class TinyGpt {
    static final int D = 64, HEADS = 4, VOCAB = 96, LAYERS = 2;
    /** The context length: its kernels are compiled once for every length. */
    static final dev.tinygrad4j.uop.Variable CONTEXT = new dev.tinygrad4j.uop.Variable("context", 1, 128);
    final dev.tinygrad4j.nn.Embedding tok = new dev.tinygrad4j.nn.Embedding(VOCAB, D), pos = new dev.tinygrad4j.nn.Embedding(128, D);
    final dev.tinygrad4j.nn.LayerNorm[] ln1 = new dev.tinygrad4j.nn.LayerNorm[LAYERS], ln2 = new dev.tinygrad4j.nn.LayerNorm[LAYERS];
    final dev.tinygrad4j.nn.Linear[] qkv = new dev.tinygrad4j.nn.Linear[LAYERS], proj = new dev.tinygrad4j.nn.Linear[LAYERS],
        up = new dev.tinygrad4j.nn.Linear[LAYERS], down = new dev.tinygrad4j.nn.Linear[LAYERS];
    final dev.tinygrad4j.nn.LayerNorm lnf = new dev.tinygrad4j.nn.LayerNorm(D);
    final dev.tinygrad4j.nn.Linear head = new dev.tinygrad4j.nn.Linear(D, VOCAB);

    TinyGpt() {
      for (int l = 0; l < LAYERS; l++) {
        ln1[l] = new dev.tinygrad4j.nn.LayerNorm(D); ln2[l] = new dev.tinygrad4j.nn.LayerNorm(D);
        qkv[l] = new dev.tinygrad4j.nn.Linear(D, 3 * D); proj[l] = new dev.tinygrad4j.nn.Linear(D, D);
        up[l] = new dev.tinygrad4j.nn.Linear(D, 4 * D); down[l] = new dev.tinygrad4j.nn.Linear(4 * D, D);
      }
    }

    /** The forward pass and the sampling, under one JIT for every context length (the ids' length is bound). */
    final dev.tinygrad4j.Jit step = dev.tinygrad4j.Jit.of1(this::next);

    /** The next character: sampled from the softmax of the last position's logits. */
    char sample(CharSequence context) {
      int t = context.length();
      var ids = new int[t];
      for (int i = 0; i < t; i++) ids[i] = Math.floorMod(context.charAt(i) - 32, VOCAB);
      int next = (int) step.call1(Tensor.of(ids).bind(0, CONTEXT)).item();
      return (char) (32 + Math.min(next, VOCAB - 1));
    }

    /** The index of the next character for a context of ids [t]. */
    private Tensor next(Tensor ids) {
      int t = ids.shape()[0];
      var x = tok.forward(ids).add(pos.forward(Tensor.arange(t)));
      var future = Tensor.arange(t).reshape(t, 1).lt(Tensor.arange(t).reshape(1, t)); // position j after i: masked
      for (int l = 0; l < LAYERS; l++) {
        var h = qkv[l].forward(ln1[l].forward(x));
        var q = heads(h, 0, t); var k = heads(h, 1, t); var v = heads(h, 2, t);
        var att = future.where(Double.NEGATIVE_INFINITY, q.matmul(k.transpose(1, 2)).mul(1 / Math.sqrt(D / HEADS))).softmax(-1).matmul(v);
        x = x.add(proj[l].forward(att.permute(1, 0, 2).reshape(t, D)));
        x = x.add(down[l].forward(up[l].forward(ln2[l].forward(x)).gelu()));
      }
      var logits = head.forward(lnf.forward(x.shrink(new int[][]{{t - 1, t}, {0, D}})));
      var u = Tensor.rand(1, 1);
      return logits.softmax(-1).cumsum(1).lt(u).sum();
    }

    private static Tensor heads(Tensor qkv, int which, int t) {
      return qkv.shrink(new int[][]{{0, t}, {which * D, (which + 1) * D}}).reshape(t, HEADS, D / HEADS).permute(1, 0, 2);
    }
  }

  private static void report(String what, long t0) {
    System.out.printf("%-48s %8.2f s  (%d kernels compiled so far)%n", what, (System.nanoTime() - t0) / 1e9, Runner.kernelsCompiled());
  }

  /** The compiled devices here (INTERP is the reference interpreter, far too slow for these sizes). */
  private static List<String> devices() {
    return Devices.available().stream().filter(d -> !d.equals("INTERP")).toList();
  }

  /**
   * Median seconds of RUNS timed calls after warm-up (5 calls, fewer if they take over 20 s: a JIT-compiled kernel
   * that profiled a loop exit as never taken is recompiled only after a few calls); each call returns its seconds.
   */
  private static double median(DoubleSupplier timed) {
    double warm = 0;
    for (int i = 0; i < 5 && warm < 20; i++) warm += timed.getAsDouble();
    var t = new double[RUNS];
    for (int i = 0; i < RUNS; i++) t[i] = timed.getAsDouble();
    Arrays.sort(t);
    return t[RUNS / 2];
  }

  private static float[] random(int n, long seed) {
    var r = new Random(seed);
    var v = new float[n];
    for (int i = 0; i < n; i++) v[i] = r.nextFloat() - 0.5f;
    return v;
  }

  /** Seconds the kernels computing f's result take on dev, with fresh input buffers each call so nothing is reused. */
  private static double timeOn(String dev, float[][] inputs, int[][] shapes, java.util.function.Function<Tensor[], Tensor> f) {
    Flags.set("DEV", dev);
    try {
      return median(() -> {
        var ts = new Tensor[inputs.length];
        for (int i = 0; i < ts.length; i++) ts[i] = Tensor.of(inputs[i]).reshape(shapes[i]).realize();
        var out = f.apply(ts);
        double t0 = Runner.kernelSeconds();
        out.realize();
        return Runner.kernelSeconds() - t0;
      });
    } finally {
      Flags.set("DEV", null);
    }
  }

  /** The core OpenBLAS picked its kernels for (openblas_get_corename), or "unknown". */
  private static String openBlasCore() {
    try {
      var lib = SymbolLookup.libraryLookup("libopenblas.so.0", Arena.global());
      var f = Linker.nativeLinker().downcallHandle(lib.find("openblas_get_corename").orElseThrow(), FunctionDescriptor.of(ADDRESS));
      return ((java.lang.foreign.MemorySegment) f.invokeExact()).reinterpret(64).getString(0);
    } catch (Throwable e) {
      return "unknown";
    }
  }

  private static MethodHandle sgemm() {
    try {
      var lib = SymbolLookup.libraryLookup("libopenblas.so.0", Arena.global());
      return Linker.nativeLinker().downcallHandle(lib.find("cblas_sgemm").orElseThrow(), FunctionDescriptor.ofVoid(
          JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_FLOAT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_FLOAT, ADDRESS, JAVA_INT));
    } catch (RuntimeException e) {
      return null;
    }
  }

  private static void matmul() {
    if (withBestOpenBlasKernel()) return;
    var sgemm = sgemm();
    var devs = devices();
    double peak = measuredPeak();
    System.out.printf("fp32 matmul, GFLOPS (median of %d after warm-up), %d threads; peak %.0f GFLOPS (measured: an fma loop)%n", RUNS,
        dev.tinygrad4j.runtime.Threads.count(), peak);
    if (sgemm == null) System.out.println("OpenBLAS: libopenblas.so.0 not found (apt-get install libopenblas0-pthread); no baseline column");
    else System.out.println("OpenBLAS: " + openBlasCore() + " kernel" + (System.getenv("OPENBLAS_CORETYPE") != null ? " (OPENBLAS_CORETYPE=" + System.getenv("OPENBLAS_CORETYPE") + ")" : ""));
    var head = new StringBuilder(String.format("%6s", "N"));
    if (sgemm != null) head.append(String.format(" %10s", "OpenBLAS"));
    for (var d : devs) head.append(String.format(" %10s %8s %7s", d, d + "/BLAS", "peak"));
    System.out.println(head);
    for (int n : new int[]{256, 512, 1024, 2048}) {
      var a = random(n * n, 1); var b = random(n * n, 2);
      double flop = 2.0 * n * n * n;
      double blas = Double.NaN;
      if (sgemm != null) {
        try (var arena = Arena.ofConfined()) {
          var ma = arena.allocateFrom(JAVA_FLOAT, a); var mb = arena.allocateFrom(JAVA_FLOAT, b);
          var mc = arena.allocate(JAVA_FLOAT, (long) n * n);
          blas = flop / median(() -> {
            long t0 = System.nanoTime();
            try {
              sgemm.invokeExact(101, 111, 111, n, n, n, 1f, ma, n, mb, n, 0f, mc, n);
            } catch (Throwable t) {
              throw new IllegalStateException(t);
            }
            return (System.nanoTime() - t0) / 1e9;
          }) / 1e9;
        }
      }
      var row = new StringBuilder(String.format("%6d", n));
      if (sgemm != null) row.append(String.format(" %10.1f", blas));
      for (var d : devs) {
        double g = flop / timeOn(d, new float[][]{a, b}, new int[][]{{n, n}, {n, n}}, t -> t[0].matmul(t[1])) / 1e9;
        row.append(String.format(" %10.1f %8.2f %6.0f%%", g, g / blas, 100 * g / peak));
      }
      System.out.println(row);
    }
  }

  private static void ops() {
    int n = 1 << 24;
    var a = random(n, 1); var b = random(n, 2); var c = random(n, 3);
    // the baseline: the same fused a*b+c as a plain Java loop, one thread
    var out = new float[n];
    double loop = median(() -> {
      long t0 = System.nanoTime();
      for (int i = 0; i < n; i++) out[i] = a[i] * b[i] + c[i];
      return (System.nanoTime() - t0) / 1e9;
    });
    double loopSum = median(() -> {
      long t0 = System.nanoTime();
      float s = 0;
      for (int i = 0; i < n; i++) s += a[i];
      if (s == 42) System.out.print("");
      return (System.nanoTime() - t0) / 1e9;
    });
    double bytes = 16.0 * n, sumBytes = 4.0 * n;
    System.out.printf("elementwise a*b+c over 16M floats; sum over 16M floats; softmax(4096x4096). GB/s, median of %d%n", RUNS);
    System.out.printf("%-10s %12s %10s %12s %10s %14s%n", "", "a*b+c GB/s", "vs loop", "sum GB/s", "vs loop", "softmax ms");
    System.out.printf("%-10s %12.1f %10s %12.1f %10s %14s%n", "Java loop", bytes / loop / 1e9, "1.00", sumBytes / loopSum / 1e9, "1.00", "-");
    var sm = random(4096 * 4096, 4);
    for (var d : devices()) {
      double e = timeOn(d, new float[][]{a, b, c}, new int[][]{{n}, {n}, {n}}, t -> t[0].mul(t[1]).add(t[2]));
      double s = timeOn(d, new float[][]{a}, new int[][]{{n}}, t -> t[0].sum());
      double soft = timeOn(d, new float[][]{sm}, new int[][]{{4096, 4096}}, t -> t[0].softmax(1));
      System.out.printf("%-10s %12.1f %10.2f %12.1f %10.2f %14.1f%n", d, bytes / e / 1e9, loop / e, sumBytes / s / 1e9, loopSum / s, soft * 1e3);
    }
  }

  /**
   * all-MiniLM-L6-v2's forward pass (last_hidden_state) at batch 1 and 32, sequence 128, per device next to ONNX
   * Runtime in this process with as many threads: sentences per second and the latency ratio.
   */
  private static void minilm() {
    var bytes = dev.tinygrad4j.onnx.SentenceEmbedder.resource(dev.tinygrad4j.onnx.SentenceEmbedder.MINILM_MODEL);
    var model = dev.tinygrad4j.onnx.OnnxModel.parse(bytes, null, "all-MiniLM-L6-v2");
    var tok = dev.tinygrad4j.onnx.WordPiece.fromJson(new String(dev.tinygrad4j.onnx.SentenceEmbedder.resource(
        dev.tinygrad4j.onnx.SentenceEmbedder.MINILM_TOKENIZER), java.nio.charset.StandardCharsets.UTF_8));
    int threads = dev.tinygrad4j.runtime.Threads.count();
    System.out.printf("all-MiniLM-L6-v2 forward, sequence 128: ms per batch (median of %d after warm-up) and sentences/s; ONNX Runtime 1.22 with %d threads%n", RUNS, threads);
    System.out.printf("%-6s %-12s %10s %12s %10s%n", "batch", "runtime", "ms", "sentences/s", "vs ORT");
    try (var env = ai.onnxruntime.OrtEnvironment.getEnvironment(); var opts = new ai.onnxruntime.OrtSession.SessionOptions()) {
      opts.setIntraOpNumThreads(threads);
      try (var ort = env.createSession(bytes, opts)) {
        for (int batch : new int[]{1, 32}) {
          var b = tok.encode(OnnxCommand.benchSentences(batch), 128, true);
          var flat = new long[3][batch * 128];
          long[][][] src = {b.inputIds(), b.attentionMask(), b.tokenTypeIds()};
          for (int k = 0; k < 3; k++) for (int i = 0; i < batch; i++) System.arraycopy(src[k][i], 0, flat[k], i * 128, 128);
          double base = median(() -> {
            var names = new String[]{"input_ids", "attention_mask", "token_type_ids"};
            var in = new java.util.HashMap<String, ai.onnxruntime.OnnxTensor>();
            try {
              for (int k = 0; k < 3; k++) in.put(names[k], ai.onnxruntime.OnnxTensor.createTensor(env, java.nio.LongBuffer.wrap(flat[k]), new long[]{batch, 128}));
              long t0 = System.nanoTime();
              try (var r = ort.run(in)) { if (r.size() == 0) throw new IllegalStateException("no output"); }
              return (System.nanoTime() - t0) / 1e9;
            } catch (ai.onnxruntime.OrtException e) {
              throw new IllegalStateException("ONNX Runtime: " + e.getMessage(), e);
            } finally {
              in.values().forEach(ai.onnxruntime.OnnxTensor::close);
            }
          });
          System.out.printf("%-6d %-12s %10.1f %12.1f %10s%n", batch, "ONNX Runtime", base * 1e3, batch / base, "1.00");
          for (var d : devices()) {
            Flags.set("DEV", d);
            try {
              var emb = new dev.tinygrad4j.onnx.SentenceEmbedder(model, tok, 128);
              double t = median(() -> {
                long t0 = System.nanoTime();
                emb.hidden(b).realize();
                return (System.nanoTime() - t0) / 1e9;
              });
              System.out.printf("%-6d %-12s %10.1f %12.1f %10.2f%n", batch, d, t * 1e3, batch / t, t / base);
            } catch (OutOfMemoryError | RuntimeException e) { // one device failing leaves the others measured
              System.out.printf("%-6d %-12s failed: %s%n", batch, d, e);
            } finally {
              Flags.set("DEV", null);
            }
          }
        }
      }
    } catch (ai.onnxruntime.OrtException e) {
      throw new IllegalStateException("ONNX Runtime: " + e.getMessage(), e);
    }
  }
}
