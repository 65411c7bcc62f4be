package dev.tinygrad4j.runtime;

import java.lang.foreign.Arena;

/** Calls into a native library for a device: whatever a downcall throws comes back as an IllegalStateException. */
final class Foreign {
  private Foreign() {}

  /** A body of downcalls with a confined arena for its temporaries. */
  interface Call<T> { T run(Arena a) throws Throwable; }

  static <T> T call(String device, Call<T> body) {
    try (var a = Arena.ofConfined()) {
      return body.run(a);
    } catch (RuntimeException e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(device + ": " + t, t);
    }
  }
}
