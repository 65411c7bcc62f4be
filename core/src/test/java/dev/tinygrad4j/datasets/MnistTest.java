package dev.tinygrad4j.datasets;

import dev.tinygrad4j.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** idx parsing and checking on small files written here, the tar reader, and the real data when it is present. */
class MnistTest {
  @TempDir Path dir;

  // ---------------------------------------------------------------- synthetic idx files

  static byte[] images(int n, int rows, int cols) {
    var b = ByteBuffer.allocate(16 + n * rows * cols).putInt(2051).putInt(n).putInt(rows).putInt(cols);
    for (int i = 0; i < n * rows * cols; i++) b.put((byte) (i * 7 + 3));
    return b.array();
  }

  static byte[] labels(int... values) {
    var b = ByteBuffer.allocate(8 + values.length).putInt(2049).putInt(values.length);
    for (int v : values) b.put((byte) v);
    return b.array();
  }

  static byte[] gzip(byte[] data) throws IOException {
    var out = new ByteArrayOutputStream();
    try (var gz = new GZIPOutputStream(out)) { gz.write(data); }
    return out.toByteArray();
  }

  private void write(String name, byte[] data) throws IOException { Files.write(dir.resolve(name), data); }

  /** A valid set: 3 training images, 2 test images. */
  private void writeValid() throws IOException {
    write("train-images-idx3-ubyte", images(3, 28, 28));
    write("train-labels-idx1-ubyte", labels(5, 0, 9));
    write("t10k-images-idx3-ubyte.gz", gzip(images(2, 28, 28)));
    write("t10k-labels-idx1-ubyte", gzip(labels(7, 2))); // gzip without .gz: found by its magic bytes
  }

  private IllegalStateException fails(String... mustMention) {
    var e = assertThrows(IllegalStateException.class, () -> Mnist.load(dir));
    for (var m : mustMention) assertTrue(e.getMessage().contains(m), () -> "message '" + e.getMessage() + "' should mention " + m);
    return e;
  }

  @Test void loadsRawAndGzip() throws IOException {
    writeValid();
    var m = Mnist.load(dir);
    assertEquals(3, m.train().size());
    assertEquals(2, m.test().size());
    assertArrayEquals(new byte[]{5, 0, 9}, m.train().labels());
    assertEquals(7, m.test().label(0));
    assertArrayEquals(Arrays.copyOfRange(images(3, 28, 28), 16, 16 + 3 * 784), m.train().images());
    assertArrayEquals(Arrays.copyOfRange(images(2, 28, 28), 16, 16 + 2 * 784), m.test().images());

    var all = m.train().imageTensor();
    assertArrayEquals(new int[]{3, 1, 28, 28}, all.shape());
    assertEquals(DType.UINT8, all.dtype());
    assertArrayEquals(m.train().images(), all.toBytes());
    var labels = m.train().labelTensor();
    assertEquals(DType.INT32, labels.dtype());
    assertArrayEquals(new int[]{5, 0, 9}, labels.toIntArray());

    var batch = m.train().imageBatch(2, 0);
    assertArrayEquals(new int[]{2, 1, 28, 28}, batch.shape());
    var expect = new byte[2 * 784];
    System.arraycopy(m.train().images(), 2 * 784, expect, 0, 784);
    System.arraycopy(m.train().images(), 0, expect, 784, 784);
    assertArrayEquals(expect, batch.toBytes());
    assertArrayEquals(new int[]{9, 5}, m.train().labelBatch(2, 0).toIntArray());
  }

  @Test void missingFile() throws IOException {
    writeValid();
    Files.delete(dir.resolve("t10k-labels-idx1-ubyte"));
    fails("no t10k-labels-idx1-ubyte", dir.toString());
  }

  @Test void badMagic() throws IOException {
    writeValid();
    write("train-labels-idx1-ubyte", images(1, 28, 28));
    fails("train-labels-idx1-ubyte", "magic number 2051", "expected 2049");
  }

  @Test void truncatedImages() throws IOException {
    writeValid();
    var b = images(3, 28, 28);
    write("train-images-idx3-ubyte", Arrays.copyOf(b, b.length - 1));
    fails("train-images-idx3-ubyte", "3 images", "truncated");
  }

  @Test void tooShortForHeader() throws IOException {
    writeValid();
    write("t10k-labels-idx1-ubyte", new byte[]{0, 0, 8});
    fails("t10k-labels-idx1-ubyte", "too short");
  }

  @Test void truncatedGzip() throws IOException {
    writeValid();
    var gz = gzip(images(2, 28, 28));
    write("t10k-images-idx3-ubyte.gz", Arrays.copyOf(gz, gz.length / 2));
    var e = assertThrows(UncheckedIOException.class, () -> Mnist.load(dir));
    assertTrue(e.getMessage().contains("t10k-images-idx3-ubyte.gz"), e.getMessage());
  }

  /** A gzip of header then zeros bytes of zeros, written as a stream (the test holds no more than a buffer). */
  private void writeBomb(String name, byte[] header, long zeros) throws IOException {
    try (var gz = new GZIPOutputStream(Files.newOutputStream(dir.resolve(name)), 1 << 16)) {
      gz.write(header);
      var block = new byte[1 << 20];
      for (long left = zeros; left > 0; left -= block.length) gz.write(block, 0, (int) Math.min(block.length, left));
    }
  }

  @Test void gzipBombsAreRejectedBeforeTheyInflate() throws IOException {
    writeValid();
    // 3 million images claimed (2.3 GB), 256 MB of zeros in a quarter megabyte: the header's size is refused before reading
    writeBomb("train-images-idx3-ubyte.gz", ByteBuffer.allocate(16).putInt(2051).putInt(3_000_000).putInt(28).putInt(28).array(), 1L << 28);
    Files.delete(dir.resolve("train-images-idx3-ubyte"));
    long t0 = System.nanoTime();
    fails("train-images-idx3-ubyte.gz", "3000000 images", "more than this JVM can hold");
    assertTrue(System.nanoTime() - t0 < 2e9, "refused from the header, not after inflating");
    // a valid header for 3 labels followed by 256 MB of zeros: at most one byte past the data is inflated
    writeBomb("train-images-idx3-ubyte.gz", images(3, 28, 28), 0);
    Files.delete(dir.resolve("train-labels-idx1-ubyte"));
    writeBomb("train-labels-idx1-ubyte.gz", labels(5, 0, 9), 1L << 28);
    t0 = System.nanoTime();
    fails("train-labels-idx1-ubyte.gz", "3 labels", "but more follow it");
    assertTrue(System.nanoTime() - t0 < 2e9, "refused at the first byte too many");
  }

  @Test void wrongImageSize() throws IOException {
    writeValid();
    write("train-images-idx3-ubyte", images(3, 32, 32));
    fails("train-images-idx3-ubyte", "32x32", "28x28");
  }

  @Test void countMismatch() throws IOException {
    writeValid();
    write("train-labels-idx1-ubyte", labels(1, 2));
    fails("train-images-idx3-ubyte", "3 images", "train-labels-idx1-ubyte", "2 labels");
  }

  @Test void labelOutOfRange() throws IOException {
    writeValid();
    write("train-labels-idx1-ubyte", labels(1, 10, 2));
    fails("train-labels-idx1-ubyte", "label 10 at index 1");
  }

  @Test void cacheDirFollowsXdgOrHome() {
    var d = Mnist.cacheDir(true);
    assertTrue(d.endsWith(Path.of("tinygrad4j", "fashion-mnist")), d.toString());
    assertTrue(Mnist.cacheDir(false).endsWith(Path.of("tinygrad4j", "mnist")));
  }

  // ---------------------------------------------------------------- tar

  /** A ustar header + data + padding; a name over 100 characters is split into prefix and name. */
  static void tarEntry(ByteArrayOutputStream out, String name, char type, byte[] data) {
    var h = new byte[512];
    String prefix = "";
    if (name.length() > 100) {
      int cut = name.lastIndexOf('/', 155);
      prefix = name.substring(0, cut);
      name = name.substring(cut + 1);
    }
    put(h, 0, name);
    put(h, 100, "0000644");
    put(h, 124, String.format("%011o", data.length));
    h[156] = (byte) type;
    put(h, 257, "ustar");
    put(h, 263, "00");
    put(h, 345, prefix);
    out.writeBytes(h);
    out.writeBytes(data);
    out.writeBytes(new byte[(512 - data.length % 512) % 512]);
  }

  private static void put(byte[] h, int at, String s) { System.arraycopy(s.getBytes(StandardCharsets.US_ASCII), 0, h, at, s.length()); }

  private static byte[] bytes(int n) {
    var b = new byte[n];
    for (int i = 0; i < n; i++) b[i] = (byte) (i * 31 + n);
    return b;
  }

  @Test void tarReader() throws IOException {
    var tar = new ByteArrayOutputStream();
    var longName = "package/" + "deep/".repeat(25) + "file.bin";
    tarEntry(tar, "package/", '5', new byte[0]);
    tarEntry(tar, "package/data/a", '0', bytes(511));
    tarEntry(tar, "package/skip.txt", '0', bytes(700));
    tarEntry(tar, "package/data/b", '0', bytes(512));
    tarEntry(tar, "package/data/empty", '0', new byte[0]);
    tarEntry(tar, longName, '0', bytes(513));
    tar.writeBytes(new byte[1024]);
    var entries = Mnist.untar(new GZIPInputStream(new ByteArrayInputStream(gzip(tar.toByteArray()))),
        n -> n.startsWith("package/data/") || n.endsWith(".bin"));
    assertEquals(List.of("package/data/a", "package/data/b", "package/data/empty", longName), List.copyOf(entries.keySet()));
    assertArrayEquals(bytes(511), entries.get("package/data/a"));
    assertArrayEquals(bytes(512), entries.get("package/data/b"));
    assertArrayEquals(new byte[0], entries.get("package/data/empty"));
    assertArrayEquals(bytes(513), entries.get(longName));
  }

  @Test void tarTruncated() {
    var tar = new ByteArrayOutputStream();
    tarEntry(tar, "package/data/a", '0', bytes(1000));
    var cut = Arrays.copyOf(tar.toByteArray(), 900);
    var e = assertThrows(IOException.class, () -> Mnist.untar(new ByteArrayInputStream(cut), n -> true));
    assertTrue(e.getMessage().contains("package/data/a"), e.getMessage());
  }

  // ---------------------------------------------------------------- real data (.ci/run fetches MNIST)

  @Test void realMnist() {
    var found = Mnist.findLocal(false);
    assumeTrue(found.isPresent(), "no MNIST in $MNIST_DIR or " + Mnist.cacheDir(false) + " (.ci/run puts it there)");
    var m = Mnist.load(found.get());
    assertEquals(60000, m.train().size());
    assertEquals(10000, m.test().size());
    assertEquals(5, m.train().label(0));
    assertEquals(7, m.test().label(0));
    assertArrayEquals(new int[]{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}, histogram(m.train()));
    assertArrayEquals(new int[]{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}, histogram(m.test()));
  }

  @Test void realFashionMnist() {
    var found = Mnist.findLocal(true);
    assumeTrue(found.isPresent(), "no Fashion-MNIST in $FASHION_MNIST_DIR, " + Mnist.cacheDir(true) + " or " + Mnist.DEBIAN_FASHION);
    var m = Mnist.load(found.get());
    assertEquals(9, m.train().label(0));
    assertEquals(9, m.test().label(0));
    var train = new int[10];
    Arrays.fill(train, 6000);
    assertArrayEquals(train, histogram(m.train()));
    var test = new int[10];
    Arrays.fill(test, 1000);
    assertArrayEquals(test, histogram(m.test()));
  }

  private static int[] histogram(Mnist.Split s) {
    var h = new int[10];
    for (byte l : s.labels()) h[l]++;
    return h;
  }
}
