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
    RuntimeException failure = null;
    try {
      chunk.run(0, Math.min(n, size));
    } catch (RuntimeException e) {
      failure = e;
    }
    // every chunk has finished before this returns, even on failure: the buffers may be freed and reused next
    for (var p : parts) {
      while (true) {
        try {
          p.get();
          break;
        } catch (java.util.concurrent.ExecutionException e) {
          if (failure == null) failure = e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
          break;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
    if (failure != null) throw failure;
  }
}
