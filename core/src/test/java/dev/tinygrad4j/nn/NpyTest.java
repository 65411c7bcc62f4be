package dev.tinygrad4j.nn;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Npy: files written by NumPy, exact round trips for every dtype, files NumPy reads back, bad files. */
class NpyTest {
  @TempDir Path dir;

  private static final Path PYTHON = Path.of("/usr/bin/python3");

  // ---------------------------------------------------------------- helpers
  private static DType dtypeOf(String code) {
    return switch (code) {
      case "b1" -> DType.BOOL;
      case "i1" -> DType.INT8;
      case "u1" -> DType.UINT8;
      case "i2" -> DType.INT16;
      case "u2" -> DType.UINT16;
      case "i4" -> DType.INT32;
      case "u4" -> DType.UINT32;
      case "i8" -> DType.INT64;
      case "u8" -> DType.UINT64;
      case "f2" -> DType.FLOAT16;
      case "f4" -> DType.FLOAT32;
      case "f8" -> DType.FLOAT64;
      default -> throw new AssertionError("no dtype for " + code);
    };
  }

  private static double parseFloat(String s) {
    return switch (s) {
      case "nan" -> Double.NaN;
      case "inf" -> Double.POSITIVE_INFINITY;
      case "-inf" -> Double.NEGATIVE_INFINITY;
      default -> Double.parseDouble(s);
    };
  }

  private static int[] parseShape(String s) {
    return s.equals("_") ? new int[0] : Arrays.stream(s.split(",")).mapToInt(Integer::parseInt).toArray();
  }

  /** Each element's little-endian bits as an unsigned integer. */
  private static List<BigInteger> bits(byte[] raw, int size) {
    var out = new ArrayList<BigInteger>();
    for (int i = 0; i < raw.length; i += size) {
      var be = new byte[size];
      for (int k = 0; k < size; k++) be[k] = raw[i + size - 1 - k];
      out.add(new BigInteger(1, be));
    }
    return out;
  }

  /** Compares t's values with Python's printed ones: floats bit-exactly as doubles, ints exactly, bool as 0/1. */
  private static void assertValues(List<String> expected, Tensor t, String name) {
    assertEquals(expected.size(), t.numel(), name + " element count");
    if (t.dtype().isFloat()) {
      var values = t.toDoubleArray();
      for (int i = 0; i < values.length; i++)
        assertEquals(0, Double.compare(parseFloat(expected.get(i)), values[i]), name + "[" + i + "] = " + values[i]);
    } else if (t.dtype() == DType.UINT64) {
      var b = ByteBuffer.wrap(t.toBytes()).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < expected.size(); i++) assertEquals(expected.get(i), Long.toUnsignedString(b.getLong(8 * i)), name + "[" + i + "]");
    } else {
      // through a cast to int64 on the device, so the values are read as the dtype says
      var b = ByteBuffer.wrap(t.cast(DType.INT64).toBytes()).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < expected.size(); i++) assertEquals(Long.parseLong(expected.get(i)), b.getLong(8 * i), name + "[" + i + "]");
    }
  }

  private static Path resource(String name) throws Exception {
    return Path.of(NpyTest.class.getResource("/npy/" + name).toURI());
  }

  private static List<String> rest(String line, String tag) {
    var parts = line.split(" ");
    assertEquals(tag, parts[0]);
    return Arrays.asList(parts).subList(1, parts.length);
  }

  // ---------------------------------------------------------------- files written by NumPy
  private record Expected(String name, String descr, boolean fortran, int[] shape, List<String> values, List<String> bits) {}

  private static List<Expected> expected() throws Exception {
    var lines = Files.readAllLines(resource("expected.txt"));
    var out = new ArrayList<Expected>();
    for (int i = 0; i < lines.size(); i += 3) {
      var head = lines.get(i).split(" ");
      assertEquals("array", head[0]);
      out.add(new Expected(head[1], head[2], head[3].equals("1"), parseShape(head[4]), rest(lines.get(i + 1), "values"), rest(lines.get(i + 2), "bits")));
    }
    return out;
  }

  @Test void readsEveryFileNumpyWrote() throws Exception {
    var expected = expected();
    assertEquals(29, expected.size());
    for (var e : expected) {
      var t = Npy.read(resource(e.name() + ".npy"));
      assertEquals(dtypeOf(e.descr().substring(1)), t.dtype(), e.name());
      assertArrayEquals(e.shape(), t.shape(), e.name());
      var bits = bits(t.toBytes(), t.dtype().itemsize());
      assertEquals(e.bits().size(), bits.size(), e.name());
      for (int i = 0; i < bits.size(); i++)
        assertEquals(new BigInteger(e.bits().get(i).substring(2), 16), bits.get(i), e.name() + "[" + i + "] bits");
      assertValues(e.values(), t, e.name());
    }
  }

  @Test void coversWhatTheFormatOffers() throws Exception {
    var expected = expected();
    assertTrue(expected.stream().anyMatch(e -> e.descr().startsWith(">f")), "big-endian");
    assertTrue(expected.stream().anyMatch(Expected::fortran), "fortran order");
    assertTrue(expected.stream().anyMatch(e -> e.shape().length == 0), "0-d");
    assertTrue(expected.stream().anyMatch(e -> e.shape().length > 0 && e.shape()[0] == 0), "empty");
    var versions = new TreeSet<Integer>();
    for (var e : expected) versions.add((int) Files.readAllBytes(resource(e.name() + ".npy"))[6]);
    assertEquals(Set.of(1, 2, 3), versions, "format versions");
  }

  @Test void rewritesNumpyFilesByteForByte() throws Exception {
    // our writer lays files out as NumPy 1.24 does, so a little-endian C-order version 1.0 file comes back identical
    int compared = 0;
    for (var e : expected()) {
      var bytes = Files.readAllBytes(resource(e.name() + ".npy"));
      if (e.descr().startsWith(">") || e.fortran() || bytes[6] != 1) continue;
      assertArrayEquals(bytes, Npy.toBytes(Npy.read(bytes, e.name())), e.name());
      compared++;
    }
    assertEquals(16, compared);
  }

  @Test void readsOtherByteOrderSpellingsOfOneByteTypes() throws Exception {
    for (var name : List.of("i1", "u1", "b1")) {
      var bytes = Files.readAllBytes(resource(name + ".npy"));
      var want = Npy.read(bytes, name).toBytes();
      var text = new String(bytes, StandardCharsets.ISO_8859_1);
      for (var order : List.of("<", ">", "="))
        assertArrayEquals(want, Npy.read(text.replace("'|" + name + "'", "'" + order + name + "'").getBytes(StandardCharsets.ISO_8859_1), name).toBytes(),
            order + name);
    }
  }

  // ---------------------------------------------------------------- hand-written headers
  private static byte[] npy(int version, String header, byte[] data) {
    var h = header.getBytes(version == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
    int prefix = version == 1 ? 10 : 12;
    var b = ByteBuffer.allocate(prefix + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN)
        .put(new byte[]{(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) version, 0});
    if (version == 1) b.putShort((short) h.length); else b.putInt(h.length);
    return b.put(h).put(data).array();
  }

  private static byte[] npy(String header, byte[] data) { return npy(1, header + "\n", data); }

  private static byte[] floats(float... v) {
    var b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (var f : v) b.putFloat(f);
    return b.array();
  }

  @Test void acceptsAnyKeyOrderQuotesAndSpacing() {
    var data = floats(1, 2, 3, 4, 5, 6);
    for (var header : List.of(
        "{'shape': (3, 2), 'fortran_order': False, 'descr': '<f4'}",
        "{\"descr\":\"<f4\",\"fortran_order\":False,\"shape\":(3,2,)}",
        "{ 'fortran_order' : False ,\n 'descr' : '<f4' , 'shape' : ( 3 , 2 ) , }    ")) {
      var t = Npy.read(npy(header, data), "hand");
      assertArrayEquals(new int[]{3, 2}, t.shape(), header);
      assertArrayEquals(new float[]{1, 2, 3, 4, 5, 6}, t.toFloatArray(), 0f, header);
    }
    for (int version : new int[]{2, 3}) {
      var t = Npy.read(npy(version, "{'descr': '<f4', 'fortran_order': True, 'shape': (3, 2), }\n", data), "v" + version);
      assertArrayEquals(new int[]{3, 2}, t.shape());
      assertArrayEquals(new float[]{1, 4, 2, 5, 3, 6}, t.toFloatArray(), 0f, "fortran order");
    }
  }

  @Test void boolBytesOtherThanZeroReadAsTrue() {
    var t = Npy.read(npy("{'descr': '|b1', 'fortran_order': False, 'shape': (4,), }", new byte[]{0, 1, 2, (byte) 255}), "bools");
    assertArrayEquals(new byte[]{0, 1, 1, 1}, t.toBytes());
    assertArrayEquals(new int[]{0, 1, 1, 1}, t.toIntArray());
  }

  // ---------------------------------------------------------------- round trips
  /** Awkward values for each dtype: extremes, sign bits, NaN, subnormals. */
  private static Tensor sample(DType dt) {
    var b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
    switch (dt) {
      case BOOL -> b.put(new byte[]{1, 0, 0, 1, 1, 1});
      case INT8 -> b.put(new byte[]{-128, 127, 0, -1, 5, -5});
      case UINT8 -> b.put(new byte[]{0, (byte) 255, (byte) 128, 7, 1, 2});
      case INT16 -> b.putShort(Short.MIN_VALUE).putShort(Short.MAX_VALUE).putShort((short) 0).putShort((short) -1).putShort((short) 3).putShort((short) -3);
      case UINT16 -> b.putShort((short) 0xFFFF).putShort((short) 0x8000).putShort((short) 1).putShort((short) 0x1234).putShort((short) 0).putShort((short) 2);
      case INT32 -> b.putInt(Integer.MIN_VALUE).putInt(Integer.MAX_VALUE).putInt(0).putInt(-7).putInt(1).putInt(65536);
      case UINT32 -> b.putInt(0xFFFFFFFF).putInt(0x80000000).putInt(1).putInt(0xDEADBEEF).putInt(0).putInt(7);
      case INT64 -> b.putLong(Long.MIN_VALUE).putLong(Long.MAX_VALUE).putLong(0).putLong(-1).putLong(1L << 40).putLong(3);
      case UINT64 -> b.putLong(-1L).putLong(Long.MIN_VALUE).putLong(new BigInteger("12345678901234567890").longValue()).putLong(1).putLong(0).putLong(9);
      // 1.0, -0.0, smallest subnormal, NaN, +inf, 65504
      case FLOAT16 -> b.putShort((short) 0x3C00).putShort((short) 0x8000).putShort((short) 0x0001).putShort((short) 0x7E00).putShort((short) 0x7C00).putShort((short) 0x7BFF);
      // 1.0, -0.0, smallest subnormal, NaN, -inf, 0.1 rounded
      case BFLOAT16 -> b.putShort((short) 0x3F80).putShort((short) 0x8000).putShort((short) 0x0001).putShort((short) 0x7FC0).putShort((short) 0xFF80).putShort((short) 0x3DCD);
      case FLOAT32 -> b.putFloat(1.5f).putFloat(-0f).putFloat(Float.MIN_VALUE).putFloat(Float.NaN).putFloat(Float.NEGATIVE_INFINITY).putFloat(Float.MAX_VALUE);
      case FLOAT64 -> b.putDouble(1.0 / 3).putDouble(-0.0).putDouble(Double.MIN_VALUE).putDouble(Double.MAX_VALUE).putDouble(Double.NaN).putDouble(-1e-310);
    }
    return Tensor.fromBytes(MemorySegment.ofArray(Arrays.copyOf(b.array(), b.position())), dt, 3, 2);
  }

  @Test void roundTripEveryDtypeExactly() {
    for (var dt : DType.values()) {
      var t = sample(dt);
      var file = dir.resolve(dt.lowerName() + ".npy");
      Npy.write(file, t);
      var back = Npy.read(file);
      var want = dt == DType.BFLOAT16 ? DType.FLOAT32 : dt; // bfloat16 is written as float32 values
      assertEquals(want, back.dtype(), dt.lowerName());
      assertArrayEquals(new int[]{3, 2}, back.shape(), dt.lowerName());
      assertArrayEquals(t.cast(want).toBytes(), back.toBytes(), dt.lowerName());
      assertArrayEquals(Npy.toBytes(t), Npy.toBytes(Npy.read(Npy.toBytes(t), "bytes")), dt.lowerName());
    }
    assertArrayEquals(new float[]{1, -0f, Float.intBitsToFloat(0x10000), Float.NaN, Float.NEGATIVE_INFINITY, Float.intBitsToFloat(0x3DCD0000)},
        Npy.read(dir.resolve("bfloat16.npy")).toFloatArray(), 0f);
  }

  @Test void roundTripShapes() {
    var scalar = Tensor.fromBytes(MemorySegment.ofArray(new double[]{2.5}), DType.FLOAT64);
    var back = Npy.read(Npy.toBytes(scalar), "scalar");
    assertArrayEquals(new int[0], back.shape());
    assertEquals(2.5, back.item());
    assertTrue(new String(Npy.toBytes(scalar), StandardCharsets.ISO_8859_1).contains("'shape': (), }"));
    var vector = new String(Npy.toBytes(Tensor.ones(5)), StandardCharsets.ISO_8859_1);
    assertTrue(vector.contains("'shape': (5,), }"), vector);

    var empty = Npy.read(Npy.toBytes(Tensor.fromBytes(MemorySegment.ofArray(new long[0]), DType.INT64, 0, 3)), "empty");
    assertArrayEquals(new int[]{0, 3}, empty.shape());
    assertEquals(DType.INT64, empty.dtype());
    assertEquals(0, empty.toBytes().length);

    // a non-contiguous view is written in C order of its own shape
    var t = Tensor.of(new float[]{0, 1, 2, 3, 4, 5}).reshape(2, 3).permute(1, 0);
    var b = Npy.read(Npy.toBytes(t), "permuted");
    assertArrayEquals(new int[]{3, 2}, b.shape());
    assertArrayEquals(new float[]{0, 3, 1, 4, 2, 5}, b.toFloatArray(), 0f);
  }

  @Test void numpyReadsWhatWeWrite() throws Exception {
    assumeTrue(Files.isExecutable(PYTHON), "no " + PYTHON);
    assumeTrue(new ProcessBuilder(PYTHON.toString(), "-c", "import numpy").start().waitFor() == 0, "numpy is not installed");
    var tensors = new LinkedHashMap<String, Tensor>();
    for (var dt : DType.values()) tensors.put(dt.lowerName(), sample(dt));
    tensors.put("scalar", Tensor.fromBytes(MemorySegment.ofArray(new int[]{-9}), DType.INT32));
    tensors.put("empty", Tensor.fromBytes(MemorySegment.ofArray(new float[0]), DType.FLOAT32, 0, 3));
    tensors.put("cube", Tensor.arange(24).reshape(2, 3, 4).cast(DType.INT16));
    var args = new ArrayList<>(List.of(PYTHON.toString(), "-c", """
        import sys, numpy as np
        for p in sys.argv[1:]:
            a = np.load(p)
            flat = [int(x) if isinstance(x, bool) else x for x in a.reshape(-1).tolist()]
            raw = np.ascontiguousarray(a).astype(a.dtype.newbyteorder('<')).tobytes().hex()
            print(a.dtype.str, ','.join(map(str, a.shape)) or '_', raw or '-', *map(repr, flat))
        """));
    for (var e : tensors.entrySet()) {
      var file = dir.resolve(e.getKey() + ".npy");
      Npy.write(file, e.getValue());
      args.add(file.toString());
    }
    var p = new ProcessBuilder(args).redirectErrorStream(true).start();
    var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), out);
    var lines = out.strip().split("\n");
    assertEquals(tensors.size(), lines.length, out);
    int i = 0;
    for (var e : tensors.entrySet()) {
      var t = e.getValue().dtype() == DType.BFLOAT16 ? e.getValue().cast(DType.FLOAT32) : e.getValue();
      var parts = Arrays.asList(lines[i++].split(" "));
      var dt = t.dtype();
      assertEquals((dt.itemsize() == 1 ? "|" : "<") + descrCode(dt), parts.get(0), e.getKey());
      assertArrayEquals(t.shape(), parseShape(parts.get(1)), e.getKey());
      assertEquals(t.numel() == 0 ? "-" : HexFormat.of().formatHex(t.toBytes()), parts.get(2), e.getKey());
      assertValues(parts.subList(3, parts.size()), t, e.getKey());
    }
  }

  private static String descrCode(DType dt) {
    return switch (dt) {
      case BOOL -> "b1";
      case INT8 -> "i1";
      case UINT8 -> "u1";
      case INT16 -> "i2";
      case UINT16 -> "u2";
      case INT32 -> "i4";
      case UINT32 -> "u4";
      case INT64 -> "i8";
      case UINT64 -> "u8";
      case FLOAT16 -> "f2";
      case BFLOAT16, FLOAT32 -> "f4";
      case FLOAT64 -> "f8";
    };
  }

  // ---------------------------------------------------------------- bad files
  private static void rejects(byte[] bytes, String... mustMention) {
    var e = assertThrows(IllegalArgumentException.class, () -> Npy.read(bytes, "test.npy"));
    assertTrue(e.getMessage().startsWith("npy test.npy: "), () -> "message '" + e.getMessage() + "' should name the file");
    for (var m : mustMention)
      assertTrue(e.getMessage().contains(m), () -> "message '" + e.getMessage() + "' should mention " + m);
  }

  private static final String F4_2X2 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";

  @Test void badMagicAndVersion() {
    rejects(new byte[0], "not a .npy file");
    rejects("\u0093NUMPX\u0001\u0000".getBytes(StandardCharsets.ISO_8859_1), "not a .npy file", "\\x93NUMPY");
    rejects("PK\u0003\u0004 a zip file".getBytes(StandardCharsets.ISO_8859_1), "not a .npy file");
    var good = npy(F4_2X2, new byte[16]);
    rejects(Arrays.copyOf(good, 7), "ends before the version");
    rejects(Arrays.copyOf(good, 9), "9 bytes", "too short");
    var v4 = good.clone();
    v4[6] = 4;
    rejects(v4, "version 4.0");
    var v11 = good.clone();
    v11[7] = 1;
    rejects(v11, "version 1.1");
  }

  @Test void truncatedOrOversizedHeader() {
    var good = npy(F4_2X2, new byte[16]);
    int length = F4_2X2.length() + 1;
    rejects(Arrays.copyOf(good, 10 + length / 2), "header length " + length, "runs past the end", "truncated");
    var past = good.clone();
    past[8] = past[9] = (byte) 0xFF;
    rejects(past, "header length 65535", "runs past the end");
    var huge = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN).put(Arrays.copyOf(npy(2, "", new byte[0]), 8)).putInt(-1).array();
    rejects(huge, "header length 4294967295", "limit");
    rejects(npy(1, F4_2X2, new byte[16]), "newline");
    rejects(npy(1, F4_2X2 + "   ", new byte[16]), "newline");
    rejects(npy(3, "{'descr': '\u00e9', 'fortran_order': False, 'shape': (), }\n", new byte[0]), "unsupported descr 'é'");
    var latin1 = npy(3, F4_2X2 + "\n", new byte[16]);
    latin1[12 + 1] = (byte) 0xE9; // the first quote: not UTF-8
    rejects(latin1, "not valid UTF-8");
  }

  @Test void wrongDataSize() {
    rejects(npy(F4_2X2, new byte[15]), "data holds 15 bytes", "<f4 (2, 2) needs 16", "truncated");
    rejects(npy(F4_2X2, new byte[17]), "data holds 17 bytes", "needs 16", "extra bytes");
    rejects(npy(F4_2X2, new byte[0]), "data holds 0 bytes");
    rejects(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", new byte[4]), "data holds 4 bytes", "() needs 8");
  }

  @Test void badShapes() {
    rejects(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 2), }", new byte[16]), "dimension -2");
    rejects(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }", new byte[16]), "dimension 1099511627776");
    rejects(npy("{'descr': '|u1', 'fortran_order': False, 'shape': (65536, 65536), }", new byte[16]), "(65536, 65536)", "more than 2147483647 elements");
    rejects(npy("{'descr': '|u1', 'fortran_order': False, 'shape': (2147483647, 2147483647, 2147483647, 2147483647, 2), }", new byte[16]),
        "more than 2147483647 elements");
    rejects(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }", new byte[16]), "'99999999999999999999999'", "too large");
    rejects(npy("{'descr': '<f4', 'fortran_order': False, 'shape': [2, 2], }", new byte[16]), "shape [2, 2] is not a tuple");
    rejects(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4), }", new byte[16]), "shape 4 is not a tuple");
    rejects(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, '2'), }", new byte[16]), "shape (2, '2') has a dimension that is not an integer");
    rejects(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, True), }", new byte[16]), "not an integer");
    // a zero dim makes a huge shape empty, as in numpy
    assertArrayEquals(new int[]{2147483647, 0, 2147483647},
        Npy.read(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2147483647, 0, 2147483647), }", new byte[0]), "zero").shape());
  }

  @Test void badDescr() {
    for (var descr : List.of("<c8", "|O", "<U5", "|S3", "|V8", "<M8[ns]", "<f16", "<i3", "f4", "|f4", "!f4", "", "<"))
      rejects(npy("{'descr': '" + descr + "', 'fortran_order': False, 'shape': (1,), }", new byte[8]), "unsupported descr '" + descr + "'");
    rejects(npy("{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (1,), }", new byte[8]), "structured");
    rejects(npy("{'descr': 5, 'fortran_order': False, 'shape': (1,), }", new byte[4]), "descr 5");
  }

  @Test void badHeaderSyntax() {
    rejects(npy("{'descr': '<f4, 'fortran_order': False, 'shape': (2, 2), }", new byte[16]), "cannot parse header");
    rejects(npy("{'descr': '<f4", new byte[16]), "unterminated string");
    rejects(npy("{\"descr\": \"<f4', 'fortran_order': False, 'shape': (2, 2), }", new byte[16]), "unterminated string");
    rejects(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), ", new byte[16]), "the header ended");
    rejects(npy("{'descr': '<f4', 'fortran_order': false, 'shape': (2, 2), }", new byte[16]), "unexpected 'f'");
    rejects(npy("{'descr': '<f4', 'fortran_order': None, 'shape': (2, 2), }", new byte[16]), "unexpected 'N'");
    rejects(npy("{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 2), }", new byte[16]), "fortran_order is 0");
    rejects(npy(F4_2X2 + " x", new byte[16]), "unexpected 'x' after the value");
    rejects(npy("{'descr': '<f4' 'fortran_order': False, 'shape': (2, 2), }", new byte[16]), "expected '}'");
    rejects(npy("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", new byte[16]), "duplicate key 'descr'");
    rejects(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), 'extra': 1, }", new byte[16]), "keys", "extra");
    rejects(npy("{'descr': '<f4', 'shape': (2, 2), }", new byte[16]), "keys");
    rejects(npy("{5: '<f4'}", new byte[16]), "key is not a string");
    rejects(npy("('<f4', False, (2, 2))", new byte[16]), "not a dict");
    rejects(npy("{'descr': '<f\\x34', 'fortran_order': False, 'shape': (2, 2), }", new byte[16]), "escape");
    rejects(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-, 2), }", new byte[16]), "'-'", "not a number");
    rejects(npy("", new byte[0]), "the header ended");
    var deep = "{'descr': '<f4', 'fortran_order': False, 'shape': " + "(".repeat(100_000) + ")".repeat(100_000) + ", }";
    rejects(npy(2, deep + "\n", new byte[0]), "nested deeper than");
  }

  @Test void fileErrorsNameThePath() throws IOException {
    var e = assertThrows(UncheckedIOException.class, () -> Npy.read(dir.resolve("nope.npy")));
    assertTrue(e.getMessage().contains("nope.npy"), e.getMessage());
    var w = assertThrows(UncheckedIOException.class, () -> Npy.write(dir.resolve("no-dir").resolve("x.npy"), Tensor.ones(1)));
    assertTrue(w.getMessage().contains("x.npy"), w.getMessage());
    var bad = dir.resolve("bad.npy");
    Files.write(bad, npy(F4_2X2, new byte[3]));
    var b = assertThrows(IllegalArgumentException.class, () -> Npy.read(bad));
    assertTrue(b.getMessage().contains(bad.toString()) && b.getMessage().contains("data holds 3 bytes"), b.getMessage());
    // and still usable afterwards
    assertArrayEquals(new float[]{2, 4}, Tensor.of(new float[]{1, 2}).mul(2).toFloatArray(), 0f);
  }
}
