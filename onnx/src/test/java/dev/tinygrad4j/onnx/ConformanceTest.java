package dev.tinygrad4j.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.Tensor;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The ONNX backend node tests (Debian libonnx-testdata: a model, its inputs and ONNX's expected outputs per case) on
 * the default device. Every case is passed, excluded (it needs string, sequence, optional or map types), unsupported
 * (an op or feature tinygrad4j says it does not run) or failed; no case may fail, and the pass rate over the
 * eligible cases must reach the target. The per-op table in docs/ONNX_OPS.md must match what this run measured
 * (ONNX_OPS_UPDATE=1 rewrites it).
 */
class ConformanceTest {
  static final Path NODE = Path.of(System.getenv().getOrDefault("ONNX_NODE_TESTS", "/usr/share/libonnx-testdata/data/node"));
  static final double TARGET = 0.80;

  enum Outcome { PASS, EXCLUDED, UNSUPPORTED, DEVIATES, FAIL }

  /** Cases whose expected data tinygrad4j deliberately does not match, and why (checked to still differ). */
  static final Map<String, String> DEVIATIONS = Map.of(
      "test_dynamicquantizelinear", "float division is x·(1/y) in tinygrad4j (1 ulp from IEEE division): -2.5/scale lands on the other side of a round-half-even tie",
      "test_dynamicquantizelinear_expanded", "float division is x·(1/y) in tinygrad4j (1 ulp from IEEE division): -2.5/scale lands on the other side of a round-half-even tie",
      "test_cast_FLOAT_to_BFLOAT16", "ONNX 1.12's expected values truncate float to bfloat16; tinygrad4j rounds to nearest even, as PyTorch and later ONNX do",
      "test_castlike_FLOAT_to_BFLOAT16", "the test feeds 'like' as [1] where the model declares [3, 4]; tinygrad4j checks declared input dims",
      "test_castlike_FLOAT_to_BFLOAT16_expanded", "the test feeds 'like' as [1] where the model declares [3, 4]; tinygrad4j checks declared input dims",
      "test_castlike_BFLOAT16_to_FLOAT", "the test feeds 'like' as [1] where the model declares [3, 4]; tinygrad4j checks declared input dims",
      "test_castlike_BFLOAT16_to_FLOAT_expanded", "the test feeds 'like' as [1] where the model declares [3, 4]; tinygrad4j checks declared input dims");
  record Result(String test, String op, Outcome outcome, String detail) {}

  @Test void nodeTestsPassOnTheDefaultDevice() throws Exception {
    Assumptions.assumeTrue(Files.isDirectory(NODE), "ONNX node tests not found at " + NODE + " (apt-get install libonnx-testdata)");
    List<Path> cases;
    try (Stream<Path> s = Files.list(NODE)) { cases = s.filter(Files::isDirectory).sorted().toList(); }
    var opNames = new TreeSet<String>(OnnxRunner.supportedOps());
    var models = new HashMap<Path, OnnxModel>();
    for (var dir : cases) {
      try {
        var m = OnnxModel.load(dir.resolve("model.onnx"));
        models.put(dir, m);
        m.graph().nodes().forEach(n -> opNames.add(n.opType()));
      } catch (OnnxException e) { /* counted below */ }
    }
    var results = new ArrayList<Result>();
    for (var dir : cases) {
      var r = run(dir, models.get(dir), opOf(dir.getFileName().toString(), opNames));
      var why = DEVIATIONS.get(r.test());
      if (why != null) r = r.outcome() == Outcome.FAIL ? new Result(r.test(), r.op(), Outcome.DEVIATES, why)
          : new Result(r.test(), r.op(), Outcome.FAIL, "listed as a deviation but came out " + r.outcome());
      results.add(r);
    }

    var failed = results.stream().filter(r -> r.outcome() == Outcome.FAIL).toList();
    long eligible = results.stream().filter(r -> r.outcome() != Outcome.EXCLUDED).count();
    long passed = results.stream().filter(r -> r.outcome() == Outcome.PASS).count();
    var table = table(results, eligible, passed);
    var doc = Path.of(System.getProperty("user.dir")).resolveSibling("docs").resolve("ONNX_OPS.md");
    if ("1".equals(System.getenv("ONNX_OPS_UPDATE"))) Files.writeString(doc, table);
    System.out.printf("ONNX node tests: %d cases, %d eligible, %d passed (%.1f %%), %d failed%n", results.size(), eligible, passed, 100.0 * passed / eligible, failed.size());
    assertTrue(failed.isEmpty(), () -> failed.size() + " cases failed:\n" + String.join("\n", failed.stream().limit(60).map(r -> r.test() + ": " + r.detail()).toList()));
    assertTrue(passed >= TARGET * eligible, String.format("%d of %d eligible cases pass (%.1f %%), below the %.0f %% target", passed, eligible, 100.0 * passed / eligible, 100 * TARGET));
    assertEquals(Files.exists(doc) ? Files.readString(doc) : "", table, "docs/ONNX_OPS.md is not what this run measured; rerun with ONNX_OPS_UPDATE=1");
  }

  /** The op a test is about, from its name (test_reduce_log_sum_exp_... → ReduceLogSumExp). */
  static String opOf(String test, java.util.Set<String> ops) {
    var alias = Map.of("sce", "SoftmaxCrossEntropyLoss", "nllloss", "NegativeLogLikelihoodLoss", "basic_conv", "Conv", "basic_convinteger", "ConvInteger",
        "mvn", "MeanVarianceNormalization", "simple_rnn", "RNN", "strnormalizer", "StringNormalizer", "training_dropout", "Dropout", "nesterov_momentum", "Momentum",
        "identity_opt", "Identity");
    var tokens = test.replaceFirst("^test_", "").split("_");
    for (int k = tokens.length; k > 0; k--) {
      var joined = String.join("_", Arrays.copyOf(tokens, k));
      if (alias.containsKey(joined)) return alias.get(joined);
      for (var cand : new String[]{joined.replace("_", ""), joined.replace("_", "").replaceAll("\\d+d$", "").replaceAll("\\d+$", "")})
        for (var op : ops) if (op.equalsIgnoreCase(cand)) return op;
    }
    return tokens[0];
  }

  private static Result run(Path dir, OnnxModel model, String op) {
    var name = dir.getFileName().toString();
    if (model == null) return new Result(name, op, Outcome.EXCLUDED, "model not readable (string or other unsupported types)");
    var io = new ArrayList<>(model.graph().inputs());
    io.addAll(model.graph().outputs());
    for (var v : io) if (v.dtype() == null) return new Result(name, op, Outcome.EXCLUDED, v.typeName() + " value '" + v.name() + "'");
    var missing = OnnxRunner.unsupported(model);
    if (!missing.isEmpty()) return new Result(name, op, Outcome.UNSUPPORTED, "ops " + missing);
    try {
      var data = dir.resolve("test_data_set_0");
      var inputs = new HashMap<String, Tensor>();
      var runner = new OnnxRunner(model);
      for (int i = 0; i < model.graph().inputs().size(); i++) {
        var f = data.resolve("input_" + i + ".pb");
        if (!Files.exists(f)) continue; // an omitted optional input
        var t = bf16(OnnxModel.readTensor(Files.readAllBytes(f), f.toString()), model.graph().inputs().get(i).dtype());
        inputs.put(model.graph().inputs().get(i).name(), runner.tensor(t));
      }
      var outs = runner.run(inputs);
      var names = new ArrayList<>(outs.keySet());
      for (int i = 0; i < names.size(); i++) {
        var f = data.resolve("output_" + i + ".pb");
        var want = bf16(OnnxModel.readTensor(Files.readAllBytes(f), f.toString()), outs.get(names.get(i)).dtype());
        var why = compare(want, outs.get(names.get(i)));
        if (why != null) return new Result(name, op, Outcome.FAIL, "output '" + names.get(i) + "': " + why);
      }
      return new Result(name, op, Outcome.PASS, "");
    } catch (OnnxOps.UnsupportedOnnx e) {
      return new Result(name, op, Outcome.UNSUPPORTED, e.getMessage());
    } catch (Exception | StackOverflowError e) {
      return new Result(name, op, Outcome.FAIL, e.getClass().getSimpleName() + ": " + String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
    }
  }

  /** ONNX 1.12's test data stores bfloat16 tensors as their uint16 bits: read them as bfloat16 where that is meant. */
  static OnnxModel.TensorData bf16(OnnxModel.TensorData t, DType meant) {
    return t.dtype() == DType.UINT16 && meant == DType.BFLOAT16 ? new OnnxModel.TensorData(t.name(), DType.BFLOAT16, t.shape(), t.bytes()) : t;
  }

  /** Why got differs from want (ONNX's backend tolerance: rtol 1e-3, atol 1e-7), or null. */
  static String compare(OnnxModel.TensorData want, Tensor got) {
    if (!Arrays.equals(want.shape(), got.shape())) return "shape " + Arrays.toString(got.shape()) + ", expected " + Arrays.toString(want.shape());
    if (want.dtype() != got.dtype()) return "type " + got.dtype() + ", expected " + want.dtype();
    if (want.dtype().isFloat()) {
      var w = Tensor.fromBytes(want.bytes(), want.dtype(), want.shape()).cast(DType.FLOAT64).toDoubleArray();
      var g = got.cast(DType.FLOAT64).toDoubleArray();
      for (int i = 0; i < w.length; i++) {
        if (Double.isNaN(w[i]) ? Double.isNaN(g[i]) : w[i] == g[i] || Math.abs(w[i] - g[i]) <= 1e-7 + 1e-3 * Math.abs(w[i])) continue;
        return "element " + i + " is " + g[i] + ", expected " + w[i];
      }
      return null;
    }
    var w = OnnxRunner.longs(want.bytes(), want.dtype());
    var g = OnnxRunner.longs(MemorySegment.ofArray(got.toBytes()), got.dtype());
    for (int i = 0; i < w.length; i++) if (w[i] != g[i]) return "element " + i + " is " + g[i] + ", expected " + w[i];
    return null;
  }

  /** The per-op table of docs/ONNX_OPS.md. */
  static String table(List<Result> results, long eligible, long passed) {
    var byOp = new TreeMap<String, List<Result>>(String.CASE_INSENSITIVE_ORDER);
    for (var r : results) byOp.computeIfAbsent(r.op(), k -> new ArrayList<>()).add(r);
    var sb = new StringBuilder("""
        # ONNX operator coverage

        Generated by `ConformanceTest` (onnx module) from the ONNX backend node tests in Debian's libonnx-testdata
        (ONNX 1.12), run on the default device; rewrite with `ONNX_OPS_UPDATE=1 ./mvnw test -pl onnx -am
        -Dtinygrad4j.onlyDefault=true -Dtest=ConformanceTest -Dsurefire.failIfNoSpecifiedTests=false`.
        A case is excluded when it needs string, sequence, optional or map values; unsupported when an op or
        feature is one tinygrad4j does not run (it says so instead of answering); deviates where tinygrad4j
        deliberately differs from this old test data (each named in the test, with the reason); no case fails.

        """);
    sb.append(String.format("Passed **%d of %d** eligible cases (%.1f %%); %d cases in all, %d excluded.%n%n", passed, eligible,
        100.0 * passed / eligible, results.size(), results.size() - eligible));
    sb.append("| op | passed | eligible | cases | not passed: why (first case) |\n| --- | --- | --- | --- | --- |\n");
    for (var e : byOp.entrySet()) {
      var rs = e.getValue();
      long p = rs.stream().filter(r -> r.outcome() == Outcome.PASS).count(), el = rs.stream().filter(r -> r.outcome() != Outcome.EXCLUDED).count();
      var why = rs.stream().filter(r -> r.outcome() != Outcome.PASS).findFirst().map(r -> r.outcome().name().toLowerCase() + ": " + r.detail().replace("|", "/")).orElse("");
      if (why.length() > 110) why = why.substring(0, 107) + "...";
      sb.append("| ").append(e.getKey()).append(" | ").append(p).append(" | ").append(el).append(" | ").append(rs.size()).append(" | ").append(why).append(" |\n");
    }
    return sb.toString();
  }
}
