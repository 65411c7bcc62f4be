package dev.tinygrad4j.nn;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.Tensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes the safetensors format: an 8-byte little-endian header length N, N bytes of a JSON header
 * {@code {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ..., "__metadata__": {...}}},
 * then the data, each tensor's bytes row-major and little-endian at {@code [begin, end)} of the data area.
 *
 * <p>A file is untrusted input: {@link #load} checks the whole header before it reads any data, and every problem
 * (a short file, an oversized or malformed header, an unknown dtype, a bad shape, offsets that do not match the
 * shape or do not tile the data area exactly) is an IllegalArgumentException whose message names the file and the
 * problem. I/O errors are UncheckedIOExceptions.
 */
public final class Safetensors {
  /** Headers longer than this are rejected (the reference implementation's limit). */
  public static final long MAX_HEADER_BYTES = 100_000_000;
  private static final String METADATA = "__metadata__";

  private Safetensors() {}

  /** One tensor's entry in a header, checked. */
  private record Entry(String name, DType dtype, int[] shape, long begin, long end) {}

  /** A checked header: where the data starts, the tensors in header order, and the metadata. */
  private record Header(long dataStart, List<Entry> entries, Map<String, String> metadata) {}

  // ================================================================ dtypes
  /** The safetensors name of a dtype ("F32", "BF16", "BOOL", ...). */
  public static String code(DType dt) {
    return switch (dt) {
      case BOOL -> "BOOL";
      case INT8 -> "I8";
      case UINT8 -> "U8";
      case INT16 -> "I16";
      case UINT16 -> "U16";
      case INT32 -> "I32";
      case UINT32 -> "U32";
      case INT64 -> "I64";
      case UINT64 -> "U64";
      case FLOAT16 -> "F16";
      case BFLOAT16 -> "BF16";
      case FLOAT32 -> "F32";
      case FLOAT64 -> "F64";
    };
  }

  private static DType dtypeOf(String code) {
    for (var dt : DType.values()) if (code(dt).equals(code)) return dt;
    return null;
  }

  // the reference writer orders data by its dtype enum descending, then by name, so every tensor starts at a
  // multiple of its item size; this is that enum's order
  private static int referenceRank(DType dt) {
    return switch (dt) {
      case BOOL -> 0;
      case UINT8 -> 1;
      case INT8 -> 2;
      case INT16 -> 3;
      case UINT16 -> 4;
      case FLOAT16 -> 5;
      case BFLOAT16 -> 6;
      case INT32 -> 7;
      case UINT32 -> 8;
      case FLOAT32 -> 9;
      case FLOAT64 -> 10;
      case INT64 -> 11;
      case UINT64 -> 12;
    };
  }

  // ================================================================ save
  /** Writes tensors to file (see {@link #save(Map, Map, Path)}), with no metadata. */
  public static void save(Map<String, Tensor> tensors, Path file) { save(tensors, Map.of(), file); }

  /**
   * Writes tensors and string metadata to file, replacing it. Like the reference implementation, the data is
   * ordered by dtype (widest first) and then by name, so each tensor is aligned to its item size, and the header
   * is padded with spaces to a multiple of 8 bytes. Names must not be null or "__metadata__".
   */
  public static void save(Map<String, Tensor> tensors, Map<String, String> metadata, Path file) {
    var names = new ArrayList<String>();
    for (var e : tensors.entrySet()) {
      if (e.getKey() == null || e.getKey().equals(METADATA))
        throw new IllegalArgumentException("safetensors " + file + ": cannot save a tensor named " + e.getKey());
      if (e.getValue() == null) throw new IllegalArgumentException("safetensors " + file + ": tensor '" + e.getKey() + "' is null");
      names.add(e.getKey());
    }
    for (var e : metadata.entrySet())
      if (e.getKey() == null || e.getValue() == null)
        throw new IllegalArgumentException("safetensors " + file + ": metadata may not hold null (" + e.getKey() + "=" + e.getValue() + ")");
    names.sort(Comparator.comparingInt((String n) -> -referenceRank(tensors.get(n).dtype())).thenComparing(Comparator.naturalOrder()));
    Tensor.realizeAll(names.stream().map(tensors::get).toArray(Tensor[]::new));

    var json = new StringBuilder("{");
    if (!metadata.isEmpty()) {
      json.append(Json.quote(METADATA)).append(":{");
      var sep = "";
      for (var e : metadata.entrySet()) {
        json.append(sep).append(Json.quote(e.getKey())).append(':').append(Json.quote(e.getValue()));
        sep = ",";
      }
      json.append('}').append(names.isEmpty() ? "" : ",");
    }
    long offset = 0;
    for (int i = 0; i < names.size(); i++) {
      var t = tensors.get(names.get(i));
      long nbytes = (long) t.numel() * t.dtype().itemsize();
      json.append(i == 0 ? "" : ",").append(Json.quote(names.get(i))).append(":{\"dtype\":\"").append(code(t.dtype()))
          .append("\",\"shape\":").append(Arrays.toString(t.shape()).replace(" ", ""))
          .append(",\"data_offsets\":[").append(offset).append(',').append(offset + nbytes).append("]}");
      offset += nbytes;
    }
    json.append('}');
    var header = json.toString().getBytes(StandardCharsets.UTF_8);
    int padded = (header.length + 7) / 8 * 8;
    var head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).put(header);
    while (head.hasRemaining()) head.put((byte) ' ');

    try (var ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
      writeFully(ch, head.flip());
      for (var name : names) writeFully(ch, ByteBuffer.wrap(tensors.get(name).toBytes()));
    } catch (IOException e) {
      throw new UncheckedIOException("safetensors " + file + ": cannot write: " + e.getMessage(), e);
    }
  }

  private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) ch.write(b);
  }

  // ================================================================ load
  /**
   * Reads every tensor of a file, in header order, onto the default device. The file is memory-mapped and each
   * tensor's bytes are copied from the mapping; the file is closed when this returns.
   */
  public static Map<String, Tensor> load(Path file) {
    try (var ch = FileChannel.open(file, StandardOpenOption.READ); var arena = Arena.ofConfined()) {
      var header = readHeader(ch, file);
      var out = new LinkedHashMap<String, Tensor>();
      if (header.entries().isEmpty()) return out;
      var data = ch.map(FileChannel.MapMode.READ_ONLY, header.dataStart(), ch.size() - header.dataStart(), arena);
      for (var e : header.entries())
        out.put(e.name(), Tensor.fromBytes(data.asSlice(e.begin(), e.end() - e.begin()), e.dtype(), e.shape()));
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException("safetensors " + file + ": cannot read: " + e.getMessage(), e);
    }
  }

  /** The file's {@code __metadata__} map (empty if it has none); the whole header is checked as by load. */
  public static Map<String, String> metadata(Path file) {
    try (var ch = FileChannel.open(file, StandardOpenOption.READ)) {
      return readHeader(ch, file).metadata();
    } catch (IOException e) {
      throw new UncheckedIOException("safetensors " + file + ": cannot read: " + e.getMessage(), e);
    }
  }

  private static IllegalArgumentException bad(Path file, String problem) {
    return new IllegalArgumentException("safetensors " + file + ": " + problem);
  }

  private static Header readHeader(FileChannel ch, Path file) throws IOException {
    long size = ch.size();
    if (size < 8) throw bad(file, "file has " + size + " bytes, too short for the 8-byte header length");
    var lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    readFully(ch, lenBuf, 0, file);
    long n = lenBuf.flip().getLong();
    if (n < 0 || n > MAX_HEADER_BYTES)
      throw bad(file, "header length " + Long.toUnsignedString(n) + " is larger than the limit of " + MAX_HEADER_BYTES + " bytes");
    if (n > size - 8) throw bad(file, "header length " + n + " is larger than the " + (size - 8) + " bytes after the length (file truncated?)");
    var headBuf = ByteBuffer.allocate((int) n);
    readFully(ch, headBuf, 8, file);
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder().decode(headBuf.flip()).toString();
    } catch (CharacterCodingException e) {
      throw bad(file, "header is not valid UTF-8");
    }
    Object json;
    try {
      json = Json.parse(text);
    } catch (IllegalArgumentException e) {
      throw bad(file, "header is not valid JSON: " + e.getMessage());
    }
    if (!(json instanceof Map<?, ?> top)) throw bad(file, "header is " + kind(json) + ", not a JSON object");

    var entries = new ArrayList<Entry>();
    Map<String, String> metadata = Map.of();
    for (var e : top.entrySet()) {
      var name = (String) e.getKey();
      if (name.equals(METADATA)) metadata = readMetadata(e.getValue(), file);
      else entries.add(readEntry(name, e.getValue(), file));
    }

    // the tensors must tile the data area exactly, in offset order, as the reference reader requires
    long dataSize = size - 8 - n;
    var byOffset = new ArrayList<>(entries);
    byOffset.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
    long covered = 0;
    String previous = null;
    for (var e : byOffset) {
      if (e.end() > dataSize)
        throw bad(file, "tensor '" + e.name() + "' has data_offsets [" + e.begin() + ", " + e.end() + "] beyond the "
            + dataSize + "-byte data area (file truncated?)");
      if (e.begin() != covered)
        throw bad(file, "tensor '" + e.name() + "' starts at data byte " + e.begin() + " but "
            + (previous == null ? "the data area starts at 0" : "tensor '" + previous + "' ends at " + covered)
            + (e.begin() < covered ? " (overlap)" : " (gap)"));
      covered = e.end();
      previous = e.name();
    }
    if (covered != dataSize)
      throw bad(file, "the tensors cover " + covered + " bytes of data but the data area holds " + dataSize + " bytes");
    return new Header(8 + n, entries, metadata);
  }

  private static void readFully(FileChannel ch, ByteBuffer b, long at, Path file) throws IOException {
    while (b.hasRemaining()) {
      int r = ch.read(b, at + b.position());
      if (r < 0) throw bad(file, "file ended while reading the header");
    }
  }

  private static Map<String, String> readMetadata(Object v, Path file) {
    if (!(v instanceof Map<?, ?> m)) throw bad(file, "__metadata__ is " + kind(v) + ", not an object of strings");
    var out = new LinkedHashMap<String, String>();
    for (var e : m.entrySet()) {
      if (!(e.getValue() instanceof String s))
        throw bad(file, "__metadata__ value of '" + e.getKey() + "' is " + kind(e.getValue()) + ", not a string");
      out.put((String) e.getKey(), s);
    }
    return out;
  }

  private static Entry readEntry(String name, Object v, Path file) {
    var what = "tensor '" + name + "'";
    if (!(v instanceof Map<?, ?> m)) throw bad(file, what + " is described by " + kind(v) + ", not an object");
    if (!(m.get("dtype") instanceof String code)) throw bad(file, what + ": \"dtype\" is " + kind(m.get("dtype")) + ", not a string");
    var dt = dtypeOf(code);
    if (dt == null)
      throw bad(file, what + " has unknown dtype '" + code + "' (supported: "
          + String.join(", ", Arrays.stream(DType.values()).map(Safetensors::code).toList()) + ")");
    if (!(m.get("shape") instanceof List<?> dims)) throw bad(file, what + ": \"shape\" is " + kind(m.get("shape")) + ", not an array");
    var shape = new int[dims.size()];
    long numel = 1;
    for (int i = 0; i < shape.length; i++) {
      if (!(dims.get(i) instanceof Long d) || d < 0)
        throw bad(file, what + ": shape " + dims + " has dimension " + dims.get(i) + ", not a non-negative integer");
      if (d > Integer.MAX_VALUE) throw bad(file, what + ": shape " + dims + " has dimension " + d + ", larger than " + Integer.MAX_VALUE);
      shape[i] = (int) (long) d;
      numel = multiply(numel, d, file, what, dims);
    }
    if (numel > Integer.MAX_VALUE) throw bad(file, what + ": shape " + dims + " has " + numel + " elements, more than a tensor holds");
    long nbytes = multiply(numel, dt.itemsize(), file, what, dims);
    if (!(m.get("data_offsets") instanceof List<?> off) || off.size() != 2
        || !(off.get(0) instanceof Long begin) || !(off.get(1) instanceof Long end) || begin < 0 || end < begin)
      throw bad(file, what + ": \"data_offsets\" is " + kind(m.get("data_offsets")) + " " + m.get("data_offsets")
          + ", not [begin, end] with 0 <= begin <= end");
    if (end - begin != nbytes)
      throw bad(file, what + ": data_offsets [" + begin + ", " + end + "] hold " + (end - begin) + " bytes but "
          + code + " " + dims + " needs " + nbytes);
    return new Entry(name, dt, shape, begin, end);
  }

  private static long multiply(long a, long b, Path file, String what, List<?> dims) {
    try {
      return Math.multiplyExact(a, b);
    } catch (ArithmeticException e) {
      throw bad(file, what + ": shape " + dims + " is too large (overflow)");
    }
  }

  private static String kind(Object v) {
    return switch (v) {
      case null -> "null or missing";
      case Map<?, ?> _ -> "an object";
      case List<?> _ -> "an array";
      case String _ -> "a string";
      case Boolean _ -> "a boolean";
      default -> "a number";
    };
  }
}
