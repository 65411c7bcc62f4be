package dev.tinygrad4j.cli;

import dev.tinygrad4j.Flags;
import dev.tinygrad4j.Jit;
import dev.tinygrad4j.Tensor;
import dev.tinygrad4j.datasets.Mnist;
import dev.tinygrad4j.nn.Adam;
import dev.tinygrad4j.nn.State;
import dev.tinygrad4j.runtime.Devices;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.stream.IntStream;

/**
 * {@code tinygrad4j mnist}: trains {@link MnistCnn} with Adam (learning rate decayed linearly to 0) on random batches
 * of the MNIST (or Fashion-MNIST) training set, shows a progress bar, then prints the test accuracy and writes a plot of loss and accuracy.
 */
final class MnistCommand {
  private MnistCommand() {}

  /** Settings from the command line. */
  record Options(int steps, int batch, double lr, long seed, String device, boolean fashion, Path save, Path load, Path plot) {
    static Options parse(String[] args) {
      int steps = 100, batch = 512;
      double lr = 2e-3;
      long seed = 42;
      String device = null;
      boolean fashion = false;
      Path save = null, load = null, plot = Path.of("mnist.png");
      for (int i = 0; i < args.length; i++) {
        var a = args[i];
        if (a.equals("--fashion")) { fashion = true; continue; }
        if (!java.util.Set.of("--steps", "--batch", "--lr", "--seed", "--device", "--save", "--load", "--plot").contains(a))
          throw new IllegalArgumentException("mnist: unknown option " + a + "; usage: " + USAGE);
        if (i + 1 >= args.length) throw new IllegalArgumentException("mnist: " + a + " needs a value");
        var v = args[++i];
        try {
          switch (a) {
            case "--steps" -> steps = Integer.parseInt(v);
            case "--batch" -> batch = Integer.parseInt(v);
            case "--lr" -> lr = Double.parseDouble(v);
            case "--seed" -> seed = Long.parseLong(v);
            case "--device" -> device = v;
            case "--save" -> save = Path.of(v);
            case "--load" -> load = Path.of(v);
            case "--plot" -> plot = Path.of(v);
            default -> throw new IllegalStateException("unreachable: " + a);
          }
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("mnist: " + a + " needs a number, got '" + v + "'");
        }
      }
      if (steps < 0 || batch <= 0) throw new IllegalArgumentException("mnist: --steps must be >= 0 and --batch > 0");
      return new Options(steps, batch, lr, seed, device, fashion, save, load, plot);
    }
  }

  static final String USAGE = "mnist [--steps 100] [--batch 512] [--lr 0.002] [--seed 42] [--device CPU|JVM|INTERP] [--fashion]\n"
      + "                  [--save model.safetensors] [--load model.safetensors] [--plot mnist.png]";

  static void run(String[] args) {
    var o = Options.parse(args);
    writable("--save", o.save()); // before the minutes of training, not after
    if (o.steps() > 0) writable("--plot", o.plot());
    if (o.device() != null) Flags.set("DEV", Devices.get(o.device()).name());
    long t0 = System.nanoTime();
    var data = Mnist.load(o.fashion());
    System.out.printf(Locale.ROOT, "%s: %d training and %d test images; device %s, %d steps of batch %d%n",
        o.fashion() ? "fashion-mnist" : "mnist", data.train().size(), data.test().size(), Devices.defaultName(), o.steps(), o.batch());
    Tensor.manualSeed(o.seed());
    var model = new MnistCnn();
    if (o.load() != null) {
      State.load(model, o.load());
      System.out.println("loaded " + o.load());
    }
    var result = train(model, data.train(), o);
    double acc = accuracy(model, data.test());
    System.out.printf(Locale.ROOT, "test accuracy %.2f%% after %d steps (%.1f s in all)%n", 100 * acc, o.steps(), (System.nanoTime() - t0) / 1e9);
    if (o.steps() > 0 && o.plot() != null) {
      var file = Plot.lossAndAccuracy(o.plot(), result[0], result[1],
          String.format(Locale.ROOT, "%s CNN, batch %d, Adam lr %s: test accuracy %.2f%%", o.fashion() ? "Fashion-MNIST" : "MNIST", o.batch(), o.lr(), 100 * acc));
      System.out.println("plot: " + file.toAbsolutePath());
    }
    if (o.save() != null) {
      State.save(model, o.save());
      System.out.println("saved " + o.save().toAbsolutePath());
    }
  }

  /** Checks that file can be written: not a folder, in a folder that exists and takes new files, writable if it exists. */
  static void writable(String option, Path file) {
    if (file == null) return;
    var dir = file.toAbsolutePath().getParent();
    String why = Files.isDirectory(file) ? "is a folder"
        : dir == null || !Files.isDirectory(dir) ? "is in no existing folder (" + dir + ")"
        : Files.exists(file) ? (Files.isWritable(file) ? null : "exists and cannot be written")
        : Files.isWritable(dir) ? null : "cannot be created: " + dir + " is not writable";
    if (why != null) throw new IllegalArgumentException("mnist: " + option + " " + file + " " + why);
  }

  /** Trains for o.steps() steps; returns the loss and the batch accuracy of each step. */
  static double[][] train(MnistCnn model, Mnist.Split train, Options o) {
    var loss = new double[o.steps()];
    var acc = new double[o.steps()];
    if (o.steps() == 0) return new double[][]{loss, acc};
    var opt = new Adam(State.parameters(model), o.lr());
    var rng = new Random(o.seed());
    var bar = new Progress("train", o.steps());
    var trainStep = trainStep(model, opt);
    try (var mode = Tensor.train()) {
      for (int step = 0; step < o.steps(); step++) {
        opt.setLr(o.lr() * (1 - (double) step / o.steps())); // linear decay to 0: the last steps settle
        var idx = rng.ints(o.batch(), 0, train.size()).toArray();
        var out = trainStep.call(train.imageBatch(idx), train.labelBatch(idx));
        loss[step] = out[0].item();
        acc[step] = out[1].item() / o.batch();
        bar.update(step + 1, String.format(Locale.ROOT, "loss %.4f  acc %5.1f%%", loss[step], 100 * acc[step]));
      }
    }
    bar.done();
    return new double[][]{loss, acc};
  }

  /**
   * One training step (images, labels → loss, correct predictions) under a JIT: from the third call on, it replays
   * the captured kernels (forward, backward, the Adam update in place) without building or scheduling a graph.
   */
  static Jit trainStep(MnistCnn model, Adam opt) {
    return Jit.of(in -> {
      opt.zeroGrad();
      var logits = model.forward(normalize(in[0]));
      var l = logits.crossEntropy(in[1]);
      var correct = logits.argmax(1).eq(in[1]).sum();
      l.backward();
      opt.step(l, correct);
      return new Tensor[]{l, correct};
    });
  }

  /**
   * {@code tinygrad4j bench mnist}: median wall seconds of one training step (batch 512, random data, after warm-up)
   * on each compiled device, and the same model's step in PyTorch run by /usr/bin/python3 when it has torch.
   */
  static void bench() {
    int batch = 512;
    System.out.printf(Locale.ROOT, "MNIST CNN training step, batch %d (forward, backward, Adam), median seconds after warm-up%n", batch);
    var torch = torchStep(batch);
    System.out.println(torch.isNaN() ? "PyTorch: not measured (" + torchNote + ")" : String.format(Locale.ROOT, "%-8s %8.3f s   (%s)", "PyTorch", torch, torchNote));
    for (var dev : Devices.available()) {
      if (dev.equals("INTERP")) continue; // the reference interpreter: minutes per step
      Flags.set("DEV", dev);
      try {
        double s = stepSeconds(batch, dev.equals("CPU") ? 5 : 3);
        System.out.printf(Locale.ROOT, "%-8s %8.3f s%s%n", dev, s, torch.isNaN() ? "" : String.format(Locale.ROOT, "   %.2fx PyTorch's time", s / torch));
      } finally {
        Flags.set("DEV", null);
      }
    }
  }

  private static double stepSeconds(int batch, int runs) {
    Tensor.manualSeed(0);
    var model = new MnistCnn();
    var opt = new Adam(State.parameters(model), 1e-3);
    var x = Tensor.rand(batch, 1, 28, 28).mul(255).cast(dev.tinygrad4j.DType.UINT8).contiguous().realize();
    var y = Tensor.randint(0, 10, batch).realize();
    var t = new double[runs];
    var step = trainStep(model, opt);
    try (var mode = Tensor.train()) {
      for (int i = -3; i < runs; i++) { // the first call runs, the second captures, the rest replay
        long t0 = System.nanoTime();
        step.call(x, y)[0].item();
        if (i >= 0) t[i] = (System.nanoTime() - t0) / 1e9;
      }
    }
    Arrays.sort(t);
    return t[runs / 2];
  }

  private static String torchNote = "";

  /** PyTorch's step time, or NaN (with torchNote saying why) when /usr/bin/python3 or torch is missing. */
  private static Double torchStep(int batch) {
    try {
      var script = java.nio.file.Files.createTempFile("tinygrad4j-mnist-step", ".py");
      try (var in = MnistCommand.class.getResourceAsStream("mnist_step.py")) {
        java.nio.file.Files.write(script, in.readAllBytes());
      }
      var python = torchPython();
      if (python == null) { torchNote = "no python3 with torch (looked for " + TORCH_VENV + ")"; return Double.NaN; }
      var p = new ProcessBuilder(python.toString(), script.toString(), Integer.toString(batch), "3", "5").redirectErrorStream(true).start();
      var out = new String(p.getInputStream().readAllBytes()).trim();
      p.waitFor();
      java.nio.file.Files.deleteIfExists(script);
      var m = java.util.regex.Pattern.compile("seconds (\\S+) threads (\\d+) torch (\\S+)").matcher(out);
      if (p.exitValue() != 0 || !m.find()) { torchNote = "python3 failed: " + out.lines().reduce((a, b) -> b).orElse(""); return Double.NaN; }
      torchNote = "torch " + m.group(3) + ", " + m.group(2) + " threads, run as a subprocess";
      return Double.parseDouble(m.group(1));
    } catch (java.io.IOException e) {
      torchNote = e.getMessage();
      return Double.NaN;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      torchNote = "interrupted";
      return Double.NaN;
    }
  }

  /** Where the bench keeps a current PyTorch CPU build: a venv of its own, made with pip on first use. */
  static final Path TORCH_VENV = Path.of(System.getProperty("user.home"), ".cache", "tinygrad4j", "torch-venv");

  /**
   * A python3 with PyTorch: TORCH_PYTHON if set, else the bench's venv (created with {@code pip install
   * torch==2.13.0+cpu} when missing: a current build with its optimized kernels), else /usr/bin/python3.
   */
  private static Path torchPython() throws java.io.IOException, InterruptedException {
    var env = System.getenv("TORCH_PYTHON");
    if (env != null && !env.isBlank()) return Path.of(env);
    var venv = TORCH_VENV.resolve("bin").resolve("python");
    if (!java.nio.file.Files.isExecutable(venv) || !hasTorch(venv)) {
      System.err.println("bench: installing torch 2.13.0+cpu into " + TORCH_VENV + " (once) ...");
      run(List.of("python3", "-m", "venv", TORCH_VENV.toString()));
      var pip = TORCH_VENV.resolve("bin").resolve("pip").toString();
      // without its dependency resolution, which would ask an index for versions it cannot reach; then the few it imports
      run(List.of(pip, "install", "-q", "--no-deps", "--retries", "0", "torch==2.13.0+cpu"));
      for (var dep : List.of("typing-extensions", "filelock", "sympy", "mpmath", "networkx", "jinja2", "markupsafe", "fsspec"))
        run(List.of(pip, "install", "-q", "--no-deps", "--retries", "0", dep));
    }
    if (java.nio.file.Files.isExecutable(venv) && hasTorch(venv)) return venv;
    var system = Path.of("/usr/bin/python3");
    return java.nio.file.Files.isExecutable(system) && hasTorch(system) ? system : null;
  }

  private static boolean hasTorch(Path python) throws java.io.IOException, InterruptedException {
    return run(List.of(python.toString(), "-c", "import torch")) == 0;
  }

  private static int run(List<String> cmd) throws java.io.IOException, InterruptedException {
    var p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    return p.waitFor();
  }

  /** Images as floats in [0, 1]. */
  static Tensor normalize(Tensor images) { return images.cast(dev.tinygrad4j.DType.FLOAT32).div(255); }

  /** The fraction of a split classified correctly (evaluation mode, batches of 1000). */
  static double accuracy(MnistCnn model, Mnist.Split split) {
    long correct = 0;
    try (var ng = Tensor.noGrad()) {
      for (int start = 0; start < split.size(); start += 1000) {
        var idx = IntStream.range(start, Math.min(split.size(), start + 1000)).toArray();
        correct += (long) model.forward(normalize(split.imageBatch(idx))).argmax(1).eq(split.labelBatch(idx)).sum().item();
      }
    }
    return (double) correct / split.size();
  }
}
