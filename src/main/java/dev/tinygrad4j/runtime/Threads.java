package dev.tinygrad4j.runtime;

import dev.tinygrad4j.Flags;

import java.util.ArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** The fixed pool that runs THREAD-split kernels: [0, n) cut into one contiguous chunk per thread. */
public final class Threads {
  private Threads() {}

  /** What runs one chunk. */
  public interface Chunk { void run(int start, int end); }

  private static final int COUNT = Math.max(1, Flags.getInt("THREADS", Runtime.getRuntime().availableProcessors()));
  private static final ExecutorService POOL = Executors.newFixedThreadPool(COUNT, r -> {
    var t = new Thread(r, "tinygrad4j-kernel");
    t.setDaemon(true);
    return t;
  });

  /** Number of threads (THREADS overrides the number of cores). */
  public static int count() { return COUNT; }

  /** Runs chunk over [0, n) split across the threads; the caller runs the first part and waits for the rest. */
  public static void split(int n, Chunk chunk) {
    int size = (n + COUNT - 1) / COUNT;
    var parts = new ArrayList<Future<?>>();
    for (int t = 1; t * size < n; t++) {
      int start = t * size, end = Math.min(n, start + size);
      parts.add(POOL.submit(() -> chunk.run(start, end)));
    }
    chunk.run(0, Math.min(n, size));
    for (var p : parts) {
      try {
        p.get();
      } catch (java.util.concurrent.ExecutionException e) {
        throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while a kernel ran", e);
      }
    }
  }
}
