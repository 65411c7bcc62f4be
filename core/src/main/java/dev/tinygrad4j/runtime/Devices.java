package dev.tinygrad4j.runtime;

import dev.tinygrad4j.Flags;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/** The devices this build knows, which of them work on this machine, and the default one. */
public final class Devices {
  private Devices() {}

  // fastest first: the default is the first one that is available
  private static final Map<String, Supplier<Device>> KNOWN = new LinkedHashMap<>();
  private static final Map<String, Device> OPEN = new LinkedHashMap<>();
  private static final Map<String, RuntimeException> FAILED = new LinkedHashMap<>(); // opened once, failed: not retried
  static {
    KNOWN.put("CPU", CpuDevice::new);
    KNOWN.put("JVM", JvmDevice::new);
    KNOWN.put("INTERP", Interpreter::new);
    KNOWN.put("CL", ClDevice::new); // after INTERP: never the default
    KNOWN.put("CUDA", CudaDevice::new);
  }

  /** Names of all devices this build has. */
  public static List<String> known() { return List.copyOf(KNOWN.keySet()); }

  /** Names of the devices that can run on this machine. */
  public static List<String> available() {
    return KNOWN.keySet().stream().filter(n -> {
      try { get(n); return true; } catch (RuntimeException e) { return false; }
    }).toList();
  }

  /** The device named by DEV, else the fastest available one. */
  public static String defaultName() {
    var dev = Flags.get("DEV");
    if (dev != null && !dev.isBlank()) return canonical(dev);
    for (var n : KNOWN.keySet()) {
      try { get(n); return n; } catch (RuntimeException e) { /* the next one */ }
    }
    throw new IllegalStateException("no device can run here: " + FAILED);
  }

  /** The device with this name (case-insensitive; "CPU:0"-style suffixes are ignored). */
  public static synchronized Device get(String name) {
    var n = canonical(name);
    var d = OPEN.get(n);
    if (d != null) return d;
    var s = KNOWN.get(n);
    if (s == null) throw new IllegalArgumentException("unknown device '" + name + "'; known devices: " + known());
    if (FAILED.containsKey(n)) throw FAILED.get(n);
    try {
      d = s.get();
    } catch (RuntimeException e) {
      FAILED.put(n, e);
      throw e;
    }
    OPEN.put(n, d);
    return d;
  }

  private static String canonical(String name) {
    var n = name.trim().toUpperCase();
    int colon = n.indexOf(':');
    return colon >= 0 ? n.substring(0, colon) : n;
  }
}
