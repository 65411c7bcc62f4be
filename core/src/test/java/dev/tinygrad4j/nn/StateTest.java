package dev.tinygrad4j.nn;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** State: state-dict keys from a model's fields, loading values into it, parameters, files. */
class StateTest {
  @TempDir Path dir;

  record Linear(Tensor weight, Tensor bias) {
    static Linear of(int in, int out) { return new Linear(Tensor.randn(out, in).requiresGrad(true), Tensor.zeros(out).requiresGrad(true)); }
  }

  static class BatchNorm {
    Tensor weight = Tensor.ones(3), bias = Tensor.zeros(3);
    Tensor runningMean = Tensor.zeros(3), runningVar = Tensor.ones(3);
    Tensor numBatchesTracked = Tensor.zeros(1).reshape().cast(DType.INT64);
    int features = 3;                      // primitive: skipped
    String name = "bn";                    // string: skipped
    DType dtype = DType.FLOAT32;           // enum: skipped
  }

  static class Base {
    Tensor tokEmbedding = Tensor.randn(5, 2);
  }

  static class Net extends Base {
    Linear fc1 = Linear.of(2, 4);
    List<Linear> layers = List.of(Linear.of(4, 4), Linear.of(4, 3));
    BatchNorm bn = new BatchNorm();
    Map<String, Tensor> extra = new LinkedHashMap<>(Map.of("scale", Tensor.ones(1)));
    Tensor[] heads = {Tensor.zeros(2), null, Tensor.ones(2)};
    Linear none = null;
    Net self = this;                       // a cycle
    transient Tensor cache = Tensor.ones(7);
    static Tensor shared = Tensor.ones(9);
    Runnable hook = () -> {};
    Integer boxed = 4;

    Tensor forward(Tensor x) {
      x = x.matmul(fc1.weight().transpose(0, 1)).add(fc1.bias()).relu();
      for (var l : layers) x = x.matmul(l.weight().transpose(0, 1)).add(l.bias());
      return x;
    }
  }

  private static final List<String> NET_KEYS = List.of("tok_embedding", "fc1.weight", "fc1.bias",
      "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias",
      "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked",
      "extra.scale", "heads.0", "heads.2");

  /** A state with new values for every key of net: key i filled with i + 1, cast to the tensor's dtype. */
  private static Map<String, Tensor> fresh(Net net) {
    var out = new LinkedHashMap<String, Tensor>();
    int i = 0;
    for (var e : State.stateDict(net).entrySet()) out.put(e.getKey(), Tensor.full(++i, e.getValue().shape()).cast(e.getValue().dtype()));
    return out;
  }

  private static void assertFilled(Tensor t, double v, String what) {
    for (var x : t.toDoubleArray()) assertEquals(v, x, what);
  }

  // ---------------------------------------------------------------- keys
  @Test void keysFollowFieldsInPyTorchSpelling() {
    var net = new Net();
    var sd = State.stateDict(net);
    assertEquals(NET_KEYS, List.copyOf(sd.keySet()));
    assertSame(net.fc1.weight(), sd.get("fc1.weight"));
    assertSame(net.layers.get(1).bias(), sd.get("layers.1.bias"));
    assertSame(net.bn.runningMean, sd.get("bn.running_mean"));
    assertSame(net.heads[2], sd.get("heads.2"));
  }

  @Test void snakeCase() {
    assertEquals("running_mean", State.snakeCase("runningMean"));
    assertEquals("num_batches_tracked", State.snakeCase("numBatchesTracked"));
    assertEquals("conv1", State.snakeCase("conv1"));
    assertEquals("fc1_weight", State.snakeCase("fc1Weight"));
    assertEquals("http_server", State.snakeCase("HTTPServer"));
    assertEquals("in_proj_weight", State.snakeCase("in_proj_weight"));
    assertEquals("w", State.snakeCase("W"));
  }

  @Test void sharedModulesAppearUnderEachPath() {
    var lin = Linear.of(2, 2);
    record Tied(Linear encoder, Linear decoder) {}
    var sd = State.stateDict(new Tied(lin, lin));
    assertEquals(List.of("encoder.weight", "encoder.bias", "decoder.weight", "decoder.bias"), List.copyOf(sd.keySet()));
    assertSame(sd.get("encoder.weight"), sd.get("decoder.weight"));
    assertEquals(2, State.parameters(new Tied(lin, lin)).size(), "each tensor once");
  }

  @Test void listsAndMapsAtTheTop() {
    var a = Tensor.ones(1);
    var sd = State.stateDict(List.of(Map.of("w", a), new Linear(Tensor.ones(2), null)));
    assertEquals(List.of("0.w", "1.weight"), List.copyOf(sd.keySet()));
    var bad = new HashMap<Object, Tensor>(Map.of(3, a));
    var e = assertThrows(IllegalArgumentException.class, () -> State.stateDict(List.of(bad)));
    assertTrue(e.getMessage().contains("'0'") && e.getMessage().contains("java.lang.Integer"), e.getMessage());
  }

  // ---------------------------------------------------------------- parameters
  @Test void parametersAreFloatTensorsThatAreNotBuffers() {
    var net = new Net();
    var params = State.parameters(net);
    var sd = State.stateDict(net);
    var expected = new ArrayList<Tensor>();
    for (var k : NET_KEYS) if (!k.startsWith("bn.running") && !k.equals("bn.num_batches_tracked")) expected.add(sd.get(k));
    assertEquals(expected.size(), params.size());
    for (int i = 0; i < params.size(); i++) assertSame(expected.get(i), params.get(i));
  }

  // ---------------------------------------------------------------- loading
  @Test void loadCopiesValuesAndKeepsDtypes() {
    var net = new Net();
    var state = fresh(net);
    state.put("bn.num_batches_tracked", Tensor.full(13, new int[0]));   // float32 value into an int64 tensor: cast
    var fc1Weight = net.fc1.weight();
    State.loadStateDict(net, state);
    assertSame(fc1Weight, net.fc1.weight(), "the model's own tensors are updated in place");
    int i = 0;
    for (var e : State.stateDict(net).entrySet()) {
      ++i;
      if (e.getKey().equals("bn.num_batches_tracked")) continue;
      assertFilled(e.getValue(), i, e.getKey());
    }
    assertEquals(DType.INT64, net.bn.numBatchesTracked.dtype());
    assertEquals(13, net.bn.numBatchesTracked.item());
    // still trainable: gradients reach the loaded parameters
    net.forward(Tensor.ones(1, 2)).sum().backward();
    assertNotNull(net.fc1.weight().grad());
    assertArrayEquals(new int[]{4, 2}, net.fc1.weight().grad().shape());
  }

  @Test void strictReportsMissingAndUnexpectedKeysTogetherAndChangesNothing() {
    var net = new Net();
    var before = net.bn.weight.toFloatArray();
    var state = fresh(net);
    state.remove("bn.running_var");
    state.remove("layers.1.bias");
    state.put("bn.running_std", Tensor.ones(3));
    var e = assertThrows(IllegalArgumentException.class, () -> State.loadStateDict(net, state));
    var m = e.getMessage();
    assertTrue(m.contains("missing keys [layers.1.bias, bn.running_var]"), m);
    assertTrue(m.contains("unexpected keys [bn.running_std]"), m);
    assertArrayEquals(before, net.bn.weight.toFloatArray(), "nothing assigned after an error");

    State.loadStateDict(net, state, false);   // not strict: the keys both sides have are loaded
    assertFilled(net.bn.weight, NET_KEYS.indexOf("bn.weight") + 1, "bn.weight");
    assertFilled(net.bn.runningVar, 1, "untouched");
  }

  @Test void shapeMismatchNamesKeyAndBothShapes() {
    var net = new Net();
    var state = fresh(net);
    state.put("fc1.weight", Tensor.ones(2, 4));
    var e = assertThrows(IllegalArgumentException.class, () -> State.loadStateDict(net, state, false));
    assertTrue(e.getMessage().contains("'fc1.weight'") && e.getMessage().contains("[2, 4]") && e.getMessage().contains("[4, 2]"), e.getMessage());
  }

  // ---------------------------------------------------------------- files
  @Test void saveAndLoadThroughSafetensors() {
    var a = new Net();
    var b = new Net();
    var x = Tensor.randn(3, 2);
    assertFalse(java.util.Arrays.equals(a.forward(x).toFloatArray(), b.forward(x).toFloatArray()));
    var file = dir.resolve("net.safetensors");
    State.save(a, file);
    assertEquals(java.util.Set.copyOf(NET_KEYS), Safetensors.load(file).keySet());
    State.load(b, file);
    assertArrayEquals(a.forward(x).toFloatArray(), b.forward(x).toFloatArray());
    for (var k : NET_KEYS)
      assertArrayEquals(State.stateDict(a).get(k).toBytes(), State.stateDict(b).get(k).toBytes(), k);
  }
}
