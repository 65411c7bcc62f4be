package dev.tinygrad4j.nn;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.Tensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * Reads and writes NumPy's .npy format: the magic {@code \x93NUMPY}, the version (1.0, 2.0 or 3.0), the header
 * length (2 bytes little-endian for 1.0, 4 bytes otherwise), a header holding a Python dict literal
 * {@code {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }} padded with spaces and ended by a newline
 * (latin-1; UTF-8 for 3.0), then the data.
 *
 * <p>Reads the descrs {@code b1 i1 i2 i4 i8 u1 u2 u4 u8 f2 f4 f8} with byte order {@code <}, {@code >},
 * {@code =} (native) or, for one-byte types, {@code |}. Big-endian data is byte-swapped, Fortran-order data gives
 * the C-order tensor numpy shows, bool bytes other than 0 read as true (1), and shape {@code ()} gives a 0-d tensor.
 * Writes version 1.0 (2.0 when the header needs it), C order, little-endian, laid out byte for byte as NumPy 1.24
 * writes it. bfloat16 has no NumPy type: it is written as float32 values ({@code <f4}), so it reads back as float32.
 *
 * <p>A file is untrusted input: the header, the shape and the data size are all checked before any data is copied,
 * and every problem is an IllegalArgumentException whose message names the file and the problem. I/O errors are
 * UncheckedIOExceptions.
 */
public final class Npy {
  /** Headers longer than this are rejected (NumPy's own reader stops at 10000 characters). */
  public static final int MAX_HEADER_BYTES = 1 << 20;
  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
  private static final int ALIGN = 64, GROWTH_DIGITS = 21, MAX_DEPTH = 32;

  private Npy() {}

  /** A tuple from a header; lists are plain Lists. */
  private record Tuple(List<Object> items) {
    @Override public String toString() {
      return items.stream().map(v -> v instanceof String str ? "'" + str + "'" : String.valueOf(v)).collect(Collectors.joining(", ", "(", items.size() == 1 ? ",)" : ")"));
    }
  }

  private static IllegalArgumentException bad(String what, String problem) {
    return new IllegalArgumentException("npy " + what + ": " + problem);
  }

  private static String clip(String header) {
    var h = header.strip();
    return h.length() <= 200 ? h : h.substring(0, 200) + "...";
  }

  /** NumPy's type code: kind and item size ("f4", "u1", "b1"); bfloat16 is written as float32. */
  private static String code(DType dt) {
    if (dt == DType.BFLOAT16) return "f4";
    return (dt == DType.BOOL ? "b" : dt.isFloat() ? "f" : dt.isUnsigned() ? "u" : "i") + dt.itemsize();
  }

  // ================================================================ write
  /** Writes t to file, replacing it (see {@link #toBytes}). */
  public static void write(Path file, Tensor t) {
    try (var out = Files.newOutputStream(file)) {
      out.write(header(t.dtype(), t.shape()));
      out.write(data(t));
    } catch (IOException e) {
      throw new UncheckedIOException("npy " + file + ": cannot write: " + e.getMessage(), e);
    }
  }

  /** The .npy file of t: C order, little-endian ({@code |} for one-byte types), bfloat16 as {@code <f4}. */
  public static byte[] toBytes(Tensor t) {
    var head = header(t.dtype(), t.shape());
    var data = data(t);
    return ByteBuffer.allocate(head.length + data.length).put(head).put(data).array();
  }

  private static byte[] data(Tensor t) { return (t.dtype() == DType.BFLOAT16 ? t.cast(DType.FLOAT32) : t).toBytes(); }

  private static byte[] header(DType dt, int[] shape) {
    var dims = Arrays.stream(shape).mapToObj(Integer::toString).collect(Collectors.joining(", ", "(", shape.length == 1 ? ",)" : ")"));
    // as NumPy writes it, with room for the first dim to grow to 21 digits
    var dict = "{'descr': '" + (dt.itemsize() == 1 ? '|' : '<') + code(dt) + "', 'fortran_order': False, 'shape': " + dims + ", }"
        + (shape.length == 0 ? "" : " ".repeat(GROWTH_DIGITS - Integer.toString(shape[0]).length()));
    int prefix = 10, length = dict.length() + 1;
    int padded = length + ALIGN - (prefix + length) % ALIGN;
    if (padded > 0xFFFF) padded = length + ALIGN - ((prefix = 12) + length) % ALIGN;
    var b = ByteBuffer.allocate(prefix + padded).order(ByteOrder.LITTLE_ENDIAN).put(MAGIC).put((byte) (prefix == 10 ? 1 : 2)).put((byte) 0);
    if (prefix == 10) b.putShort((short) padded); else b.putInt(padded);
    b.put(dict.getBytes(StandardCharsets.ISO_8859_1));
    while (b.remaining() > 1) b.put((byte) ' ');
    return b.put((byte) '\n').array();
  }

  // ================================================================ read
  /** Reads a .npy file onto the default device (the file is memory-mapped and closed when this returns). */
  public static Tensor read(Path file) {
    try (var ch = FileChannel.open(file, StandardOpenOption.READ); var arena = Arena.ofConfined()) {
      return read(ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena), file.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("npy " + file + ": cannot read: " + e.getMessage(), e);
    }
  }

  /** Reads the contents of a .npy file onto the default device; what names it in messages. */
  public static Tensor read(byte[] bytes, String what) { return read(MemorySegment.ofArray(bytes), what); }

  private static Tensor read(MemorySegment in, String what) {
    long size = in.byteSize();
    if (size < MAGIC.length || MemorySegment.mismatch(in, 0, MAGIC.length, MemorySegment.ofArray(MAGIC), 0, MAGIC.length) >= 0)
      throw bad(what, "not a .npy file (it does not start with \\x93NUMPY)");
    int major = size < 8 ? -1 : in.get(ValueLayout.JAVA_BYTE, 6), minor = size < 8 ? -1 : in.get(ValueLayout.JAVA_BYTE, 7);
    if (major < 1 || major > 3 || minor != 0)
      throw bad(what, size < 8 ? "file ends before the version" : "unsupported format version " + major + "." + minor + " (1.0, 2.0 and 3.0 are supported)");
    int prefix = major == 1 ? 10 : 12;
    if (size < prefix) throw bad(what, "file has " + size + " bytes, too short for the header length");
    long length = major == 1 ? Short.toUnsignedLong(in.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 8))
        : Integer.toUnsignedLong(in.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 8));
    if (length > MAX_HEADER_BYTES) throw bad(what, "header length " + length + " is larger than the limit of " + MAX_HEADER_BYTES + " bytes");
    if (length > size - prefix) throw bad(what, "header length " + length + " runs past the end of the " + size + "-byte file (truncated?)");
    var raw = in.asSlice(prefix, length).toArray(ValueLayout.JAVA_BYTE);
    String text;
    try {
      text = major == 3 ? StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(raw)).toString() : new String(raw, StandardCharsets.ISO_8859_1);
    } catch (CharacterCodingException e) {
      throw bad(what, "header is not valid UTF-8");
    }
    if (!text.endsWith("\n")) throw bad(what, "header does not end in a newline (truncated?)");

    // the dict: exactly these keys, with values of the right kinds
    if (!(new Parser(text, what).parseAll() instanceof Map<?, ?> d)) throw bad(what, "header is not a dict: " + clip(text));
    if (!d.keySet().equals(Set.of("descr", "fortran_order", "shape")))
      throw bad(what, "header has keys " + d.keySet() + ", not descr, fortran_order and shape");
    if (!(d.get("descr") instanceof String descr)) throw bad(what, "descr " + d.get("descr") + " is a structured dtype, which is not supported");
    if (!(d.get("fortran_order") instanceof Boolean fortran)) throw bad(what, "fortran_order is " + d.get("fortran_order") + ", not True or False");
    if (!(d.get("shape") instanceof Tuple(var dims))) throw bad(what, "shape " + d.get("shape") + " is not a tuple");

    char order = descr.isEmpty() ? '?' : descr.charAt(0);
    var dt = descr.length() < 2 ? null : Arrays.stream(DType.values()).filter(t -> t != DType.BFLOAT16 && code(t).equals(descr.substring(1))).findFirst().orElse(null);
    if (dt == null || "<>=|".indexOf(order) < 0 || order == '|' && dt.itemsize() > 1)
      throw bad(what, "unsupported descr '" + descr + "' (supported: b1 i1 i2 i4 i8 u1 u2 u4 u8 f2 f4 f8, with byte order <, > or =, or | for one-byte types)");
    var shape = new int[dims.size()];
    long numel = 1;
    for (int i = 0; i < shape.length; i++) {
      if (!(dims.get(i) instanceof Long n)) throw bad(what, "shape " + d.get("shape") + " has a dimension that is not an integer");
      if (n < 0 || n > Integer.MAX_VALUE) throw bad(what, "shape " + d.get("shape") + " has dimension " + n + ", not in [0, " + Integer.MAX_VALUE + "]");
      shape[i] = (int) (long) n;
      numel = Math.min(numel * n, Integer.MAX_VALUE + 1L); // saturates: no overflow, and a later 0 still gives 0
    }
    if (numel > Integer.MAX_VALUE) throw bad(what, "shape " + d.get("shape") + " has more than " + Integer.MAX_VALUE + " elements");

    // the data: exactly the bytes the shape needs, swapped to little-endian, bools made 0 or 1
    long start = prefix + length, have = size - start, need = numel * dt.itemsize();
    if (have != need)
      throw bad(what, "data holds " + have + " bytes but " + descr + " " + d.get("shape") + " needs " + need
          + (have < need ? " (truncated?)" : " (extra bytes at the end)"));
    var data = in.asSlice(start, need);
    var byteOrder = order == '>' ? ByteOrder.BIG_ENDIAN : order == '=' ? ByteOrder.nativeOrder() : ByteOrder.LITTLE_ENDIAN;
    try (var arena = Arena.ofConfined()) {
      if (dt.itemsize() > 1 && byteOrder != ByteOrder.LITTLE_ENDIAN) { // (bool bytes other than 0/1: fromBytes makes them 1)
        var copy = arena.allocate(need);
        var layout = dt.itemsize() == 2 ? ValueLayout.JAVA_SHORT_UNALIGNED : dt.itemsize() == 4 ? ValueLayout.JAVA_INT_UNALIGNED : ValueLayout.JAVA_LONG_UNALIGNED;
        MemorySegment.copy(data, layout.withOrder(byteOrder), 0, copy, layout.withOrder(ByteOrder.LITTLE_ENDIAN), 0, numel);
        data = copy;
      }
      if (!fortran || shape.length < 2) return Tensor.fromBytes(data, dt, shape);
      // Fortran order is the C order of the reversed shape
      int n = shape.length;
      return Tensor.fromBytes(data, dt, IntStream.range(0, n).map(i -> shape[n - 1 - i]).toArray())
          .permute(IntStream.range(0, n).map(i -> n - 1 - i).toArray());
    }
  }

  /** A parser for the Python literals a header holds: dicts, tuples, lists, strings, integers, True and False. */
  private static final class Parser {
    private final String s, what;
    private int pos, depth;

    Parser(String s, String what) { this.s = s; this.what = what; }

    Object parseAll() {
      var v = value();
      if (more()) throw error("unexpected '" + s.charAt(pos) + "' after the value");
      return v;
    }

    private IllegalArgumentException error(String problem) {
      return bad(what, "cannot parse header at character " + pos + ": " + problem + " in " + clip(s));
    }

    private boolean more() {
      while (pos < s.length() && " \t\r\n".indexOf(s.charAt(pos)) >= 0) pos++;
      return pos < s.length();
    }

    private boolean next(char c) {
      boolean found = more() && s.charAt(pos) == c;
      if (found) pos++;
      return found;
    }

    private void expect(char c) {
      if (!next(c)) throw error("expected '" + c + "' but " + (more() ? "found '" + s.charAt(pos) + "'" : "the header ended"));
    }

    private Object value() {
      if (!more()) throw error("the header ended where a value was expected");
      char c = s.charAt(pos);
      if (c == '{' || c == '(' || c == '[') {
        if (++depth > MAX_DEPTH) throw error("values nested deeper than " + MAX_DEPTH);
        pos++;
        var v = items(c);
        depth--;
        return v;
      }
      if (c == '\'' || c == '"') return string(c);
      if (c == '-' || c >= '0' && c <= '9') return integer();
      if (s.startsWith("True", pos) || s.startsWith("False", pos)) {
        pos += c == 'T' ? 4 : 5;
        return c == 'T';
      }
      throw error("unexpected '" + c + "'");
    }

    /** The items of a dict, tuple or list, up to its closing bracket. */
    private Object items(char open) {
      char close = open == '{' ? '}' : open == '(' ? ')' : ']';
      var dict = new LinkedHashMap<String, Object>();
      var list = new ArrayList<Object>();
      boolean comma = false;
      while (!next(close)) {
        var v = value();
        if (open == '{') {
          if (!(v instanceof String key)) throw error("a dict key is not a string");
          if (dict.containsKey(key)) throw error("duplicate key '" + key + "'");
          expect(':');
          dict.put(key, value());
        } else list.add(v);
        if (!(comma = next(','))) {
          expect(close);
          break;
        }
      }
      if (open == '{') return dict;
      if (open == '[') return list;
      return list.size() == 1 && !comma ? list.getFirst() : new Tuple(list); // (5) is 5, (5,) a tuple
    }

    private String string(char quote) {
      int start = pos++;
      var out = new StringBuilder();
      while (true) {
        if (pos >= s.length() || s.charAt(pos) == '\n') {
          pos = start;
          throw error("unterminated string");
        }
        char c = s.charAt(pos++);
        if (c == quote) return out.toString();
        if (c == '\\') {
          if (pos >= s.length() || "\\'\"".indexOf(s.charAt(pos)) < 0) throw error("unsupported escape in a string");
          c = s.charAt(pos++);
        }
        out.append(c);
      }
    }

    private long integer() {
      int start = pos;
      if (s.charAt(pos) == '-') pos++;
      while (pos < s.length() && s.charAt(pos) >= '0' && s.charAt(pos) <= '9') pos++;
      var digits = s.substring(start, pos);
      try {
        return Long.parseLong(digits);
      } catch (NumberFormatException e) {
        pos = start;
        throw error("integer '" + digits + "' is " + (digits.length() > 1 ? "too large" : "not a number"));
      }
    }
  }
}
