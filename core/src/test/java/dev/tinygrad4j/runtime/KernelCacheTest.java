package dev.tinygrad4j.runtime;

import dev.tinygrad4j.Tensor;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The CPU device's disk cache never loads what it did not verify: in a later run, a truncated (it would fault when
 * mapped), garbage or swapped library is detected, compiled again and replaced, with one line naming the file, and
 * the results stay right. Each run is a fresh JVM, as for a user whose cache was damaged between runs.
 */
class KernelCacheTest {
  /** One run: x + 3 and x * 3 on the CPU device, their values and the compiler runs it needed. */
  public static final class Child {
    public static void main(String[] args) {
      var x = Tensor.of(new float[]{1, 2, 3});
      System.out.println("add=" + Arrays.toString(x.add(3).toFloatArray()) + " mul=" + Arrays.toString(x.mul(3).toFloatArray())
          + " compiles=" + CpuDevice.compiles());
    }
  }

  private record Run(String out, String err) {}

  private static Run run(Path cache) throws IOException, InterruptedException {
    var jvm = ProcessHandle.current().info().command().orElseThrow();
    var pb = new ProcessBuilder(jvm, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), Child.class.getName());
    pb.environment().putAll(java.util.Map.of("XDG_CACHE_HOME", cache.toString(), "DEV", "CPU", "CPU_TIERS", "C"));
    var p = pb.start();
    var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    var err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.waitFor(), "the run must not crash:\n" + out + err);
    assertTrue(out.contains("add=[4.0, 5.0, 6.0] mul=[3.0, 6.0, 9.0]"), "wrong results:\n" + out + err);
    return new Run(out, err);
  }

  private static int compiles(Run r) { return Integer.parseInt(r.out().replaceAll("(?s).*compiles=(\\d+).*", "$1")); }

  /** The compiled libraries in the cache (regular files, not the links of kernels compiled with others). */
  private static List<Path> libraries(Path cache) throws IOException {
    try (var files = Files.list(cache.resolve("tinygrad4j").resolve("cpu"))) {
      return files.filter(f -> f.toString().endsWith(".so") && Files.isRegularFile(f, java.nio.file.LinkOption.NOFOLLOW_LINKS)).sorted().toList();
    }
  }

  @Test void truncatedGarbageAndSwappedLibrariesAreCompiledAgain() throws Exception {
    var cache = Files.createTempDirectory("tinygrad4j-cache-test");
    assertEquals(2, compiles(run(cache)), "a first run compiles both kernels");
    assertEquals(0, compiles(run(cache)), "a second run loads them from the cache");
    var libs = libraries(cache);
    assertEquals(2, libs.size(), "one library per kernel: " + libs);

    var good = new ArrayList<byte[]>();
    for (var lib : libs) good.add(Files.readAllBytes(lib));
    for (int i = 0; i < libs.size(); i++) Files.write(libs.get(i), Arrays.copyOf(good.get(i), good.get(i).length / 3));
    var truncated = run(cache);
    assertEquals(2, compiles(truncated), "truncated libraries are compiled again");
    assertTrue(truncated.err().contains("does not match its checksum"), truncated.err());
    assertTrue(truncated.err().contains(libs.getFirst().getFileName().toString()), "the warning names the file: " + truncated.err());
    assertEquals(0, compiles(run(cache)), "and replaced");

    for (var lib : libraries(cache)) Files.write(lib, new byte[4096]);
    assertEquals(2, compiles(run(cache)), "garbage is compiled again");

    // swapped along with their checksum files: each checksum matches, but the kernel it must hold is not there
    libs = libraries(cache);
    var tmp = cache.resolve("swap.tmp");
    for (var suffix : List.of("", ".sha256")) {
      var a = Path.of(libs.get(0) + suffix); var b = Path.of(libs.get(1) + suffix);
      Files.move(a, tmp);
      Files.move(b, a);
      Files.move(tmp, b);
    }
    var swapped = run(cache);
    assertEquals(2, compiles(swapped), "swapped libraries are compiled again (x + 3 never runs x * 3)");
    assertTrue(swapped.err().contains("lacks kernel"), swapped.err());
    assertEquals(0, compiles(run(cache)));
  }
}
