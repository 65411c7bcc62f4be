package dev.tinygrad4j.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.Tensor;
import dev.tinygrad4j.onnx.OnnxModel.TensorData;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reading ONNX model files, which are untrusted input. Models are built here with {@link ProtoWriter} (field numbers
 * as in onnx.proto), so each test states exactly the bytes it feeds the reader:
 * <ul>
 *   <li>a small MatMul/Add/Relu model loads and runs to values computed by hand;</li>
 *   <li>initializers in every encoding (raw_data and each typed field) read back to the values written;</li>
 *   <li>external data resolves only inside the model's folder, and offset, length and file size are checked;</li>
 *   <li>declared sizes (dims, raw_data, field lengths, varints, nesting) are checked before anything is allocated;</li>
 *   <li>truncated or bit-flipped files end in an OnnxException or a model, never in any other exception;</li>
 *   <li>unsupported ops, dangling node inputs and bad run-time inputs give errors that name what is wrong;</li>
 *   <li>the real all-MiniLM-L6-v2 model reads with its inputs, output and opset, and no op is unsupported.</li>
 * </ul>
 * Every error is checked by its message, not only its type.
 */
class OnnxModelTest {
  // TensorProto.DataType codes
  static final int FLOAT = 1, UINT8 = 2, INT8 = 3, UINT16 = 4, INT16 = 5, INT32 = 6, INT64 = 7, STRING = 8, BOOL = 9,
      FLOAT16 = 10, DOUBLE = 11, UINT32 = 12, UINT64 = 13, BFLOAT16 = 16;
  static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

  // ---- building ONNX messages

  /** A TensorProto header: dims (packed), data_type and name; the data fields are added by the caller. */
  static ProtoWriter tensor(String name, int dataType, long... dims) {
    var t = new ProtoWriter();
    if (dims.length > 0) t.packedVarints(1, dims);
    return t.varint(2, dataType).string(8, name);
  }

  /** A float tensor whose values are in raw_data. */
  static ProtoWriter rawFloats(String name, long[] dims, float... values) {
    return tensor(name, FLOAT, dims).bytes(9, littleEndian(values));
  }

  /** A tensor stored in a file: data_location = EXTERNAL and the external_data entries given (key, value, ...). */
  static ProtoWriter externalTensor(String name, int dataType, long[] dims, String... keyValues) {
    var t = tensor(name, dataType, dims);
    for (int i = 0; i < keyValues.length; i += 2)
      t.message(13, new ProtoWriter().string(1, keyValues[i]).string(2, keyValues[i + 1]));
    return t.varint(14, 1);
  }

  static ProtoWriter node(String name, String opType, List<String> inputs, List<String> outputs) {
    var n = new ProtoWriter();
    for (var in : inputs) n.string(1, in);
    for (var out : outputs) n.string(2, out);
    return n.string(3, name).string(4, opType);
  }

  /** A ValueInfoProto of a tensor type; dims are Longs (dim_value) or Strings (dim_param). */
  static ProtoWriter valueInfo(String name, int elemType, Object... dims) {
    var shape = new ProtoWriter();
    for (var d : dims)
      shape.message(1, d instanceof String param ? new ProtoWriter().string(2, param) : new ProtoWriter().varint(1, ((Number) d).longValue()));
    var tensorType = new ProtoWriter().varint(1, elemType).message(2, shape);
    return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensorType));
  }

  /** A ModelProto: ir_version 8, the graph, and an import of the default opset at the version given. */
  static byte[] model(ProtoWriter graph, long opset) {
    return new ProtoWriter().varint(1, 8).message(7, graph).message(8, new ProtoWriter().string(1, "").varint(2, opset)).toByteArray();
  }

  /** A model whose graph holds just these initializers. */
  static byte[] modelWithInitializers(ProtoWriter... initializers) {
    var g = new ProtoWriter().string(2, "inits");
    for (var t : initializers) g.message(5, t);
    return model(g, 13);
  }

  static byte[] littleEndian(float... values) {
    var b = ByteBuffer.allocate(4 * values.length).order(LE);
    for (float v : values) b.putFloat(v);
    return b.array();
  }

  /**
   * The small model of these tests: Y = Relu(MatMul(X, W) + B) with X float [2, 3], W [3, 2] in raw_data and B [2] in
   * float_data.
   */
  static byte[] smallModel() {
    var graph = new ProtoWriter()
        .message(1, node("matmul", "MatMul", List.of("X", "W"), List.of("XW")))
        .message(1, node("bias", "Add", List.of("XW", "B"), List.of("Z")))
        .message(1, node("relu", "Relu", List.of("Z"), List.of("Y")))
        .string(2, "small")
        .message(5, rawFloats("W", new long[]{3, 2}, 1, -1, 0, 2, -1, 0.5f))
        .message(5, tensor("B", FLOAT, 2).packedFloats(4, 3, -5))
        .message(11, valueInfo("X", FLOAT, "batch", 3L))
        .message(12, valueInfo("Y", FLOAT, "batch", 2L));
    return new ProtoWriter().varint(1, 8).message(7, graph).raw(SMALL_MODEL_OPSETS).toByteArray();
  }

  /** The small model's last fields: opset imports of the default domain (13) and of com.example (1). */
  static final byte[] SMALL_MODEL_OPSETS = new ProtoWriter()
      .message(8, new ProtoWriter().string(1, "").varint(2, 13))
      .message(8, new ProtoWriter().string(1, "com.example").varint(2, 1)).toByteArray();

  static OnnxModel parse(byte[] bytes) { return OnnxModel.parse(bytes, null, "test.onnx"); }

  static TensorData initializer(OnnxModel m, String name) {
    var t = m.graph().initializers().get(name);
    assertNotNull(t, "initializer " + name);
    return t;
  }

  static float[] floats(TensorData t) { return t.bytes().toArray(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE)); }
  static double[] doubles(TensorData t) { return t.bytes().toArray(ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(LE)); }
  static short[] shorts(TensorData t) { return t.bytes().toArray(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE)); }
  static long[] integers(TensorData t) { return OnnxRunner.longs(t.bytes(), t.dtype()); }

  /** Asserts that running fails with an OnnxException whose message contains every part given; returns the message. */
  static String assertFails(Executable run, String... parts) {
    var e = assertThrows(OnnxException.class, run);
    for (var part : parts) assertTrue(e.getMessage().contains(part), () -> "message should contain '" + part + "': " + e.getMessage());
    return e.getMessage();
  }

  // ---- 1. a small model end to end

  @Test void smallModelLoadsAndRunsToHandComputedValues() {
    var m = parse(smallModel());
    assertEquals(8, m.irVersion());
    assertEquals(Map.of("", 13L, "com.example", 1L), m.opsets());
    assertEquals("small", m.graph().name());
    assertEquals(List.of("MatMul", "Add", "Relu"), m.graph().nodes().stream().map(OnnxModel.Node::opType).toList());
    assertEquals(List.of("XW", "B"), m.graph().nodes().get(1).inputs());
    var x = m.graph().inputs().getFirst();
    assertEquals("X", x.name());
    assertEquals(DType.FLOAT32, x.dtype());
    assertEquals(List.of("batch", 3L), x.dims());
    assertEquals("Y", m.graph().outputs().getFirst().name());

    var y = new OnnxRunner(m).run(Map.of("X", Tensor.of(new float[][]{{1, 2, 3}, {4, 5, 6}}))).get("Y");
    // X·W = [[1+0-3, -1+4+1.5], [4+0-6, -4+10+3]] = [[-2, 4.5], [-2, 9]]; + B = [[1, -0.5], [1, 4]]; Relu
    assertArrayEquals(new int[]{2, 2}, y.shape());
    assertArrayEquals(new float[]{1, 0, 1, 4}, y.toFloatArray(), 1e-6f);
  }

  @Test void attributesOfEveryKindAreRead() {
    var attrs = new ProtoWriter[]{
        new ProtoWriter().string(1, "alpha").float32(2, 0.25f).varint(20, OnnxModel.Attribute.FLOAT),
        new ProtoWriter().string(1, "axis").varint(3, -1).varint(20, OnnxModel.Attribute.INT),
        new ProtoWriter().string(1, "mode").string(4, "nearest").varint(20, OnnxModel.Attribute.STRING),
        new ProtoWriter().string(1, "value").message(5, tensor("v", INT64, 2).packedVarints(7, 7, -7)).varint(20, OnnxModel.Attribute.TENSOR),
        new ProtoWriter().string(1, "scales").packedFloats(7, 1.5f, 2).varint(20, OnnxModel.Attribute.FLOATS),
        new ProtoWriter().string(1, "pads").packedVarints(8, 0, 1, -2).varint(20, OnnxModel.Attribute.INTS),
        new ProtoWriter().string(1, "perm").varint(8, 2).varint(8, 0).varint(20, OnnxModel.Attribute.INTS)}; // unpacked
    var n = node("n", "Foo", List.of("x"), List.of("y"));
    for (var a : attrs) n.message(5, a);
    var node = parse(model(new ProtoWriter().message(1, n), 13)).graph().nodes().getFirst();
    assertEquals(0.25f, OnnxModel.attr(node, "alpha").f());
    assertEquals(-1, OnnxModel.attr(node, "axis").i());
    assertEquals("nearest", new String(OnnxModel.attr(node, "mode").s()));
    assertArrayEquals(new long[]{7, -7}, integers(OnnxModel.attr(node, "value").t()));
    assertArrayEquals(new float[]{1.5f, 2}, OnnxModel.attr(node, "scales").floats());
    assertArrayEquals(new long[]{0, 1, -2}, OnnxModel.attr(node, "pads").ints());
    assertArrayEquals(new long[]{2, 0}, OnnxModel.attr(node, "perm").ints());
  }

  // ---- 2. initializers in every encoding

  @Test void initializersInEveryEncodingReadTheirValues() {
    short half = Float.floatToFloat16(1.5f), negHalf = Float.floatToFloat16(-0.25f);
    int bf16 = Float.floatToRawIntBits(-2.5f) >>> 16;
    var m = parse(modelWithInitializers(
        rawFloats("t", new long[]{2}, 1.25f, -3),
        tensor("raw_i64", INT64, 2).bytes(9, ByteBuffer.allocate(16).order(LE).putLong(-9).putLong(1L << 40).array()),
        tensor("float_data", FLOAT, 3).packedFloats(4, 0.5f, -1, 3e38f),
        tensor("float_unpacked", FLOAT, 2).float32(4, 7).float32(4, -8),
        tensor("scalar", FLOAT).packedFloats(4, 42),
        tensor("int8", INT8, 3).packedVarints(5, -3, 127, -128),
        tensor("uint8", UINT8, 3).packedVarints(5, 0, 200, 255),
        tensor("int16", INT16, 2).packedVarints(5, -30000, 5),
        tensor("uint16", UINT16, 2).packedVarints(5, 65535, 1),
        tensor("bool", BOOL, 3).packedVarints(5, 1, 0, 1),
        tensor("float16", FLOAT16, 2).packedVarints(5, half & 0xFFFF, negHalf & 0xFFFF),
        tensor("bfloat16", BFLOAT16, 1).packedVarints(5, bf16),
        tensor("int32", INT32, 3).packedVarints(5, -5, Integer.MAX_VALUE, Integer.MIN_VALUE),
        tensor("int32_unpacked", INT32, 2).varint(5, -1).varint(5, 9),
        tensor("int64", INT64, 2, 2).packedVarints(7, -1, Long.MAX_VALUE, Long.MIN_VALUE, 0),
        tensor("double", DOUBLE, 2).packedDoubles(10, 3.25, -1e300),
        tensor("double_unpacked", DOUBLE, 1).float64(10, Math.PI),
        tensor("uint64", UINT64, 2).packedVarints(11, -1, 5),
        tensor("uint32", UINT32, 2).packedVarints(11, 4294967295L, 7),
        tensor("empty", FLOAT, 0, 3)));
    var g = m.graph();
    assertEquals(20, g.initializers().size());

    assertArrayEquals(new float[]{1.25f, -3}, floats(initializer(m, "t")));
    assertArrayEquals(new long[]{-9, 1L << 40}, integers(initializer(m, "raw_i64")));
    assertArrayEquals(new float[]{0.5f, -1, 3e38f}, floats(initializer(m, "float_data")));
    assertArrayEquals(new float[]{7, -8}, floats(initializer(m, "float_unpacked")));
    assertArrayEquals(new int[0], initializer(m, "scalar").shape());
    assertArrayEquals(new float[]{42}, floats(initializer(m, "scalar")));
    assertArrayEquals(new long[]{-3, 127, -128}, integers(initializer(m, "int8")));
    assertArrayEquals(new long[]{0, 200, 255}, integers(initializer(m, "uint8")));
    assertArrayEquals(new long[]{-30000, 5}, integers(initializer(m, "int16")));
    assertArrayEquals(new long[]{65535, 1}, integers(initializer(m, "uint16")));
    assertArrayEquals(new long[]{1, 0, 1}, integers(initializer(m, "bool")));
    var f16 = shorts(initializer(m, "float16"));
    assertEquals(1.5f, Float.float16ToFloat(f16[0]));
    assertEquals(-0.25f, Float.float16ToFloat(f16[1]));
    assertEquals(-2.5f, Float.intBitsToFloat((shorts(initializer(m, "bfloat16"))[0] & 0xFFFF) << 16));
    assertArrayEquals(new long[]{-5, Integer.MAX_VALUE, Integer.MIN_VALUE}, integers(initializer(m, "int32")));
    assertArrayEquals(new long[]{-1, 9}, integers(initializer(m, "int32_unpacked")));
    assertArrayEquals(new int[]{2, 2}, initializer(m, "int64").shape());
    assertArrayEquals(new long[]{-1, Long.MAX_VALUE, Long.MIN_VALUE, 0}, integers(initializer(m, "int64")));
    assertArrayEquals(new double[]{3.25, -1e300}, doubles(initializer(m, "double")));
    assertArrayEquals(new double[]{Math.PI}, doubles(initializer(m, "double_unpacked")));
    assertArrayEquals(new long[]{-1, 5}, integers(initializer(m, "uint64"))); // 2^64 - 1 as a signed long
    assertArrayEquals(new long[]{4294967295L, 7}, integers(initializer(m, "uint32")));
    assertArrayEquals(new int[]{0, 3}, initializer(m, "empty").shape());
    assertEquals(0, initializer(m, "empty").bytes().byteSize());

    var types = Map.of("int8", DType.INT8, "uint8", DType.UINT8, "int16", DType.INT16, "bool", DType.BOOL, "float16", DType.FLOAT16,
        "bfloat16", DType.BFLOAT16, "uint32", DType.UINT32, "uint64", DType.UINT64, "double", DType.FLOAT64, "int64", DType.INT64);
    types.forEach((name, dt) -> assertEquals(dt, initializer(m, name).dtype(), name));
  }

  @Test void valuesInTheFieldOfAnotherTypeAreRejected() {
    assertFails(() -> parse(modelWithInitializers(tensor("t", INT64, 2).packedFloats(4, 1, 2))), "tensor 't'", "float_data", "INT64");
    assertFails(() -> parse(modelWithInitializers(tensor("t", FLOAT, 1).packedDoubles(10, 1))), "tensor 't'", "double_data", "FLOAT");
    assertFails(() -> parse(modelWithInitializers(tensor("t", INT8, 2).packedVarints(7, 1, 2))), "tensor 't'", "int64_data", "INT8");
    assertFails(() -> parse(modelWithInitializers(tensor("t", INT32, 2).packedVarints(5, 1).packedVarints(7, 2))), "tensor 't'", "int64_data");
  }

  @Test void unsupportedElementTypesAreNamed() {
    assertFails(() -> parse(modelWithInitializers(tensor("words", STRING, 1).bytes(6, "hi".getBytes()))), "tensor 'words'", "strings");
    assertFails(() -> parse(modelWithInitializers(tensor("c", 14, 1).bytes(9, new byte[8]))), "tensor 'c'", "COMPLEX64");
    assertFails(() -> parse(modelWithInitializers(tensor("odd", 99, 1).bytes(9, new byte[1]))), "tensor 'odd'", "type 99");
  }

  // ---- 3. external data

  /** A model folder holding weights.bin: 8 bytes of padding, the floats 1.5, -2, 4, then 4 more bytes. */
  static Path modelFolder(Path tmp) throws IOException {
    var dir = Files.createDirectories(tmp.resolve("model"));
    var data = ByteBuffer.allocate(24).order(LE).putLong(-1).putFloat(1.5f).putFloat(-2).putFloat(4).putInt(-1).array();
    Files.write(dir.resolve("weights.bin"), data);
    Files.write(tmp.resolve("secret.bin"), data); // outside the model's folder, so a missing file is never the reason
    return dir;
  }

  static byte[] externalModel(String... keyValues) {
    return modelWithInitializers(externalTensor("w_ext", FLOAT, new long[]{3}, keyValues));
  }

  @Test void externalDataReadsFromAFileNextToTheModel(@TempDir Path tmp) throws IOException {
    var dir = modelFolder(tmp);
    var file = dir.resolve("model.onnx");
    Files.write(file, externalModel("location", "weights.bin", "offset", "8", "length", "12"));
    assertArrayEquals(new float[]{1.5f, -2, 4}, floats(initializer(OnnxModel.load(file), "w_ext")));

    Files.createDirectories(dir.resolve("sub"));
    Files.write(dir.resolve("sub/inner.bin"), littleEndian(0, 7, 8, 9));
    var inSubfolder = OnnxModel.parse(externalModel("location", "sub/inner.bin", "offset", "4"), dir, "m");
    assertArrayEquals(new float[]{7, 8, 9}, floats(initializer(inSubfolder, "w_ext")));
  }

  @Test void externalDataOutsideTheModelsFolderIsRejected(@TempDir Path tmp) throws IOException {
    var dir = modelFolder(tmp);
    Files.createDirectories(dir.resolve("sub"));
    for (var location : List.of("../secret.bin", tmp.resolve("secret.bin").toAbsolutePath().toString(), "sub/../../secret.bin", "sub/../../model/weights.bin"))
      assertFails(() -> OnnxModel.parse(externalModel("location", location, "offset", "8"), dir, "m"),
          "tensor 'w_ext'", "'" + location + "'", "outside the model's folder");
  }

  @Test void externalDataThroughASymbolicLinkOutOfTheFolderIsRejected(@TempDir Path tmp) throws IOException {
    var dir = modelFolder(tmp);
    Files.createSymbolicLink(dir.resolve("link.bin"), tmp.resolve("secret.bin"));
    Files.createSymbolicLink(dir.resolve("linked_dir"), tmp);
    for (var location : List.of("link.bin", "linked_dir/secret.bin"))
      assertFails(() -> OnnxModel.parse(externalModel("location", location, "offset", "8"), dir, "m"),
          "tensor 'w_ext'", "'" + location + "'", "outside the model's folder");
  }

  @Test void externalDataRangeAndLengthAreCheckedAgainstTheFile(@TempDir Path tmp) throws IOException {
    var dir = modelFolder(tmp);
    assertFails(() -> OnnxModel.parse(externalModel("location", "weights.bin", "offset", "16", "length", "12"), dir, "m"),
        "tensor 'w_ext'", "[16, +12)", "lies outside", "(24 bytes)");
    assertFails(() -> OnnxModel.parse(externalModel("location", "weights.bin", "offset", "25"), dir, "m"), "tensor 'w_ext'", "lies outside");
    assertFails(() -> OnnxModel.parse(externalModel("location", "weights.bin", "offset", "-4"), dir, "m"), "tensor 'w_ext'", "lies outside");
    assertFails(() -> OnnxModel.parse(externalModel("location", "weights.bin", "offset", "8", "length", "8"), dir, "m"),
        "tensor 'w_ext'", "length 8", "needs 12 bytes");
    assertFails(() -> OnnxModel.parse(externalModel("location", "weights.bin", "offset", "eight"), dir, "m"), "tensor 'w_ext'", "offset");
    // a declared 1.6 GB tensor against a 24-byte file: refused before its buffer is allocated
    var huge = modelWithInitializers(externalTensor("w_huge", FLOAT, new long[]{400_000_000}, "location", "weights.bin"));
    assertCheap(() -> assertFails(() -> OnnxModel.parse(huge, dir, "m"), "tensor 'w_huge'", "lies outside"));
  }

  @Test void externalDataThatCannotBeFoundIsNamed(@TempDir Path tmp) throws IOException {
    var dir = modelFolder(tmp);
    assertFails(() -> OnnxModel.parse(externalModel("location", "missing.bin"), dir, "m"), "tensor 'w_ext'", "cannot read external data", "missing.bin");
    Files.createDirectories(dir.resolve("sub"));
    assertFails(() -> OnnxModel.parse(externalModel("location", "sub"), dir, "m"), "tensor 'w_ext'", "cannot read external data", "sub");
    assertFails(() -> OnnxModel.parse(externalModel("offset", "8"), dir, "m"), "tensor 'w_ext'", "without a location");
    assertFails(() -> OnnxModel.parse(externalModel("location", "weights.bin"), null, "m"), "tensor 'w_ext'", "model folder");
    assertFails(() -> OnnxModel.parse(externalModel("location", "bad\0name.bin"), dir, "m"), "tensor 'w_ext'", "not a valid path");
  }

  // ---- 4. declared sizes

  /** Runs check and asserts it allocated under 16 MB (so nothing sized by a declared length was allocated). */
  static void assertCheap(Executable check) {
    var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long before = threads.getCurrentThreadAllocatedBytes();
    try {
      check.execute();
    } catch (Throwable t) {
      throw t instanceof AssertionError a ? a : new AssertionError(t);
    }
    long allocated = threads.getCurrentThreadAllocatedBytes() - before;
    assertTrue(allocated < 16 << 20, "allocated " + allocated + " bytes");
  }

  @Test void rawDataMustMatchTheDeclaredShape() {
    assertFails(() -> parse(modelWithInitializers(rawFloats("short", new long[]{4}, 1, 2, 3))), "tensor 'short'", "needs 16 bytes", "raw_data has 12");
    assertFails(() -> parse(modelWithInitializers(rawFloats("long", new long[]{2}, 1, 2, 3))), "tensor 'long'", "needs 8 bytes", "raw_data has 12");
    assertFails(() -> parse(modelWithInitializers(tensor("few", FLOAT, 3).packedFloats(4, 1, 2))), "tensor 'few'", "has 2 values");
    assertFails(() -> parse(modelWithInitializers(tensor("many", INT64, 1).packedVarints(7, 1, 2))), "tensor 'many'", "has 2 values");
    // 1.6 GB declared, 4 bytes present: refused before the 1.6 GB are allocated
    assertCheap(() -> assertFails(() -> parse(modelWithInitializers(rawFloats("big", new long[]{400_000_000}, 1))), "tensor 'big'", "raw_data has 4"));
    assertCheap(() -> assertFails(() -> parse(modelWithInitializers(tensor("big", FLOAT, 400_000_000).packedFloats(4, 1))), "tensor 'big'", "has 1 values"));
  }

  @Test void hugeOrNegativeDimsAreRejected() {
    assertCheap(() -> assertFails(() -> parse(modelWithInitializers(rawFloats("huge", new long[]{1L << 40}, 1))), "tensor 'huge'", "dim 1099511627776"));
    assertCheap(() -> assertFails(() -> parse(modelWithInitializers(rawFloats("wide", new long[]{1 << 20, 1 << 20}, 1))), "tensor 'wide'", "over 2 GB"));
    assertCheap(() -> assertFails(() -> parse(modelWithInitializers(tensor("long", INT64, 300_000_000).bytes(9, new byte[8]))), "tensor 'long'", "over 2 GB"));
    assertCheap(() -> assertFails(() -> parse(modelWithInitializers(rawFloats("many", new long[]{1 << 16, 1 << 16, 1 << 16, 1 << 16}, 1))), "tensor 'many'", "over 2 GB"));
    assertFails(() -> parse(modelWithInitializers(rawFloats("neg", new long[]{-1}, 1))), "tensor 'neg'", "dim -1");
    assertFails(() -> parse(modelWithInitializers(rawFloats("neg2", new long[]{2, -3}, 1))), "tensor 'neg2'", "dim -3");
  }

  @Test void aLengthPastTheEndIsTruncatedOrCorrupt() {
    // the graph field (7) claims 100 bytes; 3 follow
    var bytes = new ProtoWriter().varint(1, 8).tag(7, Protobuf.LEN).rawVarint(100).raw((byte) 0x12, (byte) 1, (byte) 'g').toByteArray();
    assertCheap(() -> assertFails(() -> parse(bytes), "test.onnx", "truncated or corrupt", "100 bytes where 3 remain"));
    // a length near 2^63 (a negative long) and one over 2^31
    var negative = new ProtoWriter().tag(7, Protobuf.LEN).rawVarint(-2).toByteArray();
    assertFails(() -> parse(negative), "truncated or corrupt", "-2 bytes");
    var over2g = new ProtoWriter().tag(7, Protobuf.LEN).rawVarint(1L << 33).toByteArray();
    assertCheap(() -> assertFails(() -> parse(over2g), "truncated or corrupt", "8589934592 bytes"));
    // a node's name claims 50 bytes: the file has them, but the node (5 bytes) does not
    var node = new ProtoWriter().tag(3, Protobuf.LEN).rawVarint(50).raw((byte) 'a', (byte) 'b', (byte) 'c');
    var graph = new ProtoWriter().message(1, node).string(2, "x".repeat(100));
    assertFails(() -> parse(model(graph, 13)), "test.onnx/graph/node", "truncated or corrupt", "50 bytes where 3 remain");
    // raw_data whose length runs past its tensor message
    var tensorBytes = new ProtoWriter().packedVarints(1, 2).varint(2, FLOAT).tag(9, Protobuf.LEN).rawVarint(8).raw(new byte[4]);
    var g2 = new ProtoWriter().message(5, tensorBytes).string(2, "y".repeat(20));
    assertFails(() -> parse(model(g2, 13)), "graph/initializer", "truncated or corrupt", "8 bytes where 4 remain");
  }

  @Test void malformedVarintsAndTagsAreCorrupt() {
    var eleven = new byte[12];
    eleven[0] = 0x08; // ir_version, varint
    Arrays.fill(eleven, 1, 11, (byte) 0x80);
    eleven[11] = 0x01;
    assertFails(() -> parse(eleven), "truncated or corrupt", "longer than 10 bytes");
    assertFails(() -> parse(new byte[]{0x08, (byte) 0x80, (byte) 0x80}), "truncated or corrupt", "varint runs past the end");
    assertFails(() -> parse(new byte[]{0x00, 0x01}), "truncated or corrupt", "field tag 0");
    assertFails(() -> parse(new byte[]{0x1B}), "truncated or corrupt", "wire type 3 of field 3"); // a group start: unsupported
    assertFails(() -> parse(new ProtoWriter().string(1, "not a varint").toByteArray()), "truncated or corrupt", "field 1 has wire type 2, expected 0");
    assertFails(() -> parse(new byte[]{0x7D, 1, 2}), "truncated or corrupt", "4 bytes needed, 2 remain"); // fixed32 field 15, cut
    assertFails(() -> parse(modelWithInitializers(tensor("t", FLOAT, 1).bytes(4, new byte[5]))), "truncated or corrupt", "packed floats of 5 bytes");
    assertFails(() -> parse(modelWithInitializers(tensor("t", DOUBLE, 1).bytes(10, new byte[12]))), "truncated or corrupt", "packed doubles of 12 bytes");
    assertFails(() -> parse(new byte[0]), "test.onnx", "no graph");
  }

  @Test void deeplyNestedSubgraphsAreCorruptNotAStackOverflow() throws InterruptedException {
    // graph { node { attribute { g: graph { node { ... } } } } }, 100,000 subgraphs deep (about 1.2 MB)
    var headers = new ArrayList<byte[]>();
    int[] fields = {6 /* attribute.g */, 5 /* node.attribute */, 1 /* graph.node */}; // innermost first
    int inner = 0;
    for (int level = 0; level < 300_000; level++) {
      var header = new ProtoWriter().tag(fields[level % 3], Protobuf.LEN).rawVarint(inner).toByteArray();
      headers.add(header);
      inner += header.length;
    }
    var out = new ProtoWriter().tag(7, Protobuf.LEN).rawVarint(inner);
    for (int i = headers.size() - 1; i >= 0; i--) out.raw(headers.get(i));
    var bytes = out.toByteArray();
    var thrown = new AtomicReference<Throwable>();
    var parser = new Thread(null, () -> {
      try {
        parse(bytes);
      } catch (Throwable t) {
        thrown.set(t);
      }
    }, "parser", 4 << 20);
    parser.start();
    parser.join();
    assertTrue(thrown.get() instanceof OnnxException, "expected an OnnxException, got " + thrown.get());
    assertTrue(thrown.get().getMessage().contains("nested more than 100"), thrown.get().getMessage());
  }

  // ---- 5. truncated and corrupted files

  /** Parses bytes and, if that works, prepares a runner for the model; fails on any exception but an OnnxException. */
  static boolean readsOrFailsCleanly(byte[] bytes, String what) {
    try {
      new OnnxRunner(OnnxModel.parse(bytes, null, "variant"));
      return true;
    } catch (OnnxException e) {
      assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), what + ": an OnnxException without a message");
      return false;
    } catch (Throwable t) {
      throw new AssertionError(what + ": " + t, t);
    }
  }

  @Test void everyTruncationOfASmallModelFailsCleanly() {
    var bytes = smallModel();
    var readable = new ArrayList<Integer>();
    for (int cut = 0; cut < bytes.length; cut++) {
      if (readsOrFailsCleanly(Arrays.copyOf(bytes, cut), "cut at " + cut + " of " + bytes.length)) readable.add(cut);
    }
    // only cuts between whole top-level fields after the graph (before either opset import) leave a readable model
    int graphEnd = bytes.length - SMALL_MODEL_OPSETS.length;
    int firstOpsetLength = new ProtoWriter().message(8, new ProtoWriter().string(1, "").varint(2, 13)).toByteArray().length;
    assertEquals(List.of(graphEnd, graphEnd + firstOpsetLength), readable);
    assertTrue(readsOrFailsCleanly(bytes, "the whole model"));
  }

  @Test void randomByteFlipsFailCleanly() {
    var bytes = smallModel();
    var random = new Random(20240531);
    int parsed = 0;
    for (int variant = 0; variant < 500; variant++) {
      var flipped = bytes.clone();
      int flips = 1 + random.nextInt(3);
      var where = new ArrayList<String>();
      for (int i = 0; i < flips; i++) {
        int at = random.nextInt(flipped.length);
        flipped[at] ^= (byte) (1 + random.nextInt(255));
        where.add(at + "=" + (flipped[at] & 0xFF));
      }
      if (readsOrFailsCleanly(flipped, "variant " + variant + " " + where)) parsed++;
    }
    assertTrue(parsed < 500, "no flip was detected");
  }

  // ---- 6. unsupported ops

  @Test void unsupportedOpsAreAllListedAtOnce() {
    var custom = node("custom", "Custom", List.of("b"), List.of("c"));
    custom.string(7, "com.example");
    var graph = new ProtoWriter()
        .message(1, node("foo", "FooOp", List.of("X"), List.of("a")))
        .message(1, node("relu", "Relu", List.of("a"), List.of("b")).string(7, "ai.onnx"))
        .message(1, custom)
        .message(1, node("bar", "BarOp", List.of("c"), List.of("Y")))
        .message(1, node("foo2", "FooOp", List.of("Y"), List.of("Z")))
        .message(11, valueInfo("X", FLOAT, 2L))
        .message(12, valueInfo("Z", FLOAT, 2L));
    var m = parse(model(graph, 13));
    assertEquals(List.of("BarOp", "FooOp", "com.example:Custom"), OnnxRunner.unsupported(m));
    var message = assertFails(() -> new OnnxRunner(m), "unsupported ONNX ops", "BarOp", "FooOp", "com.example:Custom");
    assertTrue(!message.contains("Relu"), message);
  }

  // ---- 7. graph and input errors

  @Test void aNodeReadingANameNoEarlierNodeProducesIsNamed() {
    var graph = new ProtoWriter()
        .message(1, node("first", "Relu", List.of("X"), List.of("a")))
        .message(1, node("adder", "Add", List.of("a", "ghost"), List.of("Y")))
        .message(11, valueInfo("X", FLOAT, 2L))
        .message(12, valueInfo("Y", FLOAT, 2L));
    var runner = new OnnxRunner(parse(model(graph, 13)));
    assertFails(() -> runner.run(Map.of("X", Tensor.of(new float[]{1, 2}))), "Add node 'adder'", "input 'ghost'", "no earlier node");

    // an input made by a later node is just as missing
    var reversed = new ProtoWriter()
        .message(1, node("late_reader", "Relu", List.of("later"), List.of("Y")))
        .message(1, node("maker", "Relu", List.of("X"), List.of("later")))
        .message(11, valueInfo("X", FLOAT, 2L))
        .message(12, valueInfo("Y", FLOAT, 2L));
    var runner2 = new OnnxRunner(parse(model(reversed, 13)));
    assertFails(() -> runner2.run(Map.of("X", Tensor.of(new float[]{1, 2}))), "Relu node 'late_reader'", "input 'later'");

    var noOutput = new ProtoWriter()
        .message(1, node("r", "Relu", List.of("X"), List.of("Y")))
        .message(11, valueInfo("X", FLOAT, 2L))
        .message(12, valueInfo("Z", FLOAT, 2L));
    var runner3 = new OnnxRunner(parse(model(noOutput, 13)));
    assertFails(() -> runner3.run(Map.of("X", Tensor.of(new float[]{1, 2}))), "graph output 'Z'", "no node");
  }

  @Test void dataErrorsNameTheNode() {
    // Gather with an index only known at run time: the realize that computes it throws, naming the node
    var gather = new ProtoWriter()
        .message(1, node("pick", "Gather", List.of("X", "I"), List.of("Y")))
        .string(2, "gather")
        .message(5, rawFloats("X", new long[]{3}, 10, 20, 30))
        .message(11, valueInfo("I", INT64, 2L))
        .message(12, valueInfo("Y", FLOAT, 2L));
    var runner = new OnnxRunner(parse(model(gather, 13)));
    var index = Tensor.of(new int[]{2, -3}).cast(DType.INT64);
    assertArrayEquals(new float[]{30, 10}, runner.run(Map.of("I", index)).get("Y").toFloatArray());
    var e = assertThrows(IllegalArgumentException.class, () -> runner.run(Map.of("I", Tensor.of(new int[]{0, 3}).cast(DType.INT64))).get("Y").toFloatArray());
    assertTrue(e.getMessage().startsWith("Gather node 'pick': gather: an index") && e.getMessage().contains("[-3, 3)"), e.getMessage());
    // Range and ConstantOfShape: sizes past what a tensor holds, a zero delta and a span past 2^63 are errors, not empty or huge
    long[][] ranges = {{-(1L << 62), 1L << 62, 1}, {0, 10, 0}, {Long.MIN_VALUE, Long.MAX_VALUE, 3}};
    for (var r : ranges) {
      var range = new ProtoWriter()
          .message(1, node("rng", "Range", List.of("S", "L", "D"), List.of("Y")))
          .string(2, "range")
          .message(5, tensor("S", INT64).packedVarints(7, r[0]))
          .message(5, tensor("L", INT64).packedVarints(7, r[1]))
          .message(5, tensor("D", INT64).packedVarints(7, r[2]))
          .message(12, valueInfo("Y", INT64, "n"));
      var rr = new OnnxRunner(parse(model(range, 13)));
      assertFails(() -> rr.run(Map.of()), "Range node 'rng'", r[2] == 0 ? "delta must not be 0" : "more than a tensor may hold");
    }
    var ok = new ProtoWriter()
        .message(1, node("rng", "Range", List.of("S", "L", "D"), List.of("Y")))
        .string(2, "range")
        .message(5, tensor("S", INT64).packedVarints(7, 10))
        .message(5, tensor("L", INT64).packedVarints(7, -2))
        .message(5, tensor("D", INT64).packedVarints(7, -4))
        .message(12, valueInfo("Y", INT64, "n"));
    assertArrayEquals(new long[]{10, 6, 2}, new OnnxRunner(parse(model(ok, 13))).run(Map.of()).get("Y").toLongArray());
    var big = new ProtoWriter()
        .message(1, node("fill", "ConstantOfShape", List.of("S"), List.of("Y")))
        .string(2, "fill")
        .message(5, tensor("S", INT64, 2).packedVarints(7, 1 << 20, 1 << 20))
        .message(12, valueInfo("Y", FLOAT, "a", "b"));
    assertFails(() -> new OnnxRunner(parse(model(big, 13))).run(Map.of()), "ConstantOfShape node 'fill'", "more than a tensor may hold");
  }

  @Test void runTimeInputsAreCheckedByNameTypeAndDims() {
    var runner = new OnnxRunner(parse(smallModel()));
    assertFails(() -> runner.run(Map.of()), "input 'X' is missing", "[X]");
    assertFails(() -> runner.run(Map.of("x", Tensor.of(new float[][]{{1, 2, 3}}))), "input 'X' is missing");
    assertFails(() -> runner.run(Map.of("X", Tensor.of(new int[]{1, 2, 3}).reshape(1, 3))), "input 'X'", "must be FLOAT32", "got INT32");
    assertFails(() -> runner.run(Map.of("X", Tensor.of(new float[]{1, 2, 3, 4}).reshape(1, 4))), "input 'X'", "[batch, 3]", "[1, 4]");
    // the named dim 'batch' takes any size
    assertArrayEquals(new float[]{1, 0}, runner.run(Map.of("X", Tensor.of(new float[][]{{1, 2, 3}}))).get("Y").toFloatArray(), 1e-6f);
  }

  // ---- 8. the real all-MiniLM-L6-v2 model

  static byte[] miniLm() throws IOException {
    try (var in = OnnxModelTest.class.getResourceAsStream("/all-minilm-l6-v2.onnx")) {
      assertNotNull(in, "all-minilm-l6-v2.onnx is not on the test class path");
      return in.readAllBytes();
    }
  }

  @Test void allMiniLmL6V2ReadsAndTruncationsOfItFailCleanly() throws IOException {
    var bytes = miniLm();
    var m = OnnxModel.parse(bytes, null, "minilm");
    assertEquals(List.of("input_ids", "attention_mask", "token_type_ids"), m.graph().inputs().stream().map(OnnxModel.ValueInfo::name).toList());
    for (var in : m.graph().inputs()) {
      assertEquals(DType.INT64, in.dtype(), in.name());
      assertEquals(2, in.dims().size(), in.name());
    }
    assertEquals("last_hidden_state", m.graph().outputs().getFirst().name());
    assertEquals(11L, m.opsets().get(""));
    assertEquals(List.of(), OnnxRunner.unsupported(m));
    assertTrue(m.graph().initializers().size() > 50, "initializers: " + m.graph().initializers().size());
    assertTrue(m.graph().nodes().size() > 100, "nodes: " + m.graph().nodes().size());

    for (int i = 0; i < 50; i++) {
      int cut = (int) ((long) bytes.length * i / 50);
      var truncated = Arrays.copyOf(bytes, cut);
      try {
        OnnxModel.parse(truncated, null, "minilm");
        fail("a cut at " + cut + " of " + bytes.length + " parsed");
      } catch (OnnxException e) {
        assertTrue(e.getMessage().contains("minilm"), e.getMessage());
        assertTrue(e.getMessage().contains(cut == 0 ? "no graph" : "truncated or corrupt"), e.getMessage());
      }
    }
  }

  @Test void allMiniLmL6V2WithItsGraphCutInsideFailsCleanly() throws IOException {
    // A cut file fails at once on the graph field's length; here the graph's own bytes are cut and its length made
    // to fit, so the reader meets the cut deep inside a node, an initializer or a value info.
    var bytes = miniLm();
    var top = new Protobuf(bytes, "minilm");
    int[] graph = null;
    while (top.next()) {
      if (top.field() == 7) graph = top.span();
      else top.skip();
    }
    assertNotNull(graph);
    int failed = 0;
    for (int i = 1; i <= 20; i++) {
      int cut = graph[1] / 21 * i + 7 * i; // uneven, so cuts do not all land on field boundaries
      var model = new ProtoWriter().bytes(7, Arrays.copyOfRange(bytes, graph[0], graph[0] + cut)).toByteArray();
      try {
        OnnxModel.parse(model, null, "minilm");
      } catch (OnnxException e) {
        assertTrue(e.getMessage().startsWith("minilm/graph"), e.getMessage());
        failed++;
      } catch (Throwable t) {
        throw new AssertionError("graph cut at " + cut + ": " + t, t);
      }
    }
    assertTrue(failed >= 15, failed + " of 20 cut graphs failed");
  }
}
