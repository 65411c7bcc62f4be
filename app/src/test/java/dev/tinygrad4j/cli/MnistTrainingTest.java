package dev.tinygrad4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tinygrad4j.Tensor;
import dev.tinygrad4j.datasets.Mnist;
import dev.tinygrad4j.nn.State;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end on the real data: the main job's CNN, trained for a few hundred small steps, must classify ≥ 90 % of
 * the test images. A wrong gradient anywhere (convolution, batch norm, pooling, cross-entropy, Adam) stops it
 * learning. In CI the data must be there (.ci/run fetches it); elsewhere the test is skipped without it.
 */
class MnistTrainingTest {
  static Mnist data() {
    var found = Mnist.findLocal(false);
    if (!"true".equals(System.getenv("CI")))
      assumeTrue(found.isPresent(), "no MNIST in $MNIST_DIR or " + Mnist.cacheDir(false) + " (.ci/run puts it there)");
    return Mnist.load(found.orElseThrow(() -> new IllegalStateException("CI: MNIST missing from " + Mnist.cacheDir(false))));
  }

  @Test void shortTrainingReaches90PercentAndSavesAndLoads(@TempDir Path dir) throws java.io.IOException {
    var data = data();
    Tensor.manualSeed(7);
    var model = new MnistCnn();
    var o = MnistCommand.Options.parse(new String[]{"--steps", "150", "--batch", "32", "--seed", "7"});
    var curves = MnistCommand.train(model, data.train(), o);
    assertEquals(150, curves[0].length);
    assertTrue(curves[0][149] < curves[0][0] / 3, "loss must fall: first " + curves[0][0] + ", last " + curves[0][149]);
    var test = new Mnist.Split(java.util.Arrays.copyOf(data.test().images(), 2000 * Mnist.PIXELS), java.util.Arrays.copyOf(data.test().labels(), 2000));
    double acc = MnistCommand.accuracy(model, test);
    assertTrue(acc >= 0.90, "test accuracy after 150 steps of batch 32: " + acc);

    // the trained model survives a safetensors round trip: same predictions from a fresh model
    var file = dir.resolve("mnist.safetensors");
    State.save(model, file);
    assertTrue(Files.size(file) > 4 * 80_000, "the file holds the weights");
    var again = new MnistCnn();
    State.load(again, file);
    var batch = MnistCommand.normalize(test.imageBatch(0, 1, 2, 3, 4, 5, 6, 7));
    try (var ng = Tensor.noGrad()) {
      assertArrayEquals(model.forward(batch).toFloatArray(), again.forward(batch).toFloatArray(), 1e-6f);
    }
    assertEquals(acc, MnistCommand.accuracy(again, test), 1e-9);
  }

  @Test void stateDictKeysAreTorchStyle() {
    var keys = State.stateDict(new MnistCnn()).keySet();
    assertTrue(keys.containsAll(java.util.List.of("conv1.weight", "conv1.bias", "bn1.running_mean", "bn1.running_var",
        "bn1.num_batches_tracked", "bn2.weight", "fc.weight", "fc.bias")), keys.toString());
    assertEquals(10 + 5 * 2, keys.size(), keys.toString()); // 5 weighted layers × 2, 2 batch norms × 5
  }

  @Test void optionsAreChecked() {
    var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> MnistCommand.Options.parse(new String[]{"--bogus", "1"}));
    assertTrue(e.getMessage().contains("--bogus"));
    e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> MnistCommand.Options.parse(new String[]{"--steps"}));
    assertTrue(e.getMessage().contains("needs a value"), e.getMessage());
    e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> MnistCommand.Options.parse(new String[]{"--steps", "ten"}));
    assertTrue(e.getMessage().contains("--steps needs a number, got 'ten'"), e.getMessage());
    e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> MnistCommand.Options.parse(new String[]{"--bogus"}));
    assertTrue(e.getMessage().contains("unknown option --bogus"), e.getMessage());
    assertEquals(512, MnistCommand.Options.parse(new String[0]).batch());
  }

  @Test void outputPathsAreCheckedBeforeTraining(@TempDir Path dir) throws java.io.IOException {
    // run() would load MNIST and train for minutes before writing: each bad path must fail at once, naming itself
    String[][] bad = {
        {"--save", dir.resolve("no-such-folder/model.safetensors").toString(), "is in no existing folder"},
        {"--save", dir.toString(), "is a folder"},
        {"--plot", dir.resolve("missing/plot.png").toString(), "is in no existing folder"}};
    for (var b : bad) {
      long t0 = System.nanoTime();
      var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
          () -> MnistCommand.run(new String[]{"--steps", "100000", b[0], b[1]}));
      assertTrue(e.getMessage().contains(b[0] + " " + b[1]) && e.getMessage().contains(b[2]), e.getMessage());
      assertTrue(System.nanoTime() - t0 < 5e9, "checked before loading data or training");
    }
    var readOnly = Files.createDirectory(dir.resolve("ro"));
    if (readOnly.toFile().setWritable(false) && !Files.isWritable(readOnly)) { // (root may write anywhere)
      var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
          () -> MnistCommand.run(new String[]{"--steps", "100000", "--plot", readOnly.resolve("p.png").toString()}));
      assertTrue(e.getMessage().contains("is not writable"), e.getMessage());
    }
    MnistCommand.writable("--save", dir.resolve("fine.safetensors")); // a new file in a writable folder passes
  }
}
