package dev.tinygrad4j.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.nn.Npy;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Models exported from PyTorch 1.13 by torch.onnx.export (scripts/gen_onnx_models.py: a CNN with batch norm, grouped
 * strided conv, GELU, adaptive pooling and softmax; a transformer encoder layer over an embedding; resize, reflect
 * padding, cumsum, where and std; an MLP; a 2-layer bidirectional LSTM, a GRU and an RNN) against PyTorch's own outputs.
 */
class TorchExportTest {
  @ParameterizedTest
  @ValueSource(strings = {"cnn", "transformer", "misc", "mlp", "seq"})
  void matchesPyTorch(String name) throws Exception {
    byte[] model, x, y;
    try (var m = getClass().getResourceAsStream("/torch/" + name + ".onnx"); var xi = getClass().getResourceAsStream("/torch/" + name + "_x.npy");
         var yi = getClass().getResourceAsStream("/torch/" + name + "_y.npy")) {
      model = m.readAllBytes(); x = xi.readAllBytes(); y = yi.readAllBytes();
    }
    var runner = new OnnxRunner(OnnxModel.parse(model, null, name));
    var out = runner.run(Map.of("x", Npy.read(x, name + "_x.npy"))).get("y");
    var want = Npy.read(y, name + "_y.npy");
    assertArrayEquals(want.shape(), out.shape());
    var w = want.cast(DType.FLOAT64).toDoubleArray();
    var g = out.cast(DType.FLOAT64).toDoubleArray();
    for (int i = 0; i < w.length; i++) {
      int at = i;
      assertTrue(Math.abs(w[i] - g[i]) <= 1e-5 + 1e-4 * Math.abs(w[i]), () -> name + ": element " + at + " is " + g[at] + ", PyTorch gives " + w[at]);
    }
  }
}
