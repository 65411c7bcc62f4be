package dev.tinygrad4j.cli;

import dev.tinygrad4j.runtime.Devices;

/** The command line: {@code tinygrad4j info}, {@code tinygrad4j bench matmul|ops}. */
public final class Main {
  private Main() {}

  /** Entry point. */
  public static void main(String[] args) {
    var cmd = args.length == 0 ? "info" : args[0];
    switch (cmd) {
      case "info" -> info();
      case "bench" -> Bench.run(args.length > 1 ? args[1] : "matmul");
      case "-h", "--help", "help" -> usage();
      default -> {
        System.err.println("unknown command '" + cmd + "'");
        usage();
        System.exit(2);
      }
    }
  }

  private static void usage() {
    System.out.println("""
        usage: tinygrad4j <command>
          info            version, devices available here, default device
          bench matmul    fp32 matmul GFLOPS per device against OpenBLAS, N = 256..2048
          bench ops       elementwise, reduction and softmax speed per device against a plain Java loop""");
  }

  private static void info() {
    var version = Main.class.getPackage().getImplementationVersion();
    System.out.println("tinygrad4j " + (version == null ? "(development build)" : version));
    System.out.println("java       " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")");
    System.out.println("devices    " + String.join(", ", Devices.available()) + "   (known: " + String.join(", ", Devices.known()) + ")");
    System.out.println("default    " + Devices.defaultName() + "   (set DEV=NAME to choose)");
  }
}
