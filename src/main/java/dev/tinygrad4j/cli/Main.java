package dev.tinygrad4j.cli;

import dev.tinygrad4j.runtime.Devices;

/** The command line: {@code tinygrad4j info}. */
public final class Main {
  private Main() {}

  /** Entry point. */
  public static void main(String[] args) {
    var cmd = args.length == 0 ? "info" : args[0];
    switch (cmd) {
      case "info" -> info();
      case "-h", "--help", "help" -> usage();
      default -> {
        System.err.println("unknown command '" + cmd + "'");
        usage();
        System.exit(2);
      }
    }
  }

  private static void usage() {
    System.out.println("usage: tinygrad4j <command>\n  info   version, devices available here, default device");
  }

  private static void info() {
    var version = Main.class.getPackage().getImplementationVersion();
    System.out.println("tinygrad4j " + (version == null ? "(development build)" : version));
    System.out.println("java       " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")");
    System.out.println("devices    " + String.join(", ", Devices.available()) + "   (known: " + String.join(", ", Devices.known()) + ")");
    System.out.println("default    " + Devices.defaultName() + "   (set DEV=NAME to choose)");
  }
}
