package dev.tinygrad4j;

import dev.tinygrad4j.engine.Runner;
import dev.tinygrad4j.engine.Schedule;
import dev.tinygrad4j.nn.Adam;
import dev.tinygrad4j.runtime.Buffer;
import dev.tinygrad4j.runtime.CpuDevice;
import dev.tinygrad4j.uop.UOp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Long loops of random numbers, matmuls and dropout training steps leave nothing behind: after a warm-up no kernel
 * is compiled, and live buffers, heap, mapped files and the kernel cache on disk stay flat. SOAK=n sets the
 * iterations (20000 for the long run; the suite's short one does 300).
 */
class SoakTest {
  private static final int ITERATIONS = Flags.getInt("SOAK", 300);

  private record Level(long compiled, long buffers, long heap, long maps, long cacheFiles) {}

  private static Level level() throws IOException, InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(20);
      Schedule.realized(UOp.idx(0), dev.tinygrad4j.runtime.Devices.get(dev.tinygrad4j.runtime.Devices.defaultName())); // drops collected keys
    }
    var rt = Runtime.getRuntime();
    var maps = Path.of("/proc/self/maps");
    long mapped = Files.exists(maps) ? Files.readAllLines(maps).size() : 0;
    long files = 0;
    if (Files.isDirectory(CpuDevice.cacheDir())) try (var s = Files.list(CpuDevice.cacheDir())) { files = s.count(); }
    return new Level(Runner.kernelsCompiled(), Buffer.liveCount(), rt.totalMemory() - rt.freeMemory(), mapped, files);
  }

  @Test void randomMatmulsAndDropoutTrainingStayFlat(@TempDir Path cache) throws Exception {
    var xdg = Flags.get("XDG_CACHE_HOME");
    Flags.set("XDG_CACHE_HOME", cache); // a cache of its own: another process compiling into the shared one does not count
    try {
      soak();
    } finally {
      Flags.set("XDG_CACHE_HOME", xdg);
    }
  }

  @Test void everNewShapesDoNotFillTheMappings(@TempDir Path cache) throws Exception {
    var xdg = Flags.get("XDG_CACHE_HOME"); var kept = Flags.get("KERNELS_KEPT");
    Flags.set("XDG_CACHE_HOME", cache); // new libraries, never loaded before
    Flags.set("KERNELS_KEPT", 8);
    try {
      var x = Tensor.rand(4, 600).realize();
      for (int n = 500; n < 600; n++) { // 100 new sizes: 100 compiler runs, each a library loaded from this folder
        var part = x.shrink(new int[][]{{0, 4}, {0, n}});
        assertTrue(Double.isFinite(part.mul(3).add(1).sum(1).softmax(0).sum().item()));
      }
      long mapped = librariesMappedFrom(cache);
      for (int i = 0; i < 20 && mapped > 24; i++) { level(); mapped = librariesMappedFrom(cache); } // (the cleaner unloads them a little later)
      assertTrue(mapped <= 24, mapped + " of the libraries of 100 new sizes are still mapped: those of kernels no longer kept must be unloaded");
    } finally {
      Flags.set("XDG_CACHE_HOME", xdg);
      Flags.set("KERNELS_KEPT", kept);
    }
  }

  /** How many libraries from folder (or below it) the process has mapped. */
  private static long librariesMappedFrom(Path folder) throws IOException {
    var root = folder.toRealPath().toString();
    return Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(l -> l.contains(root) && l.contains(".so"))
        .map(l -> l.substring(l.indexOf(root))).distinct().count();
  }

  private static void soak() throws Exception {
    Tensor.manualSeed(5);
    var w = Tensor.randn(64, 64).mul(0.1).contiguous().realize().requiresGrad(true);
    var opt = new Adam(List.of(w), 1e-3);
    Runnable iteration = () -> {
      var product = Tensor.randn(64, 64).matmul(Tensor.rand(64, 64)).sum().item(); // fresh random numbers, one kernel set
      assertTrue(Double.isFinite(product));
      try (var mode = Tensor.train()) {
        var loss = Tensor.randn(32, 64).matmul(w).relu().dropout(0.5).square().mean();
        loss.backward();
        opt.step(loss);
        opt.zeroGrad();
        assertTrue(Double.isFinite(loss.item()));
      }
    };
    for (int i = 0; i < 30; i++) iteration.run(); // warm-up: every kernel compiled, every cache filled
    var before = level();
    for (int i = 0; i < ITERATIONS; i++) iteration.run();
    var after = level();
    assertEquals(before.compiled(), after.compiled(), "random numbers and dropout reuse their kernels: nothing compiles after the warm-up");
    assertEquals(before.cacheFiles(), after.cacheFiles(), "the kernel cache on disk does not grow");
    assertTrue(after.buffers() <= before.buffers() + 8, "live buffers " + before.buffers() + " -> " + after.buffers());
    assertTrue(after.maps() <= before.maps() + 16, "mapped regions " + before.maps() + " -> " + after.maps());
    assertTrue(after.heap() <= before.heap() + (64 << 20), "heap " + (before.heap() >> 20) + " MB -> " + (after.heap() >> 20) + " MB");
  }
}
