package dev.tinygrad4j.onnx;

import dev.tinygrad4j.DType;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An ONNX model as read from its protobuf file: the graph's nodes, initializers, inputs and outputs, and the
 * opsets it imports. Only what running a model needs is kept. The file is untrusted: every length is checked
 * against what is there before anything is allocated, and external data resolves only inside the model's folder.
 */
public record OnnxModel(long irVersion, Map<String, Long> opsets, Graph graph) {
  /** A graph: nodes in topological order, initializers by name, inputs (without initializers) and outputs. */
  public record Graph(String name, List<Node> nodes, Map<String, TensorData> initializers, List<ValueInfo> inputs, List<ValueInfo> outputs) {}

  /** One node; empty input names stand for omitted optional inputs. */
  public record Node(String opType, String domain, String name, List<String> inputs, List<String> outputs, Map<String, Attribute> attributes) {
    /** A readable name for messages: the op and the node's name or first output. */
    public String describe() { return opType + " node '" + (name.isEmpty() ? outputs.isEmpty() ? "?" : outputs.getFirst() : name) + "'"; }
  }

  /** A graph input or output: its element type (null if not a tensor) and dims (a Long, or a String for a named dim). */
  public record ValueInfo(String name, DType dtype, String typeName, List<Object> dims) {}

  /** An attribute value; only the field of its type is set. */
  public record Attribute(String name, int type, float f, long i, byte[] s, TensorData t, Graph g,
                          float[] floats, long[] ints, List<byte[]> strings, List<TensorData> tensors) {
    static final int FLOAT = 1, INT = 2, STRING = 3, TENSOR = 4, GRAPH = 5, FLOATS = 6, INTS = 7, STRINGS = 8, TENSORS = 9;
  }

  /** A tensor's values, little-endian in the element type's layout. */
  public record TensorData(String name, DType dtype, int[] shape, MemorySegment bytes) {}

  /** ONNX TensorProto.DataType codes, index = code (null: not a tensor type tinygrad4j has). */
  private static final DType[] DTYPES = {null, DType.FLOAT32, DType.UINT8, DType.INT8, DType.UINT16, DType.INT16, DType.INT32,
      DType.INT64, null, DType.BOOL, DType.FLOAT16, DType.FLOAT64, DType.UINT32, DType.UINT64, null, null, DType.BFLOAT16};
  private static final String[] TYPE_NAMES = {"UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64", "STRING",
      "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16"};

  /** The tinygrad4j type of an ONNX data type code, or null if it has none (strings, complex, 8-bit floats). */
  public static DType dtypeOf(long code) { return code >= 0 && code < DTYPES.length ? DTYPES[(int) code] : null; }

  /** The ONNX name of a data type code. */
  static String typeName(long code) { return code >= 0 && code < TYPE_NAMES.length ? TYPE_NAMES[(int) code] : "type " + code; }

  /** Reads a model file (external data next to it). */
  public static OnnxModel load(Path file) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new OnnxException("cannot read ONNX model " + file + ": " + e.getMessage(), e);
    } catch (OutOfMemoryError e) {
      throw new OnnxException("ONNX model " + file + " does not fit in memory");
    }
    return parse(bytes, file.toAbsolutePath().getParent(), file.toString());
  }

  /** Parses a serialized ModelProto; external data is looked up in dir (null: none allowed). */
  public static OnnxModel parse(byte[] bytes, Path dir, String what) {
    var p = new Protobuf(bytes, what);
    long ir = 0;
    var opsets = new LinkedHashMap<String, Long>();
    Graph graph = null;
    while (p.next()) {
      switch (p.field()) {
        case 1 -> ir = p.expect(Protobuf.VARINT).varint();
        case 7 -> graph = graph(p.expect(Protobuf.LEN).message("graph"), dir);
        case 8 -> {
          var o = p.expect(Protobuf.LEN).message("opset_import");
          String domain = "";
          long version = 0;
          while (o.next()) {
            if (o.field() == 1) domain = o.expect(Protobuf.LEN).string();
            else if (o.field() == 2) version = o.expect(Protobuf.VARINT).varint();
            else o.skip();
          }
          opsets.put(domain.equals("ai.onnx") ? "" : domain, version);
        }
        default -> p.skip();
      }
    }
    if (graph == null) throw new OnnxException(what + ": not an ONNX model (no graph)");
    return new OnnxModel(ir, opsets, graph);
  }

  /** Parses a serialized TensorProto (as the ONNX test data stores inputs and outputs); no external data. */
  public static TensorData readTensor(byte[] bytes, String what) { return tensor(new Protobuf(bytes, what), null); }

  static Graph graph(Protobuf p, Path dir) {
    String name = "";
    var nodes = new ArrayList<Node>();
    var inits = new LinkedHashMap<String, TensorData>();
    var inputs = new ArrayList<ValueInfo>();
    var outputs = new ArrayList<ValueInfo>();
    while (p.next()) {
      switch (p.field()) {
        case 1 -> nodes.add(node(p.expect(Protobuf.LEN).message("node"), dir));
        case 2 -> name = p.expect(Protobuf.LEN).string();
        case 5 -> { var t = tensor(p.expect(Protobuf.LEN).message("initializer"), dir); inits.put(t.name(), t); }
        case 11 -> inputs.add(valueInfo(p.expect(Protobuf.LEN).message("input")));
        case 12 -> outputs.add(valueInfo(p.expect(Protobuf.LEN).message("output")));
        case 15 -> throw p.corrupt("sparse initializers are not supported");
        default -> p.skip();
      }
    }
    inputs.removeIf(v -> inits.containsKey(v.name())); // older models list initializers as inputs too
    return new Graph(name, nodes, inits, inputs, outputs);
  }

  private static Node node(Protobuf p, Path dir) {
    var inputs = new ArrayList<String>();
    var outputs = new ArrayList<String>();
    String name = "", op = "", domain = "";
    var attrs = new LinkedHashMap<String, Attribute>();
    while (p.next()) {
      switch (p.field()) {
        case 1 -> inputs.add(p.expect(Protobuf.LEN).string());
        case 2 -> outputs.add(p.expect(Protobuf.LEN).string());
        case 3 -> name = p.expect(Protobuf.LEN).string();
        case 4 -> op = p.expect(Protobuf.LEN).string();
        case 7 -> domain = p.expect(Protobuf.LEN).string();
        case 5 -> { var a = attribute(p.expect(Protobuf.LEN).message("attribute"), dir); attrs.put(a.name(), a); }
        default -> p.skip();
      }
    }
    if (op.isEmpty()) throw p.corrupt("a node without op_type");
    return new Node(op, domain.equals("ai.onnx") ? "" : domain, name, inputs, outputs, attrs);
  }

  private static Attribute attribute(Protobuf p, Path dir) {
    String name = "";
    int type = 0;
    float f = 0;
    long i = 0;
    byte[] s = null;
    TensorData t = null;
    Graph g = null;
    var floats = new ArrayList<Float>();
    var ints = new ArrayList<Long>();
    var strings = new ArrayList<byte[]>();
    var tensors = new ArrayList<TensorData>();
    while (p.next()) {
      switch (p.field()) {
        case 1 -> name = p.expect(Protobuf.LEN).string();
        case 20 -> type = (int) p.expect(Protobuf.VARINT).varint();
        case 2 -> f = Float.intBitsToFloat(p.expect(Protobuf.FIXED32).fixed32());
        case 3 -> i = p.expect(Protobuf.VARINT).varint();
        case 4 -> s = p.expect(Protobuf.LEN).bytes();
        case 5 -> t = tensor(p.expect(Protobuf.LEN).message("t"), dir);
        case 6 -> g = graph(p.expect(Protobuf.LEN).message("g"), dir);
        case 7 -> p.fixed(4, b -> floats.add(Float.intBitsToFloat((int) b)));
        case 8 -> p.longs(ints::add);
        case 9 -> strings.add(p.expect(Protobuf.LEN).bytes());
        case 10 -> tensors.add(tensor(p.expect(Protobuf.LEN).message("tensors"), dir));
        default -> p.skip();
      }
    }
    var fs = new float[floats.size()];
    for (int k = 0; k < fs.length; k++) fs[k] = floats.get(k);
    return new Attribute(name, type, f, i, s, t, g, fs, ints.stream().mapToLong(Long::longValue).toArray(), strings, tensors);
  }

  private static ValueInfo valueInfo(Protobuf p) {
    String name = "";
    DType dt = null;
    String typeName = "unknown";
    var dims = new ArrayList<Object>();
    while (p.next()) {
      if (p.field() == 1) name = p.expect(Protobuf.LEN).string();
      else if (p.field() == 2) {
        var type = p.expect(Protobuf.LEN).message("type");
        while (type.next()) {
          if (type.field() == 1) {
            var tt = type.expect(Protobuf.LEN).message("tensor_type");
            while (tt.next()) {
              if (tt.field() == 1) {
                long code = tt.expect(Protobuf.VARINT).varint();
                typeName = typeName(code);
                dt = code >= 0 && code < DTYPES.length ? DTYPES[(int) code] : null;
              } else if (tt.field() == 2) {
                var shape = tt.expect(Protobuf.LEN).message("shape");
                while (shape.next()) {
                  if (shape.field() != 1) { shape.skip(); continue; }
                  var d = shape.expect(Protobuf.LEN).message("dim");
                  Object v = "?";
                  while (d.next()) {
                    if (d.field() == 1) v = d.expect(Protobuf.VARINT).varint();
                    else if (d.field() == 2) v = d.expect(Protobuf.LEN).string();
                    else d.skip();
                  }
                  dims.add(v);
                }
              } else tt.skip();
            }
          } else {
            typeName = switch (type.field()) { case 4 -> "sequence"; case 5 -> "map"; case 9 -> "optional"; case 8 -> "sparse tensor"; default -> typeName; };
            type.skip();
          }
        }
      } else p.skip();
    }
    return new ValueInfo(name, dt, typeName, dims);
  }

  /** Reads a TensorProto into little-endian bytes, checking every declared size against the data present. */
  static TensorData tensor(Protobuf p, Path dir) {
    String name = "";
    var dims = new ArrayList<Long>();
    long code = 0;
    int[] raw = null;
    var values = new ArrayList<Long>(); // int32_data, int64_data, uint64_data, float/double bits
    int valuesField = 0; // the field number values came from
    var external = new LinkedHashMap<String, String>();
    boolean isExternal = false;
    while (p.next()) {
      switch (p.field()) {
        case 1 -> p.longs(dims::add);
        case 2 -> code = p.expect(Protobuf.VARINT).varint();
        case 8 -> name = p.expect(Protobuf.LEN).string();
        case 9 -> raw = p.expect(Protobuf.LEN).span();
        case 4, 5, 7, 10, 11 -> {
          if (valuesField != 0 && valuesField != p.field())
            throw p.corrupt("tensor '" + name + "' has values in both " + valuesFieldName(valuesField) + " and " + valuesFieldName(p.field()));
          valuesField = p.field();
          switch (valuesField) {
            case 4 -> p.fixed(4, values::add);
            case 10 -> p.fixed(8, values::add);
            default -> p.longs(values::add);
          }
        }
        case 6 -> throw p.corrupt("tensor '" + name + "' holds strings, which tinygrad4j does not support");
        case 13 -> {
          var e = p.expect(Protobuf.LEN).message("external_data");
          String k = "", v = "";
          while (e.next()) {
            if (e.field() == 1) k = e.expect(Protobuf.LEN).string();
            else if (e.field() == 2) v = e.expect(Protobuf.LEN).string();
            else e.skip();
          }
          external.put(k, v);
        }
        case 14 -> isExternal = p.expect(Protobuf.VARINT).varint() == 1;
        default -> p.skip();
      }
    }
    var dt = code >= 0 && code < DTYPES.length ? DTYPES[(int) code] : null;
    if (dt == null) throw p.corrupt("tensor '" + name + "' has element type " + typeName(code) + ", which tinygrad4j does not support");
    int expectedField = switch (dt) {
      case FLOAT32 -> 4;
      case FLOAT64 -> 10;
      case INT64 -> 7;
      case UINT32, UINT64 -> 11;
      default -> 5; // int32_data: INT32, INT16, INT8, UINT16, UINT8, BOOL, FLOAT16 and BFLOAT16 (as bits)
    };
    if (valuesField != 0 && raw == null && !isExternal && valuesField != expectedField)
      throw p.corrupt("tensor '" + name + "' of type " + typeName(code) + " has its values in " + valuesFieldName(valuesField) + ", not " + valuesFieldName(expectedField));
    var shape = new int[dims.size()];
    long count = 1;
    for (int k = 0; k < shape.length; k++) {
      long d = dims.get(k);
      if (d < 0 || d > Integer.MAX_VALUE) throw p.corrupt("tensor '" + name + "' has dim " + d);
      shape[k] = (int) d;
      count *= d; // both at most 2^31: no overflow
      if (count * dt.itemsize() > Integer.MAX_VALUE - 16) throw p.corrupt("tensor '" + name + "' of shape " + dims + " " + dt + " is over 2 GB, more than tinygrad4j reads into one tensor");
    }
    long nbytes = count * dt.itemsize();
    MemorySegment bytes;
    if (isExternal) bytes = externalData(name, external, nbytes, dir);
    else if (raw != null) {
      if (raw[1] != nbytes) throw p.corrupt("tensor '" + name + "' of shape " + dims + " " + dt + " needs " + nbytes + " bytes, raw_data has " + raw[1]);
      bytes = MemorySegment.ofArray(java.util.Arrays.copyOfRange(p.buffer(), raw[0], raw[0] + raw[1]));
    } else {
      if (values.size() != count) throw p.corrupt("tensor '" + name + "' of shape " + dims + " has " + values.size() + " values");
      bytes = littleEndian(values.stream().mapToLong(Long::longValue).toArray(), dt);
    }
    return new TensorData(name, dt, shape, bytes);
  }

  private static String valuesFieldName(int field) {
    return switch (field) { case 4 -> "float_data"; case 5 -> "int32_data"; case 7 -> "int64_data"; case 10 -> "double_data"; default -> "uint64_data"; };
  }

  /** Values (for floats, their bit patterns) as little-endian elements of dt. */
  static MemorySegment littleEndian(long[] values, DType dt) {
    var bytes = MemorySegment.ofArray(new byte[values.length * dt.itemsize()]);
    var le = ByteOrder.LITTLE_ENDIAN;
    for (int k = 0; k < values.length; k++) {
      long v = values[k];
      switch (dt.itemsize()) {
        case 1 -> bytes.set(ValueLayout.JAVA_BYTE, k, (byte) v);
        case 2 -> bytes.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(le), 2L * k, (short) v);
        case 4 -> bytes.set(ValueLayout.JAVA_INT_UNALIGNED.withOrder(le), 4L * k, (int) v);
        default -> bytes.set(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(le), 8L * k, v);
      }
    }
    return bytes;
  }

  /**
   * Reads external data: the location must be a relative path inside dir (symbolic links included); offset and
   * length must lie in the file.
   */
  private static MemorySegment externalData(String name, Map<String, String> info, long nbytes, Path dir) {
    var location = info.get("location");
    if (location == null || dir == null) throw new OnnxException("tensor '" + name + "': external data without a location or model folder");
    Path rel;
    try {
      rel = Path.of(location);
    } catch (java.nio.file.InvalidPathException e) {
      throw new OnnxException("tensor '" + name + "': external data location '" + location + "' is not a valid path: " + e.getMessage());
    }
    var file = dir.resolve(rel).normalize();
    if (rel.isAbsolute() || !file.startsWith(dir.normalize()) || location.contains(".."))
      throw new OnnxException("tensor '" + name + "': external data location '" + location + "' is outside the model's folder");
    long offset, length;
    try {
      offset = Long.parseLong(info.getOrDefault("offset", "0"));
      length = Long.parseLong(info.getOrDefault("length", Long.toString(nbytes)));
    } catch (NumberFormatException e) {
      throw new OnnxException("tensor '" + name + "': bad external data offset/length " + info);
    }
    if (length != nbytes) throw new OnnxException("tensor '" + name + "': external data length " + length + " but its shape needs " + nbytes + " bytes");
    try {
      if (!file.toRealPath().startsWith(dir.toRealPath()))
        throw new OnnxException("tensor '" + name + "': external data location '" + location + "' is outside the model's folder (through a symbolic link)");
    } catch (IOException e) {
      throw new OnnxException("tensor '" + name + "': cannot read external data " + file + ": " + e, e);
    }
    try (var ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      if (offset < 0 || offset > size || size - offset < length)
        throw new OnnxException("tensor '" + name + "': external data [" + offset + ", +" + length + ") lies outside " + file + " (" + size + " bytes)");
      var out = new byte[(int) length];
      var bb = java.nio.ByteBuffer.wrap(out);
      while (bb.hasRemaining()) if (ch.read(bb, offset + bb.position()) < 0) throw new OnnxException("tensor '" + name + "': " + file + " ended early");
      return MemorySegment.ofArray(out);
    } catch (IOException e) {
      throw new OnnxException("tensor '" + name + "': cannot read external data " + file + ": " + e.getMessage(), e);
    }
  }

  /** An attribute by name, or null. */
  public static Attribute attr(Node n, String name) { return n.attributes().get(name); }
}
