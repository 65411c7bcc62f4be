package dev.tinygrad4j.cli;

import dev.tinygrad4j.runtime.Devices;

/** The command line: {@code tinygrad4j mnist|onnx|embed|info|bench}. */
public final class Main {
  private Main() {}

  /** Entry point. */
  public static void main(String[] args) {
    var cmd = args.length == 0 ? "info" : args[0];
    try {
      dispatch(cmd, args);
    } catch (IllegalArgumentException | IllegalStateException | java.io.UncheckedIOException | dev.tinygrad4j.onnx.OnnxException e) {
      System.err.println("tinygrad4j " + cmd + ": " + e.getMessage());
      System.exit(1);
    }
  }

  private static void dispatch(String cmd, String[] args) {
    switch (cmd) {
      case "info" -> info();
      case "bench" -> Bench.run(args.length > 1 ? args[1] : "matmul");
      case "mnist" -> MnistCommand.run(java.util.Arrays.copyOfRange(args, 1, args.length));
      case "onnx" -> OnnxCommand.run(java.util.Arrays.copyOfRange(args, 1, args.length));
      case "embed" -> OnnxCommand.embed(java.util.Arrays.copyOfRange(args, 1, args.length));
      case "-h", "--help", "help" -> usage();
      default -> {
        System.err.println("unknown command '" + cmd + "'");
        usage();
        System.exit(2);
      }
    }
  }

  private static void usage() {
    System.out.println("usage: tinygrad4j <command>\n"
        + "  " + MnistCommand.USAGE + "\n"
        + "                  train the beautiful_mnist CNN: progress bar, test accuracy, PNG plot (the main job)\n"
        + "  " + OnnxCommand.USAGE + "\n"
        + "                  run an ONNX model on .npy inputs: output shapes and first values, .npy files with --out\n"
        + "  " + OnnxCommand.EMBED_USAGE + "\n"
        + "                  the all-MiniLM-L6-v2 sentence embedding (384 values, mean-pooled, L2-normalized)\n"
        + "  info            version, devices available here, default device\n"
        + "  bench matmul    fp32 matmul GFLOPS per device against OpenBLAS, N = 256..2048\n"
        + "  bench ops       elementwise, reduction and softmax speed per device against a plain Java loop\n"
        + "  bench mnist     seconds per MNIST CNN training step (batch 512) per device against PyTorch\n"
        + "  bench minilm    all-MiniLM-L6-v2 sentences/s at batch 1 and 32 (sequence 128) per device against ONNX Runtime\n"
        + "  bench jit       dispatch overhead: a 100-kernel step run eagerly and replayed by a Jit, per device\n"
        + "  bench coldstart seconds to the first MNIST step and MiniLM embedding with an empty kernel cache");
  }

  private static void info() {
    var version = Main.class.getPackage().getImplementationVersion();
    System.out.println("tinygrad4j " + (version == null ? "(development build)" : version));
    System.out.println("java       " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")");
    System.out.println("default    " + Devices.defaultName() + "   (set DEV=NAME to choose)");
    for (var name : Devices.known()) {
      try {
        System.out.printf("  %-8s %s%n", name, Devices.get(name).describe());
      } catch (RuntimeException e) {
        System.out.printf("  %-8s not available: %s%n", name, e.getMessage());
      }
    }
  }
}
