package dev.tinygrad4j.onnx;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.Tensor;
import dev.tinygrad4j.onnx.OnnxModel.Node;
import dev.tinygrad4j.onnx.OnnxModel.TensorData;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Runs an ONNX model's graph node by node as tinygrad4j Tensor operations (lazy: the whole graph becomes one
 * Tensor graph, scheduled and fused when the outputs are realized). There are no per-op kernels: each ONNX op is
 * written with the Tensor API ({@link OnnxOps}). Small integer tensors that only describe shapes (Shape, Gather of a
 * shape, Concat of dims, ...) are also kept as host values, so reshapes never wait for a device.
 */
public final class OnnxRunner {
  private final OnnxModel model;
  private final int opset;
  private final Map<String, Tensor> initializers = new LinkedHashMap<>();
  /**
   * Host values of integer tensors known without running anything (initializers, constants, shapes); weak, so the
   * shape tensors of finished runs go (Tensor compares by identity).
   */
  final Map<Tensor, long[]> known = new java.util.WeakHashMap<>();

  /** Prepares a model; throws an OnnxException listing every op it uses that tinygrad4j cannot run. */
  public OnnxRunner(OnnxModel model) {
    this.model = model;
    var missing = unsupported(model);
    if (!missing.isEmpty()) throw new OnnxException("unsupported ONNX ops: " + String.join(", ", missing));
    this.opset = model.opsets().getOrDefault("", 1L).intValue();
    for (var t : model.graph().initializers().values()) initializers.put(t.name(), tensor(t));
  }

  /** The model this runner runs. */
  public OnnxModel model() { return model; }

  /** The ops of a model (and its subgraphs) that tinygrad4j cannot run, sorted, as domain:op for other domains. */
  public static List<String> unsupported(OnnxModel model) {
    var out = new TreeSet<String>();
    for (var n : model.graph().nodes()) if (!n.domain().isEmpty() || !OnnxOps.OPS.containsKey(n.opType())) out.add(n.domain().isEmpty() ? n.opType() : n.domain() + ":" + n.opType());
    return List.copyOf(out);
  }

  /** The op types the runner can run. */
  public static java.util.Set<String> supportedOps() { return new TreeSet<>(OnnxOps.OPS.keySet()); }

  /** A Tensor holding an ONNX tensor's values (on the default device). */
  public Tensor tensor(TensorData t) {
    if (t.dtype().isFloat() && t.bytes().byteSize() == t.dtype().itemsize()) // one value: a constant the graph can fold (x^2, x·0.5)
      return Tensor.full(Tensor.fromBytes(t.bytes(), t.dtype()).item(), t.shape()).cast(t.dtype());
    var out = Tensor.fromBytes(t.bytes(), t.dtype(), t.shape());
    if (!t.dtype().isFloat() && t.bytes().byteSize() <= 8 * 64) known.put(out, longs(t.bytes(), t.dtype()));
    return out;
  }

  /**
   * Runs the graph on inputs by name (every graph input without an initializer is required) and returns the graph
   * outputs by name, unrealized: realize them (or read them) to compute.
   */
  public Map<String, Tensor> run(Map<String, Tensor> inputs) {
    var values = new HashMap<String, Tensor>(initializers);
    for (var in : model.graph().inputs()) {
      var t = inputs.get(in.name());
      if (t == null) throw new OnnxException("input '" + in.name() + "' is missing (the model takes " + model.graph().inputs().stream().map(OnnxModel.ValueInfo::name).toList() + ")");
      if (in.dtype() != null && t.dtype() != in.dtype())
        throw new OnnxException("input '" + in.name() + "' must be " + in.dtype() + ", got " + t.dtype() + " " + Arrays.toString(t.shape()));
      checkDims(in, t);
      values.put(in.name(), t);
    }
    for (var node : model.graph().nodes()) {
      var ins = new ArrayList<Tensor>();
      for (var name : node.inputs()) {
        if (name.isEmpty()) { ins.add(null); continue; }
        var t = values.get(name);
        if (t == null) throw new OnnxException(node.describe() + ": its input '" + name + "' is computed by no earlier node");
        ins.add(t);
      }
      List<Tensor> outs;
      try {
        var ctx = new OnnxOps.Ctx(node, ins, opset, this);
        outs = Tensor.checkLabel(node.describe(), () -> OnnxOps.OPS.get(node.opType()).apply(ctx)); // data checks name the node
      } catch (OnnxException e) {
        throw e.getMessage().startsWith(node.describe()) ? e : new OnnxException(node.describe() + ": " + e.getMessage(), e);
      } catch (RuntimeException e) { // a shape that does not fit, a required input left out (null), a bad attribute
        throw new OnnxException(node.describe() + " with inputs " + ins.stream().map(t -> t == null ? "-" : t.dtype() + Arrays.toString(t.shape())).toList()
            + ": " + (e instanceof NullPointerException || e instanceof java.util.NoSuchElementException ? "a required input is missing" : e.getMessage()), e);
      }
      for (int i = 0; i < node.outputs().size(); i++) {
        if (node.outputs().get(i).isEmpty()) continue;
        if (i >= outs.size() || outs.get(i) == null) throw new OnnxException(node.describe() + ": output " + i + " ('" + node.outputs().get(i) + "') is not supported");
        values.put(node.outputs().get(i), outs.get(i));
      }
    }
    var out = new LinkedHashMap<String, Tensor>();
    for (var o : model.graph().outputs()) {
      var t = values.get(o.name());
      if (t == null) throw new OnnxException("graph output '" + o.name() + "' is computed by no node");
      out.put(o.name(), t);
    }
    return out;
  }

  private static void checkDims(OnnxModel.ValueInfo in, Tensor t) {
    var s = t.shape();
    boolean ok = in.dims().isEmpty() || in.dims().size() == s.length;
    for (int i = 0; ok && i < in.dims().size() && !in.dims().isEmpty(); i++) ok = !(in.dims().get(i) instanceof Long d) || d <= 0 || d == s[i];
    if (!ok) throw new OnnxException("input '" + in.name() + "' must have dims " + in.dims() + ", got " + Arrays.toString(s));
  }

  // ---- host values

  /** Little-endian values of an integer or bool type as longs. */
  static long[] longs(MemorySegment bytes, DType dt) {
    int n = (int) (bytes.byteSize() / dt.itemsize());
    var out = new long[n];
    var le = ByteOrder.LITTLE_ENDIAN;
    for (int i = 0; i < n; i++) {
      out[i] = switch (dt) {
        case BOOL, UINT8 -> bytes.get(ValueLayout.JAVA_BYTE, i) & 0xFF;
        case INT8 -> bytes.get(ValueLayout.JAVA_BYTE, i);
        case INT16 -> bytes.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(le), 2L * i);
        case UINT16 -> bytes.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(le), 2L * i) & 0xFFFF;
        case INT32 -> bytes.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(le), 4L * i);
        case UINT32 -> bytes.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(le), 4L * i) & 0xFFFFFFFFL;
        case INT64, UINT64 -> bytes.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(le), 8L * i);
        default -> throw new IllegalArgumentException("not an integer type: " + dt);
      };
    }
    return out;
  }

  /** The values of an integer tensor on the host: known ones directly, others computed and read back. */
  long[] values(Tensor t) {
    var v = known.get(t);
    if (v != null) return v;
    if (t.dtype().isFloat()) return Arrays.stream(t.toDoubleArray()).mapToLong(d -> (long) d).toArray();
    return longs(MemorySegment.ofArray(t.toBytes()), t.dtype());
  }

  /** An int64 (or other integer type) tensor of known values. */
  Tensor hostTensor(long[] v, DType dt, int... shape) {
    var seg = OnnxModel.littleEndian(v, dt);
    var t = Tensor.fromBytes(seg, dt, shape);
    known.put(t, v);
    return t;
  }
}
