package dev.tinygrad4j.cli;

import dev.tinygrad4j.Flags;
import dev.tinygrad4j.Tensor;
import dev.tinygrad4j.nn.Npy;
import dev.tinygrad4j.onnx.OnnxModel;
import dev.tinygrad4j.onnx.OnnxRunner;
import dev.tinygrad4j.onnx.SentenceEmbedder;
import dev.tinygrad4j.runtime.Devices;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;

/** {@code tinygrad4j onnx MODEL} and {@code tinygrad4j embed "sentence"}: ONNX models from the command line. */
final class OnnxCommand {
  private OnnxCommand() {}

  static final String USAGE = "onnx MODEL.onnx [--input NAME=FILE.npy ...] [--out DIR] [--device NAME]";
  static final String EMBED_USAGE = "embed \"SENTENCE\" [\"SENTENCE\" ...] [--device NAME]";

  /** Runs a model on .npy inputs; prints each output's type, shape and first values; writes them as .npy with --out. */
  static void run(String[] args) {
    Path model = null, out = null;
    var files = new LinkedHashMap<String, Path>();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--input" -> {
          var spec = value(args, ++i, "--input");
          int eq = spec.indexOf('=');
          if (eq <= 0) throw new IllegalArgumentException("--input needs NAME=FILE.npy, got '" + spec + "'");
          files.put(spec.substring(0, eq), Path.of(spec.substring(eq + 1)));
        }
        case "--out" -> out = Path.of(value(args, ++i, "--out"));
        case "--device" -> Flags.set("DEV", Devices.get(value(args, ++i, "--device")).name());
        default -> {
          if (args[i].startsWith("--") || model != null) throw new IllegalArgumentException("unexpected argument '" + args[i] + "'; usage: " + USAGE);
          model = Path.of(args[i]);
        }
      }
    }
    if (model == null) throw new IllegalArgumentException("no model given; usage: " + USAGE);
    var m = OnnxModel.load(model);
    var runner = new OnnxRunner(m);
    var inputs = new LinkedHashMap<String, Tensor>();
    var missing = new ArrayList<String>();
    for (var in : m.graph().inputs()) {
      var f = files.remove(in.name());
      if (f == null) missing.add(in.name() + " (" + in.typeName() + " " + in.dims() + ")");
      else inputs.put(in.name(), Npy.read(f));
    }
    if (!files.isEmpty()) throw new IllegalArgumentException("the model has no input " + files.keySet() + "; its inputs: " + m.graph().inputs().stream().map(v -> v.name()).toList());
    if (!missing.isEmpty()) throw new IllegalArgumentException("inputs missing, give each as --input NAME=FILE.npy: " + String.join(", ", missing));
    long t0 = System.nanoTime();
    var outs = runner.run(inputs);
    Tensor.realizeAll(outs.values().toArray(Tensor[]::new));
    System.out.printf(Locale.ROOT, "%s: %d nodes, ran in %.1f ms on %s%n", model.getFileName(), m.graph().nodes().size(), (System.nanoTime() - t0) / 1e6, Devices.defaultName());
    for (var e : outs.entrySet()) {
      var t = e.getValue();
      var first = Arrays.stream(t.cast(dev.tinygrad4j.DType.FLOAT64).toDoubleArray()).limit(8).mapToObj(v -> String.format(Locale.ROOT, "%.6g", v)).toList();
      System.out.printf(Locale.ROOT, "%s  %s %s  %s%s%n", e.getKey(), t.dtype().lowerName(), Arrays.toString(t.shape()), first, t.numel() > 8 ? " ..." : "");
      if (out != null) {
        var file = out.resolve(fileName(e.getKey()) + ".npy");
        try {
          Files.createDirectories(out);
        } catch (IOException ex) {
          throw new UncheckedIOException("cannot create " + out, ex);
        }
        Npy.write(file, t);
        System.out.println("  wrote " + file);
      }
    }
  }

  /** An output name as a file name: letters, digits, '.', '-' and '_' kept, anything else '_'; never hidden or empty. */
  static String fileName(String name) {
    var s = name.replaceAll("[^A-Za-z0-9._-]", "_");
    if (s.isEmpty() || s.startsWith(".")) s = "_" + s;
    return s;
  }

  /** Prints the all-MiniLM-L6-v2 embedding (384 values, mean-pooled, L2-normalized) of each sentence. */
  static void embed(String[] args) {
    var sentences = new ArrayList<String>();
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--device")) Flags.set("DEV", Devices.get(value(args, ++i, "--device")).name());
      else sentences.add(args[i]);
    }
    if (sentences.isEmpty()) throw new IllegalArgumentException("no sentence given; usage: " + EMBED_USAGE);
    var e = SentenceEmbedder.allMiniLmL6V2().embed(sentences).toFloatArray();
    int d = e.length / sentences.size();
    for (int s = 0; s < sentences.size(); s++) {
      var sb = new StringBuilder("[");
      for (int k = 0; k < d; k++) sb.append(k == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.6f", e[s * d + k]));
      if (sentences.size() > 1) System.out.println("# " + sentences.get(s));
      System.out.println(sb.append(']'));
    }
  }

  static String value(String[] args, int i, String flag) {
    if (i >= args.length) throw new IllegalArgumentException(flag + " needs a value");
    return args[i];
  }

  /** Sentences for benchmarks: varied text, tokenized and padded (or cut) to a fixed length. */
  static List<String> benchSentences(int n) {
    var base = List.of("The quick brown fox jumps over the lazy dog while the farmer watches from the porch.",
        "Sentence embeddings map text to vectors whose cosine similarity tracks meaning.",
        "tinygrad4j compiles a graph of primitive operations into fused kernels for each device.",
        "Retrieval systems compare a query's embedding with millions of stored document embeddings.");
    var out = new ArrayList<String>();
    for (int i = 0; i < n; i++) out.add(String.join(" ", java.util.Collections.nCopies(8, base.get(i % base.size()))));
    return out;
  }
}
