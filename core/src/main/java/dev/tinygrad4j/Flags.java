package dev.tinygrad4j;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Environment flags as in tinygrad (DEBUG, BEAM, NOOPT, DEV, ...): read from the environment, settable from code. */
public final class Flags {
  private Flags() {}
  private static final Map<String, String> OVERRIDES = new ConcurrentHashMap<>();

  /** The flag's value: the value set from code, else the environment variable, else null. */
  public static String get(String name) {
    var v = OVERRIDES.get(name);
    return v != null ? v : System.getenv(name);
  }

  /** The flag as an int, or dflt when unset or empty. */
  public static int getInt(String name, int dflt) {
    var v = get(name);
    if (v == null || v.isBlank()) return dflt;
    try {
      return Integer.parseInt(v.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("flag " + name + " must be an integer, got '" + v + "'");
    }
  }

  /** Sets a flag from code (overrides the environment); null clears it. */
  public static void set(String name, Object value) {
    if (value == null) OVERRIDES.remove(name);
    else OVERRIDES.put(name, value.toString());
  }

  /** The DEBUG level (0 when unset). */
  public static int debug() { return getInt("DEBUG", 0); }
}
