package dev.tinygrad4j.nn;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Safetensors: exact round trips for every dtype, the reference layout, a file written from PyTorch, bad files. */
class SafetensorsTest {
  @TempDir Path dir;

  // ---------------------------------------------------------------- helpers
  private static ByteBuffer le(int n) { return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN); }

  private static Tensor tensor(DType dt, ByteBuffer data, int... shape) {
    return Tensor.fromBytes(MemorySegment.ofArray(Arrays.copyOf(data.array(), data.position())), dt, shape);
  }

  /** Bytes with awkward values for each dtype: extremes, sign bits, NaN, subnormals. */
  private static Tensor sample(DType dt) {
    var b = le(64);
    switch (dt) {
      case BOOL -> b.put(new byte[]{1, 0, 0, 1});
      case INT8 -> b.put(new byte[]{-128, 127, 0, -1});
      case UINT8 -> b.put(new byte[]{0, (byte) 255, (byte) 128, 7});
      case INT16 -> b.putShort(Short.MIN_VALUE).putShort(Short.MAX_VALUE).putShort((short) 0).putShort((short) -1);
      case UINT16 -> b.putShort((short) 0xFFFF).putShort((short) 0x8000).putShort((short) 1).putShort((short) 0x1234);
      case INT32 -> b.putInt(Integer.MIN_VALUE).putInt(Integer.MAX_VALUE).putInt(0).putInt(-7);
      case UINT32 -> b.putInt(0xFFFFFFFF).putInt(0x80000000).putInt(1).putInt(0xDEADBEEF);
      case INT64 -> b.putLong(Long.MIN_VALUE).putLong(Long.MAX_VALUE).putLong(0).putLong(-1);
      case UINT64 -> b.putLong(-1L).putLong(Long.MIN_VALUE).putLong(new BigInteger("12345678901234567890").longValue()).putLong(1);
      // 1.0, -0.0, smallest subnormal, NaN, +inf, 65504
      case FLOAT16 -> b.putShort((short) 0x3C00).putShort((short) 0x8000).putShort((short) 0x0001).putShort((short) 0x7E00);
      // 1.0, -0.0, smallest subnormal, a NaN with payload
      case BFLOAT16 -> b.putShort((short) 0x3F80).putShort((short) 0x8000).putShort((short) 0x0001).putShort((short) 0x7FC1);
      case FLOAT32 -> b.putFloat(1.5f).putFloat(-0f).putFloat(Float.MIN_VALUE).putFloat(Float.intBitsToFloat(0x7FC00123));
      case FLOAT64 -> b.putDouble(1.0 / 3).putDouble(-0.0).putDouble(Double.MIN_VALUE).putDouble(Double.MAX_VALUE);
    }
    return tensor(dt, b, 2, 2);
  }

  private Path write(String name, String header, byte[] data) throws IOException {
    var h = header.getBytes(StandardCharsets.UTF_8);
    var b = le(8 + h.length + data.length).putLong(h.length).put(h).put(data);
    var file = dir.resolve(name);
    Files.write(file, b.array());
    return file;
  }

  private static void rejects(Path file, String... mustMention) {
    var e = assertThrows(IllegalArgumentException.class, () -> Safetensors.load(file));
    assertTrue(e.getMessage().contains(file.toString()), () -> "message '" + e.getMessage() + "' should name the file");
    for (var m : mustMention)
      assertTrue(e.getMessage().contains(m), () -> "message '" + e.getMessage() + "' should mention " + m);
    // still usable afterwards
    assertArrayEquals(new float[]{2, 4}, Tensor.of(new float[]{1, 2}).mul(2).toFloatArray());
  }

  // ---------------------------------------------------------------- round trips
  @Test void roundTripEveryDtypeExactly() {
    var tensors = new LinkedHashMap<String, Tensor>();
    for (var dt : DType.values()) tensors.put("t_" + dt.lowerName(), sample(dt));
    var file = dir.resolve("all.safetensors");
    Safetensors.save(tensors, file);
    var loaded = Safetensors.load(file);
    assertEquals(tensors.keySet(), loaded.keySet());
    for (var dt : DType.values()) {
      var a = tensors.get("t_" + dt.lowerName());
      var b = loaded.get("t_" + dt.lowerName());
      assertEquals(dt, b.dtype());
      assertArrayEquals(new int[]{2, 2}, b.shape());
      assertArrayEquals(a.toBytes(), b.toBytes(), dt.lowerName());
    }
    // values, not just bytes, for a few types
    var i64 = ByteBuffer.wrap(loaded.get("t_int64").toBytes()).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(Long.MIN_VALUE, i64.getLong(0));
    assertEquals(Long.MAX_VALUE, i64.getLong(8));
    var u64 = ByteBuffer.wrap(loaded.get("t_uint64").toBytes()).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals("12345678901234567890", Long.toUnsignedString(u64.getLong(16)));
    assertArrayEquals(new int[]{1, 0, 0, 1}, loaded.get("t_bool").toIntArray());
    assertArrayEquals(new double[]{1.0 / 3, -0.0, Double.MIN_VALUE, Double.MAX_VALUE}, loaded.get("t_float64").toDoubleArray());
    assertEquals(Float.MIN_VALUE, loaded.get("t_float32").toFloatArray()[2]);
  }

  @Test void emptyAndScalarShapes() {
    var scalar = Tensor.fromBytes(MemorySegment.ofArray(new float[]{2.5f}), DType.FLOAT32);
    var empty = Tensor.fromBytes(MemorySegment.ofArray(new float[0]), DType.FLOAT32, 0, 3);
    var emptyLong = Tensor.fromBytes(MemorySegment.ofArray(new long[0]), DType.INT64, 0);
    var file = dir.resolve("shapes.safetensors");
    Safetensors.save(Map.of("scalar", scalar, "empty", empty, "empty_long", emptyLong), file);
    var loaded = Safetensors.load(file);
    assertArrayEquals(new int[0], loaded.get("scalar").shape());
    assertEquals(2.5, loaded.get("scalar").item());
    assertArrayEquals(new int[]{0, 3}, loaded.get("empty").shape());
    assertEquals(0, loaded.get("empty").toBytes().length);
    assertArrayEquals(new int[]{0}, loaded.get("empty_long").shape());
    assertEquals(DType.INT64, loaded.get("empty_long").dtype());
    // a data area of zero bytes
    var onlyEmpty = dir.resolve("only-empty.safetensors");
    Safetensors.save(Map.of("empty", empty), onlyEmpty);
    assertArrayEquals(new int[]{0, 3}, Safetensors.load(onlyEmpty).get("empty").shape());
  }

  @Test void noTensorsAtAll() {
    var file = dir.resolve("none.safetensors");
    Safetensors.save(Map.of(), file);
    assertTrue(Safetensors.load(file).isEmpty());
    assertTrue(Safetensors.metadata(file).isEmpty());
  }

  @Test void metadataRoundTrip() {
    var meta = new LinkedHashMap<String, String>();
    meta.put("format", "pt");
    meta.put("note", "quote \" backslash \\ newline \n tab \t bell \u0007 ünïcödé ✓");
    var file = dir.resolve("meta.safetensors");
    Safetensors.save(Map.of("w", Tensor.ones(2)), meta, file);
    assertEquals(meta, Safetensors.metadata(file));
    assertEquals(List.of("w"), List.copyOf(Safetensors.load(file).keySet()));
  }

  @Test void sameBytesAsTheReferenceWriter() throws IOException {
    // the reference implementation's own serialization tests give these exact files
    var data = Tensor.of(new float[]{0, 1, 2, 3, 4, 5}).reshape(1, 1, 2, 3);
    var file = dir.resolve("attn0.safetensors");
    Safetensors.save(Map.of("attn0", data), file);
    var bytes = Files.readAllBytes(file);
    var b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(72, b.getLong(0));
    assertEquals("{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}       ",
        new String(bytes, 8, 72, StandardCharsets.UTF_8));
    assertEquals(8 + 72 + 24, bytes.length);
    assertEquals(5f, b.getFloat(8 + 72 + 20));

    var meta = dir.resolve("meta.safetensors");
    Safetensors.save(Map.of(), Map.of("framework", "pt"), meta);
    var m = Files.readAllBytes(meta);
    assertEquals(40, ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN).getLong(0));
    assertEquals("{\"__metadata__\":{\"framework\":\"pt\"}}     ", new String(m, 8, 40, StandardCharsets.UTF_8));
  }

  @Test void widestDtypeFirstThenByName() {
    var file = dir.resolve("order.safetensors");
    var tensors = new LinkedHashMap<String, Tensor>();
    for (var dt : DType.values()) tensors.put("t_" + dt.lowerName(), Tensor.ones(3).cast(dt));
    tensors.put("a_float32", Tensor.ones(1));
    Safetensors.save(tensors, file);
    // the reference writer's order (its dtype enum, descending), which starts every tensor at a multiple of its size
    assertEquals(List.of("t_uint64", "t_int64", "t_float64", "a_float32", "t_float32", "t_uint32", "t_int32", "t_bfloat16",
        "t_float16", "t_uint16", "t_int16", "t_int8", "t_uint8", "t_bool"), List.copyOf(Safetensors.load(file).keySet()));
  }

  @Test void saveRejectsTheMetadataName() {
    var e = assertThrows(IllegalArgumentException.class, () -> Safetensors.save(Map.of("__metadata__", Tensor.ones(1)), dir.resolve("x")));
    assertTrue(e.getMessage().contains("__metadata__"), e.getMessage());
  }

  // ---------------------------------------------------------------- a file written from PyTorch
  private record Expected(String name, String code, int[] shape, List<String> values, List<String> bits) {}

  private static List<Expected> expected() throws Exception {
    var lines = Files.readAllLines(resource("torch_expected.txt"));
    var out = new ArrayList<Expected>();
    for (int i = 0; i < lines.size(); i += 3) {
      var head = lines.get(i).split(" ");
      assertEquals("tensor", head[0]);
      var shape = head[3].equals("_") ? new int[0] : Arrays.stream(head[3].split(",")).mapToInt(Integer::parseInt).toArray();
      out.add(new Expected(head[1], head[2], shape, rest(lines.get(i + 1), "values"), rest(lines.get(i + 2), "bits")));
    }
    return out;
  }

  private static List<String> rest(String line, String tag) {
    var parts = line.split(" ");
    assertEquals(tag, parts[0]);
    return Arrays.asList(parts).subList(1, parts.length);
  }

  private static Path resource(String name) throws Exception {
    return Path.of(SafetensorsTest.class.getResource("/safetensors/" + name).toURI());
  }

  private static double parseFloat(String s) {
    return switch (s) {
      case "nan" -> Double.NaN;
      case "inf" -> Double.POSITIVE_INFINITY;
      case "-inf" -> Double.NEGATIVE_INFINITY;
      default -> Double.parseDouble(s);
    };
  }

  @Test void readsAFileWrittenFromPyTorch() throws Exception {
    var file = resource("torch.safetensors");
    var loaded = Safetensors.load(file);
    var expected = expected();
    assertEquals(expected.stream().map(Expected::name).toList(), List.copyOf(loaded.keySet()), "file order");
    assertEquals("pt", Safetensors.metadata(file).get("format"));
    for (var e : expected) {
      var t = loaded.get(e.name());
      assertEquals(e.code(), Safetensors.code(t.dtype()), e.name());
      assertArrayEquals(e.shape(), t.shape(), e.name());
      int size = t.dtype().itemsize();
      var raw = t.toBytes();
      assertEquals(e.bits().size() * size, raw.length, e.name());
      for (int i = 0; i < e.bits().size(); i++) {
        long bits = 0;
        for (int k = size - 1; k >= 0; k--) bits = bits << 8 | (raw[i * size + k] & 0xFF);
        assertEquals(e.bits().get(i), Long.toUnsignedString(bits), e.name() + "[" + i + "] bits");
      }
      if (t.dtype().isFloat()) {
        var values = t.toDoubleArray();
        for (int i = 0; i < values.length; i++)
          assertEquals(0, Double.compare(parseFloat(e.values().get(i)), values[i]), e.name() + "[" + i + "] = " + values[i]);
      } else if (t.dtype() == DType.UINT64 || t.dtype() == DType.INT64) {
        var b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < e.values().size(); i++) {
          long v = b.getLong(8 * i);
          assertEquals(e.values().get(i), t.dtype() == DType.UINT64 ? Long.toUnsignedString(v) : Long.toString(v), e.name());
        }
      } else {
        // narrower ints and bool: through a cast to int64 on the device, so the values are read as the dtype says
        var b = ByteBuffer.wrap(t.cast(DType.INT64).toBytes()).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < e.values().size(); i++) assertEquals(Long.parseLong(e.values().get(i)), b.getLong(8 * i), e.name() + "[" + i + "]");
      }
    }
    // and what we write from it loads back identically
    var copy = dir.resolve("copy.safetensors");
    Safetensors.save(loaded, Safetensors.metadata(file), copy);
    var again = Safetensors.load(copy);
    for (var e : expected) assertArrayEquals(loaded.get(e.name()).toBytes(), again.get(e.name()).toBytes(), e.name());
  }

  // ---------------------------------------------------------------- bad files
  private static final String ONE = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}";

  @Test void acceptsAHandWrittenFileWithWhitespace() throws IOException {
    var file = write("ok", " {\n \"a\" : { \"shape\" : [ 2 , 2 ] , \"dtype\" : \"F32\", \"data_offsets\":[0,16], \"extra\": null } }\t ", new byte[16]);
    assertArrayEquals(new float[4], Safetensors.load(file).get("a").toFloatArray());
  }

  @Test void tooShort() throws IOException {
    var file = dir.resolve("short");
    Files.write(file, new byte[]{1, 2, 3, 4, 5});
    rejects(file, "5 bytes", "too short");
  }

  @Test void truncatedInHeader() throws IOException {
    var good = write("good", ONE, new byte[16]);
    var bytes = Files.readAllBytes(good);
    var file = dir.resolve("cut-header");
    Files.write(file, Arrays.copyOf(bytes, 8 + ONE.length() / 2));
    rejects(file, "header length " + ONE.length(), "truncated");
  }

  @Test void truncatedInData() throws IOException {
    var good = write("good", ONE, new byte[16]);
    var bytes = Files.readAllBytes(good);
    var file = dir.resolve("cut-data");
    Files.write(file, Arrays.copyOf(bytes, bytes.length - 3));
    rejects(file, "'a'", "[0, 16]", "13-byte data area", "truncated");
  }

  @Test void headerLengthHuge() throws IOException {
    var file = dir.resolve("huge");
    Files.write(file, le(16).putLong(-1L).putLong(0).array());
    rejects(file, "18446744073709551615", "limit");
    var file2 = dir.resolve("huge2");
    Files.write(file2, le(16).putLong(1L << 40).putLong(0).array());
    rejects(file2, "1099511627776", "limit");
  }

  @Test void garbageJson() throws IOException {
    rejects(write("garbage", "{\"a\": {\"dtype\": F32}}", new byte[0]), "not valid JSON");
    rejects(write("trailing", ONE + "x", new byte[16]), "not valid JSON", "after the JSON value");
    rejects(write("array", "[1, 2]", new byte[0]), "not a JSON object");
    rejects(write("control", "{\"a\u0000\":1}", new byte[0]), "not valid JSON", "control character");
    var deep = "[".repeat(100_000) + "]".repeat(100_000);
    rejects(write("deep", deep, new byte[0]), "nested deeper");
  }

  @Test void invalidUtf8() throws IOException {
    var file = dir.resolve("latin1");
    var header = new byte[]{'{', '"', (byte) 0xE9, '"', ':', '1', '}'};
    Files.write(file, le(8 + header.length).putLong(header.length).put(header).array());
    rejects(file, "UTF-8");
  }

  @Test void wrongFieldTypes() throws IOException {
    rejects(write("entry", "{\"a\":[1]}", new byte[0]), "'a'", "not an object");
    rejects(write("dtype", "{\"a\":{\"dtype\":5,\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]), "'a'", "\"dtype\"", "not a string");
    rejects(write("shape", "{\"a\":{\"dtype\":\"F32\",\"shape\":\"2x2\",\"data_offsets\":[0,16]}}", new byte[16]), "\"shape\"", "not an array");
    rejects(write("noshape", "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,16]}}", new byte[16]), "\"shape\"", "missing");
    rejects(write("floatdim", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2.0,2],\"data_offsets\":[0,16]}}", new byte[16]), "dimension 2.0");
    rejects(write("offsets", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0]}}", new byte[16]), "\"data_offsets\"");
    rejects(write("backwards", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[16,0]}}", new byte[16]), "\"data_offsets\"");
    rejects(write("meta", "{\"__metadata__\":{\"k\":1}}", new byte[0]), "__metadata__", "'k'", "not a string");
  }

  @Test void unknownDtype() throws IOException {
    rejects(write("f8", "{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[4],\"data_offsets\":[0,4]}}", new byte[4]), "unknown dtype 'F8_E4M3'");
  }

  @Test void negativeAndOverflowingShapes() throws IOException {
    rejects(write("neg", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2,2],\"data_offsets\":[0,16]}}", new byte[16]), "dimension -2");
    rejects(write("overflow", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,2147483647],\"data_offsets\":[0,16]}}", new byte[16]),
        "overflow");
    rejects(write("bigdim", "{\"a\":{\"dtype\":\"U8\",\"shape\":[4294967296],\"data_offsets\":[0,16]}}", new byte[16]), "dimension 4294967296");
    rejects(write("bignum", "{\"a\":{\"dtype\":\"U8\",\"shape\":[99999999999999999999999],\"data_offsets\":[0,16]}}", new byte[16]),
        "dimension 99999999999999999999999");
    rejects(write("numel", "{\"a\":{\"dtype\":\"U8\",\"shape\":[65536,65536],\"data_offsets\":[0,4294967296]}}", new byte[16]),
        "4294967296 elements");
  }

  @Test void wrongOffsets() throws IOException {
    rejects(write("size", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}}", new byte[12]), "hold 12 bytes", "needs 16");
    rejects(write("outside", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[1000,1016]}}", new byte[16]), "[1000, 1016]", "beyond");
    var two = "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[%d,%d]}}";
    rejects(write("overlap", two.formatted(8, 24), new byte[32]), "'b'", "overlap");
    rejects(write("gap", two.formatted(20, 36), new byte[36]), "'b'", "gap");
    rejects(write("leftover", ONE, new byte[20]), "cover 16 bytes", "20 bytes");
    rejects(write("late", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[4,20]}}", new byte[20]), "'a'", "starts at data byte 4");
  }

  @Test void duplicateNames() throws IOException {
    var dup = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
    rejects(write("dup", dup, new byte[8]), "duplicate key \"a\"");
  }

  @Test void missingFile() {
    var e = assertThrows(java.io.UncheckedIOException.class, () -> Safetensors.load(dir.resolve("nope.safetensors")));
    assertTrue(e.getMessage().contains("nope.safetensors"), e.getMessage());
  }
}
