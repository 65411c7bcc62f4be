package dev.tinygrad4j;

import dev.tinygrad4j.engine.Runner;
import dev.tinygrad4j.engine.Schedule;
import dev.tinygrad4j.runtime.Buffer;
import dev.tinygrad4j.runtime.Devices;
import dev.tinygrad4j.uop.Gradient;
import dev.tinygrad4j.uop.Ops;
import dev.tinygrad4j.uop.UOp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.stream.IntStream;

/**
 * A lazy n-dimensional array with autograd. Operations only build a graph of UOps; {@link #realize()} (or reading
 * data) schedules, compiles and runs it on the tensor's device.
 */
public final class Tensor implements TensorMath, TensorMovement, TensorReduce, TensorIndexing, TensorNn {
  private UOp uop;
  private final String device;
  private boolean requiresGrad;
  private boolean leaf; // a parameter: its value is data, not a graph to differentiate through (see assign)
  private Buffer assignedFrom; // the buffer it held when a pending assign was made
  private Tensor grad;

  // tensors that want gradients, found again by backward(); weak so dropped tensors go away
  private static final Map<Tensor, Boolean> NEEDS_GRAD = Collections.synchronizedMap(new WeakHashMap<>());
  private static final ThreadLocal<int[]> NO_GRAD = ThreadLocal.withInitial(() -> new int[1]);
  private static final ThreadLocal<Boolean> TRAINING = ThreadLocal.withInitial(() -> false); // per thread, as noGrad
  // assigned values not computed yet; the next realize of anything computes them too (in the same schedule)
  private static final Map<Tensor, Boolean> PENDING = Collections.synchronizedMap(new WeakHashMap<>());
  // random words drawn since the last realize: computed with it, while the generator's counter still holds their start
  private static final List<Tensor> RANDOM = new ArrayList<>();
  private static long seed = 0;

  private Tensor(UOp uop, String device, boolean requiresGrad) {
    this.device = device;
    set(uop);
    if (requiresGrad && uop.dtype().isFloat() && NO_GRAD.get()[0] == 0) setRequiresGrad(true);
  }

  // tensors that are views of a buffer (movement ops over it): when an assign overwrites the buffer in place, they
  // follow it, as views in PyTorch do; any other graph over the old contents is an error to realize
  private static final Map<Buffer, Set<Tensor>> VIEWS = Collections.synchronizedMap(new WeakHashMap<>());

  /** Sets the graph node; a view of a buffer is registered to follow the buffer's in-place updates. */
  private void set(UOp u) {
    uop = u;
    var base = base(u);
    if (base.op() == Ops.BUFFER) VIEWS.computeIfAbsent(base.buffer(), b -> Collections.synchronizedSet(Collections.newSetFromMap(new WeakHashMap<>()))).add(this);
  }

  /** The node under a chain of movement ops. */
  private static UOp base(UOp u) {
    while (u.op().isMovement()) u = u.src(0);
    return u;
  }

  /** Moves every view of buffer b onto its current contents (after an in-place assign or a JIT replay wrote it). */
  static void follow(Buffer b) {
    var views = VIEWS.get(b);
    if (views == null) return;
    List<Tensor> ts;
    synchronized (views) { ts = new ArrayList<>(views); }
    var now = Schedule.view(b, new int[]{(int) b.size()});
    for (var t : ts) {
      var base = base(t.uop);
      if (base.op() == Ops.BUFFER && base.buffer() == b && base != now) t.uop = t.uop.substitute(Map.of(base, now));
    }
  }

  private Tensor derive(UOp u, Tensor... others) {
    boolean rg = requiresGrad;
    for (var o : others) rg |= o.requiresGrad;
    return new Tensor(u, device, rg);
  }

  // ================================================================ creation
  private static Tensor fromSegment(MemorySegment data, DType dt, int... shape) {
    var dev = Devices.get(Devices.defaultName());
    var buf = new Buffer(dev, dt, UOp.prod(shape)).copyIn(data);
    return ofView(Schedule.view(buf, shape), dev.name());
  }

  /** A tensor holding a buffer view as its value (the buffer counts it as a holder). */
  /** A tensor over a graph built by this package (no gradient). */
  static Tensor ofUOp(UOp u, String device) { return new Tensor(u, device, false); }

  static Tensor ofView(UOp view, String device) {
    view.buffer().hold();
    return new Tensor(view, device, false);
  }

  /**
   * A tensor of the given type and shape from raw little-endian bytes (as numpy or safetensors store them).
   * data may be any segment (heap, native, a mapped file); its bytes are copied to the default device.
   */
  public static Tensor fromBytes(MemorySegment data, DType dt, int... shape) {
    checkShape("fromBytes", shape);
    long need = UOp.prod(shape) * dt.itemsize();
    if (data.byteSize() != need)
      throw new IllegalArgumentException("fromBytes: " + dt.lowerName() + " " + Arrays.toString(shape) + " needs " + need + " bytes, got " + data.byteSize());
    if (dt == DType.BOOL) { // any nonzero byte is true, stored as 1: every device then reads the same value
      var norm = new byte[(int) need];
      for (int i = 0; i < norm.length; i++) norm[i] = (byte) (data.get(java.lang.foreign.ValueLayout.JAVA_BYTE, i) == 0 ? 0 : 1);
      data = MemorySegment.ofArray(norm);
    }
    return fromSegment(data, dt, shape);
  }

  /** A float32 vector. */
  public static Tensor of(float[] data) { return fromSegment(MemorySegment.ofArray(data), DType.FLOAT32, data.length); }
  /** A float32 tensor of the given shape holding data in row-major order (data.length must be the shape's size). */
  public static Tensor of(float[] data, int... shape) {
    checkShape("of", shape);
    if (UOp.prod(shape) != data.length)
      throw new IllegalArgumentException("of: " + data.length + " values do not fill shape " + Arrays.toString(shape));
    return of(data).reshape(shape);
  }
  /** A float64 vector. */
  public static Tensor of(double[] data) { return fromSegment(MemorySegment.ofArray(data), DType.FLOAT64, data.length); }
  /** An int32 vector. */
  public static Tensor of(int[] data) { return fromSegment(MemorySegment.ofArray(data), DType.INT32, data.length); }
  /** A float32 matrix (rows must have equal length). */
  public static Tensor of(float[][] rows) {
    int cols = rows.length == 0 ? 0 : rows[0].length;
    var flat = new float[rows.length * cols];
    for (int i = 0; i < rows.length; i++) {
      if (rows[i].length != cols)
        throw new IllegalArgumentException("of: row " + i + " has " + rows[i].length + " elements, row 0 has " + cols);
      System.arraycopy(rows[i], 0, flat, i * cols, cols);
    }
    return fromSegment(MemorySegment.ofArray(flat), DType.FLOAT32, rows.length, cols);
  }

  /** The most elements a realized tensor (a buffer) may hold: kernels index buffers with 32-bit ints. */
  public static final long MAX_NUMEL = Integer.MAX_VALUE;

  /** The shape of a tensor op makes a buffer for: dims at least 0, at most {@link #MAX_NUMEL} elements; else op's error. */
  public static int[] checkShape(String op, int... shape) { return checkShape(op, MAX_NUMEL, shape); }

  /**
   * The shape of a view (a broadcast or constant that is never stored whole may be larger than a buffer): dims at
   * least 0 and an element count that fits in a long.
   */
  static int[] checkDims(String op, int... shape) { return checkShape(op, Long.MAX_VALUE, shape); }

  private static int[] checkShape(String op, long most, int... shape) {
    for (int s : shape) if (s < 0) throw new IllegalArgumentException(op + ": negative dimension in shape " + Arrays.toString(shape));
    var n = product(shape);
    if (n.compareTo(java.math.BigInteger.valueOf(most)) > 0)
      throw new IllegalArgumentException(op + ": shape " + Arrays.toString(shape) + " has " + n + " elements, more than "
          + (most == MAX_NUMEL ? "a tensor may hold (" + MAX_NUMEL + ")" : "a long counts"));
    return shape.clone();
  }

  private static java.math.BigInteger product(int[] shape) {
    var p = java.math.BigInteger.ONE;
    for (int s : shape) p = p.multiply(java.math.BigInteger.valueOf(s));
    return p;
  }

  /** A tensor filled with v (float32). */
  public static Tensor full(double v, int... shape) {
    return new Tensor(UOp.full(DType.FLOAT32, v, checkDims("full", shape)), Devices.defaultName(), false);
  }
  /** Zeros (float32). */
  public static Tensor zeros(int... shape) { return full(0, checkDims("zeros", shape)); }
  /** Ones (float32). */
  public static Tensor ones(int... shape) { return full(1, checkDims("ones", shape)); }
  /** 0, 1, …, n-1 (int32). */
  public static Tensor arange(int n) {
    checkShape("arange", n);
    return new Tensor(UOp.of(Ops.ARANGE, DType.INT32, n), Devices.defaultName(), false);
  }
  /** start, start+step, … below stop (float32). */
  public static Tensor arange(double start, double stop, double step) {
    if (step == 0) throw new IllegalArgumentException("arange: step must not be zero");
    if (!Double.isFinite(start) || !Double.isFinite(stop) || !Double.isFinite(step))
      throw new IllegalArgumentException("arange: start, stop and step must be finite, got " + start + ", " + stop + ", " + step);
    double count = Math.max(0, Math.ceil((stop - start) / step));
    if (count > MAX_NUMEL)
      throw new IllegalArgumentException("arange: [" + start + ", " + stop + ") by " + step + " has " + (long) count + " elements, more than a tensor may hold (" + MAX_NUMEL + ")");
    int n = (int) count;
    return arange(n).cast(DType.FLOAT64).mul(step).add(start).cast(DType.FLOAT32);
  }
  /** steps values from start to stop, evenly spaced, both ends included (float32; one step gives start). */
  public static Tensor linspace(double start, double stop, int steps) {
    if (steps < 0) throw new IllegalArgumentException("linspace: steps must not be negative, got " + steps);
    if (!Double.isFinite(start) || !Double.isFinite(stop)) throw new IllegalArgumentException("linspace: start and stop must be finite, got " + start + ", " + stop);
    checkShape("linspace", steps);
    if (steps == 1) return full(start, 1);
    double step = (stop - start) / (steps - 1);
    // the first half counts up from start, the second down from stop (as torch), so both ends are exact
    var i = arange(steps).cast(DType.FLOAT64);
    var up = i.mul(step).add(start);
    var down = i.sub(steps - 1).mul(step).add(stop);
    return i.lt(steps / 2).where(up, down).cast(DType.FLOAT32);
  }
  /** Uniform random numbers in [lo, hi) (float32). */
  public static Tensor uniform(double lo, double hi, int... shape) {
    if (!(lo <= hi) || !Double.isFinite(hi - lo)) throw new IllegalArgumentException("uniform: need finite lo <= hi, got " + lo + ", " + hi);
    return rand(shape).mul(hi - lo).add(lo);
  }
  /** Normal random numbers with this mean and standard deviation (float32). */
  public static Tensor normal(double mean, double std, int... shape) {
    if (!(std >= 0) || !Double.isFinite(mean) || !Double.isFinite(std)) throw new IllegalArgumentException("normal: need a finite mean and std >= 0, got " + mean + ", " + std);
    return randn(shape).mul(std).add(mean);
  }
  /** A random permutation of 0..n-1 (int32): the order that sorts n uniform random numbers. */
  public static Tensor randperm(int n) {
    checkShape("randperm", n);
    return n == 0 ? arange(0) : rand(n).argsort(0, false);
  }
  /** Zeros of this tensor's shape, dtype and device. */
  public Tensor zerosLike() { return fullLike(0); }
  /** Ones of this tensor's shape, dtype and device. */
  public Tensor onesLike() { return fullLike(1); }
  /** v (cast to this dtype) in this tensor's shape, dtype and device. */
  public Tensor fullLike(double v) { return new Tensor(UOp.full(DType.FLOAT64, v, uop.shape()), device, false).cast(dtype()); }
  /** Uniform random numbers in [0, 1) of this tensor's shape and device (float32, or this float type). */
  public Tensor randLike() { return rand(shape()).cast(dtype().isFloat() ? dtype() : DType.FLOAT32).to(device); }
  /** Standard normal random numbers of this tensor's shape and device (float32, or this float type). */
  public Tensor randnLike() { return randn(shape()).cast(dtype().isFloat() ? dtype() : DType.FLOAT32).to(device); }
  /** The n×n identity (float32). */
  public static Tensor eye(int n) { return arange(n).reshape(n, 1).eq(arange(n).reshape(1, n)).cast(DType.FLOAT32); }

  /**
   * Seeds the random generator: the same seed gives the same numbers on every device. The generator's key and
   * counter are device tensors, changed by assign, so a JIT'd function draws new numbers on every replay.
   */
  public static synchronized void manualSeed(long s) {
    seed = s;
    for (var e : RNG.entrySet()) {
      var fresh = rngState(e.getKey());
      e.getValue().key().assign(fresh.key());
      e.getValue().counter().assign(fresh.counter());
    }
  }

  /** A device's generator: its Threefry key (uint32[2]) and the count of words drawn so far (uint64[1]). */
  private record Rng(Tensor key, Tensor counter) {}
  private static final Map<String, Rng> RNG = new java.util.HashMap<>();

  private static Rng rngState(String dev) {
    var d = Devices.get(dev);
    var key = new Buffer(d, DType.UINT32, 2).copyIn(MemorySegment.ofArray(new int[]{(int) seed, (int) (seed >>> 32)}));
    var counter = new Buffer(d, DType.UINT64, 1).copyIn(MemorySegment.ofArray(new long[1]));
    return new Rng(ofView(Schedule.view(key, new int[]{2}), dev), ofView(Schedule.view(counter, new int[]{1}), dev));
  }

  /**
   * n random 32-bit words from a counter-based generator ({@link Threefry}-2x32, 20 rounds) built from primitive ops: word i
   * is the block at counter + i under the device's key, and the counter moves on by n (an assign, in place). The
   * words are realized with the next schedule, together with the counter's update: the counter's old value is read
   * only there.
   */
  private static synchronized Tensor randomBits(int n) {
    var dev = Devices.defaultName();
    var st = RNG.computeIfAbsent(dev, Tensor::rngState);
    var base = st.counter().uop.reshape(1).expand(n);
    st.counter().assign(new Tensor(st.counter().uop.add(UOp.full(DType.UINT64, n, 1)), dev, false));
    UOp c0 = UOp.of(Ops.ARANGE, DType.INT32, n).cast(DType.UINT32).add(base.cast(DType.UINT32));
    UOp c1 = UOp.alu(Ops.SHR, base, UOp.full(DType.UINT64, 32, n)).cast(DType.UINT32);
    var key = st.key().uop;
    UOp x0 = Threefry.block(c0, c1, key.shrink(new int[][]{{0, 1}}).expand(n), key.shrink(new int[][]{{1, 2}}).expand(n))[0];
    var bits = new Tensor(x0, dev, false);
    synchronized (PENDING) { RANDOM.add(bits); }
    return bits;
  }

  /** Uniform random numbers in [0, 1) (float32). */
  public static Tensor rand(int... shape) {
    int n = (int) UOp.prod(checkShape("rand", shape));
    var bits = randomBits(n).uop;
    var u = UOp.alu(Ops.SHR, bits, UOp.full(DType.UINT32, 8, n)).cast(DType.FLOAT32).mul(UOp.full(DType.FLOAT32, 0x1p-24, n));
    return new Tensor(u, Devices.defaultName(), false).reshape(shape);
  }
  /** Standard normal random numbers (float32), by Box–Muller. */
  public static Tensor randn(int... shape) {
    var u1 = rand(shape); var u2 = rand(shape);
    return u1.mul(-1).add(1).log().mul(-2).sqrt().mul(u2.mul(2 * Math.PI).cos());
  }
  /** Uniform random integers in [lo, hi) (int32). */
  public static Tensor randint(int lo, int hi, int... shape) {
    if (hi <= lo) throw new IllegalArgumentException("randint: empty range [" + lo + ", " + hi + ")");
    int n = (int) UOp.prod(checkShape("randint", shape));
    // a 32-bit word times the range, top 32 bits: uniform in [0, hi - lo) for every int range, exactly
    var prod = randomBits(n).uop.cast(DType.UINT64).mul(UOp.full(DType.UINT64, (double) ((long) hi - lo), n));
    var v = UOp.alu(Ops.SHR, prod, UOp.full(DType.UINT64, 32, n)).cast(DType.INT64).add(UOp.full(DType.INT64, lo, n));
    return new Tensor(v.cast(DType.INT32), Devices.defaultName(), false).reshape(shape);
  }

  // ================================================================ info and data
  /** The shape (a copy). */
  public int[] shape() { return uop.shape().clone(); }
  /** Number of dimensions. */
  public int ndim() { return uop.shape().length; }
  /** The element type. */
  public DType dtype() { return uop.dtype(); }
  /** Number of elements. */
  public int numel() {
    long n = UOp.prod(uop.shape()); // a view's count fits in a long (checkDims)
    if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("numel: " + Arrays.toString(shape()) + " has " + n + " elements, more than an int counts");
    return (int) n;
  }
  /** The device name. */
  public String device() { return device; }
  /** The current graph node (a buffer view once realized). */
  public UOp uop() { return uop; }

  /** Runs the graph so the data is in a buffer; returns this. */
  public Tensor realize() {
    realizeAll(this);
    return this;
  }

  /**
   * Realizes several tensors in one schedule (shared work is done once). A tensor that does not require grad then
   * refers to its buffer alone and lets its graph go; one that does keeps its graph for backward(), and the
   * scheduler reads the stored result instead of recomputing it.
   */
  public static void realizeAll(Tensor... ts) {
    var all = new ArrayList<>(Arrays.asList(ts));
    synchronized (PENDING) { all.addAll(PENDING.keySet()); PENDING.clear(); all.addAll(RANDOM); RANDOM.clear(); }
    var checks = List.copyOf(CHECKS.get());
    CHECKS.get().clear();
    for (var c : checks) all.add(c.bad());
    var todo = all.stream().filter(t -> Schedule.realized(t.uop, Devices.get(t.device)) == null).toList();
    var overwritten = todo.isEmpty() ? List.<Buffer>of() : Runner.realize(todo.stream().map(t -> t.uop).toList(), todo.stream().map(t -> Devices.get(t.device)).toList());
    for (var t : all) {
      boolean had = Schedule.isView(t.uop);
      if (!t.requiresGrad || t.leaf) t.set(Schedule.realized(t.uop, Devices.get(t.device)));
      if (!had && Schedule.isView(t.uop) && t.uop.buffer() != t.assignedFrom) t.uop.buffer().hold(); // it was given a buffer
      if (t.assignedFrom != null && Schedule.isView(t.uop)) {
        if (t.uop.buffer() != t.assignedFrom) t.assignedFrom.supersede(); // its value moved: a JIT that read the old buffer captures again
        t.assignedFrom = null;
      }
    }
    for (var b : overwritten) follow(b);
    for (var c : checks) Runner.verify(Schedule.realized(c.bad().uop, Devices.get(c.bad().device)).buffer(), c.message());
  }

  /** Checks (see {@link #check}) that every index is in [lo, hi): op's error names what they index. */
  public static void checkRange(String op, Tensor index, long lo, long hi, String what) {
    // an index broadcast, permuted or reshaped holds the values of its source: that is checked (fewer elements)
    var base = index.uop;
    while (base.op() == Ops.EXPAND || base.op() == Ops.PERMUTE || base.op() == Ops.RESHAPE && base.src(0).op() != Ops.BUFFER) base = base.src(0);
    var i = new Tensor(base, index.device, false).cast(DType.INT64); // bounds of any sign compare right (a uint64 past 2^63 is out of range anyway)
    check(i.lt(lo).or(i.gt(hi - 1)), op + ": an index of " + index.dtype().lowerName() + " " + Arrays.toString(index.shape())
        + " is out of range [" + lo + ", " + hi + ") for " + what);
  }

  private record Check(Tensor bad, String message) {}
  private static final ThreadLocal<List<Check>> CHECKS = ThreadLocal.withInitial(ArrayList::new); // each thread's own errors
  private static final ThreadLocal<String> CHECK_LABEL = new ThreadLocal<>();

  /**
   * Checks data that only a kernel can see (an index, a label, a probability): the next realize on this thread
   * computes whether any element of bad is true (together with whatever it realizes, one small kernel and a 4-byte
   * read) and, if one is, throws IllegalArgumentException(message) once its results are in. A {@link Jit} replay checks again. Results
   * computed from the bad data are not stopped (an out-of-range index reads 0): the error is what reports them.
   */
  public static void check(Tensor bad, String message) {
    if (bad.numel() == 0 || Flags.getInt("CHECKS", 1) == 0) return; // CHECKS=0 turns them off
    var label = CHECK_LABEL.get();
    var flag = bad.detach().cast(DType.INT32).max();
    CHECKS.get().add(new Check(flag, label == null ? message : label + ": " + message));
  }

  /** Runs body; the errors of checks it makes (see {@link #check}) start with label (an ONNX node, a layer). */
  public static <T> T checkLabel(String label, java.util.function.Supplier<T> body) {
    var outer = CHECK_LABEL.get();
    CHECK_LABEL.set(outer == null ? label : outer + ": " + label);
    try {
      return body.get();
    } finally {
      CHECK_LABEL.set(outer);
    }
  }

  private MemorySegment hostData(Arena arena) {
    realize();
    var view = Schedule.realized(uop, Devices.get(device));
    var buf = view.buffer();
    return buf.copyOut(arena.allocate(buf.nbytes()));
  }

  /** Copies the data, cast to dt, into dst (a host array's segment). */
  private void copyOut(DType dt, MemorySegment dst) {
    try (var arena = Arena.ofConfined()) { dst.copyFrom(cast(dt).hostData(arena).asSlice(0, dst.byteSize())); }
  }

  /** The data as float32, flat and row-major. */
  public float[] toFloatArray() { var out = new float[numel()]; copyOut(DType.FLOAT32, MemorySegment.ofArray(out)); return out; }
  /** The data as float64, flat and row-major. */
  public double[] toDoubleArray() { var out = new double[numel()]; copyOut(DType.FLOAT64, MemorySegment.ofArray(out)); return out; }
  /** The data as int32 (floats truncate), flat and row-major. */
  public int[] toIntArray() { var out = new int[numel()]; copyOut(DType.INT32, MemorySegment.ofArray(out)); return out; }
  /** The data as int64, flat and row-major. */
  public long[] toLongArray() { var out = new long[numel()]; copyOut(DType.INT64, MemorySegment.ofArray(out)); return out; }
  /** The data as raw little-endian bytes of its own dtype, row-major (the inverse of fromBytes). */
  public byte[] toBytes() {
    try (var arena = Arena.ofConfined()) { return hostData(arena).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE); }
  }
  /** The value of a one-element tensor. */
  public double item() {
    if (numel() != 1) throw new IllegalStateException("item: tensor of shape " + Arrays.toString(shape()) + " has " + numel() + " elements, not 1");
    try (var arena = Arena.ofConfined()) { return Buffer.readFloat(hostData(arena), dtype(), 0); }
  }

  /** A copy with another element type. */
  public Tensor cast(DType dt) { return dt == dtype() ? this : derive(uop.cast(dt)); }
  /** This tensor on another device. */
  public Tensor to(String dev) {
    var d = Devices.get(dev);
    return d.name().equals(device) ? this : new Tensor(UOp.of(Ops.COPY, dtype(), d, uop), d.name(), requiresGrad);
  }
  /**
   * Gives this tensor a new value (same shape and dtype; cast to this dtype). The value is taken as data: this
   * tensor becomes a leaf that gradients stop at, and once realized it holds only its buffer, so updating a
   * parameter step after step does not grow a graph. The value is computed with the next realize of any tensor.
   * Returns this.
   */
  public Tensor assign(Tensor value) {
    if (!Arrays.equals(value.shape(), shape()))
      throw new IllegalArgumentException("assign: value of shape " + Arrays.toString(value.shape()) + " into tensor of shape " + Arrays.toString(shape()));
    if (!value.device.equals(device))
      throw new IllegalArgumentException("assign: value on " + value.device + " into tensor on " + device);
    var v = value.cast(dtype()).uop;
    if (assignedFrom == null && Schedule.isView(uop)) assignedFrom = uop.buffer();
    // the value goes into this tensor's own buffer (a view no other tensor was given), or else into a new one
    var target = uop.op() == Ops.ASSIGN ? uop.src(0) : Schedule.isView(uop) && !uop.buffer().shared() ? uop : null;
    uop = target != null ? Schedule.assign(target, v) : UOp.of(Ops.DETACH, dtype(), null, v);
    leaf = true;
    PENDING.put(this, true);
    return this;
  }

  /** A tensor that will be computed into its own buffer (no fusion across it). */
  public Tensor contiguous() { return derive(UOp.of(Ops.CONTIGUOUS, dtype(), null, uop)); }

  // ================================================================ autograd
  /** Whether backward() fills this tensor's grad. */
  public boolean requiresGrad() { return requiresGrad; }
  /** Sets whether backward() fills this tensor's grad; returns this. */
  public Tensor requiresGrad(boolean b) {
    if (b && !dtype().isFloat())
      throw new IllegalArgumentException("requiresGrad: only float tensors can require gradients, got " + dtype().lowerName() + " " + Arrays.toString(shape()));
    setRequiresGrad(b);
    leaf = true;
    return this;
  }

  private void setRequiresGrad(boolean b) {
    requiresGrad = b;
    if (b) NEEDS_GRAD.put(this, true); else NEEDS_GRAD.remove(this);
  }
  /** The gradient from the last backward() calls (summed), or null. */
  public Tensor grad() { return grad; }
  /** Sets or clears the gradient. */
  public void setGrad(Tensor g) { grad = g; }
  /** The same values, cut from the gradient graph. */
  public Tensor detach() { return new Tensor(UOp.of(Ops.DETACH, dtype(), null, uop), device, false); }

  /** Runs body with gradient tracking off: tensors made inside do not require grad. */
  public static void noGrad(Runnable body) {
    try (var s = noGrad()) { body.run(); }
  }
  /** Turns gradient tracking off until the returned scope is closed. */
  public static Scope noGrad() {
    NO_GRAD.get()[0]++;
    return () -> NO_GRAD.get()[0]--;
  }
  /** A scope that needs no checked exception handling. */
  public interface Scope extends AutoCloseable { @Override void close(); }

  /** Whether layers run in training mode on this thread (dropout active, batch norm on batch statistics). Off by default. */
  public static boolean training() { return TRAINING.get(); }
  /** Switches training mode on this thread; returns the previous value. */
  public static boolean training(boolean on) { var was = TRAINING.get(); TRAINING.set(on); return was; }
  /** Training mode until the returned scope is closed (then the previous mode again). */
  public static Scope train() { var was = training(true); return () -> training(was); }

  /** Fills grad() of every tensor in this scalar's graph that requires grad. */
  public void backward() {
    if (numel() != 1) throw new IllegalStateException("backward: needs a scalar, got shape " + Arrays.toString(shape()));
    if (!requiresGrad) throw new IllegalStateException("backward: the tensor does not require grad (no input had requiresGrad(true))");
    var all = uop.allNodes();
    List<Tensor> candidates;
    synchronized (NEEDS_GRAD) { candidates = new ArrayList<>(NEEDS_GRAD.keySet()); }
    var targets = new IdentityHashMap<UOp, List<Tensor>>();
    // a leaf realized after this graph was built now holds a buffer; find the node it was computed from
    var byResult = new IdentityHashMap<UOp, UOp>();
    for (var n : all) { var r = Schedule.realized(n, Devices.get(device)); if (r != null && r != n) byResult.putIfAbsent(r, n); }
    for (var t : candidates) {
      if (!t.requiresGrad) continue;
      var node = all.contains(t.uop) ? t.uop : byResult.get(t.uop);
      if (node != null) targets.computeIfAbsent(node, k -> new ArrayList<>()).add(t);
    }
    var root = uop;
    var grads = Gradient.compute(root, UOp.full(root.dtype(), 1, root.shape()), targets.keySet());
    for (var e : targets.entrySet()) {
      var gu = grads.get(e.getKey());
      for (var t : e.getValue()) {
        var g = new Tensor(gu == null ? UOp.full(t.dtype(), 0, t.uop.shape()) : gu, t.device, false);
        t.grad = t.grad == null ? g : new Tensor(t.grad.uop.add(g.uop), t.device, false);
      }
    }
  }

  // ================================================================ elementwise
  private Tensor alu(Ops op, Tensor... others) {
    var src = new UOp[others.length + 1];
    src[0] = uop;
    for (int i = 0; i < others.length; i++) src[i + 1] = others[i].uop;
    return derive(UOp.alu(op, src), others);
  }

  Tensor floats() { return dtype().isFloat() ? this : cast(DType.defaultFloat()); }
  Tensor scalar(double v) {
    var dt = dtype().isFloat() || v == Math.rint(v) && dtype() != DType.BOOL ? dtype() : v == Math.rint(v) ? DType.INT32 : DType.defaultFloat();
    return new Tensor(UOp.full(dt, v, uop.shape()), device, false);
  }

  /** The two tensors cast to their common type and expanded to their common shape. */
  private static Tensor[] broadcast(String op, Tensor a, Tensor b) {
    if (!a.device.equals(b.device))
      throw new IllegalArgumentException(op + ": tensors are on different devices (" + a.device + ", " + b.device + "); use to(device)");
    var sa = a.uop.shape(); var sb = b.uop.shape();
    int n = Math.max(sa.length, sb.length);
    var out = new int[n];
    for (int i = 0; i < n; i++) {
      int da = i - (n - sa.length) >= 0 ? sa[i - (n - sa.length)] : 1, db = i - (n - sb.length) >= 0 ? sb[i - (n - sb.length)] : 1;
      if (da != db && da != 1 && db != 1)
        throw new IllegalArgumentException(op + ": shapes " + Arrays.toString(sa) + " and " + Arrays.toString(sb) + " cannot be broadcast");
      out[i] = da == 1 ? db : da;
    }
    var dt = DType.promote(a.dtype(), b.dtype());
    return new Tensor[]{a.cast(dt).broadcastTo(out), b.cast(dt).broadcastTo(out)};
  }

  private static int[] broadcastShape(String op, Tensor a, Tensor b) { return broadcast(op, a, b)[0].shape(); }

  Tensor broadcastTo(int[] shape) {
    var s = uop.shape();
    var padded = new int[shape.length];
    Arrays.fill(padded, 1);
    System.arraycopy(s, 0, padded, shape.length - s.length, s.length);
    return reshape(padded).expand(shape);
  }

  private Tensor binary(String name, Ops op, Tensor o) {
    var ab = broadcast(name, this, o);
    return ab[0].alu(op, ab[1]);
  }

  /** this + o (broadcasting). */
  public Tensor add(Tensor o) { return binary("add", Ops.ADD, o); }
  /** this + v. */
  public Tensor add(double v) { return add(scalar(v)); }
  /** this - o. */
  public Tensor sub(Tensor o) { var ab = broadcast("sub", this, o); return ab[0].add(ab[1].neg()); }
  /** this - v. */
  public Tensor sub(double v) { return sub(scalar(v)); }
  /** this * o. */
  public Tensor mul(Tensor o) { return binary("mul", Ops.MUL, o); }
  /** this * v. */
  public Tensor mul(double v) { return mul(scalar(v)); }
  /** this / o (true division; ints give floats). */
  public Tensor div(Tensor o) { var ab = broadcast("div", this, o); return ab[0].floats().mul(ab[1].floats().reciprocal()); }
  /** this / v. */
  public Tensor div(double v) { return div(scalar(v)); }
  /** Elementwise maximum. */
  public Tensor maximum(Tensor o) { return binary("maximum", Ops.MAX, o); }
  /** Elementwise maximum with v. */
  public Tensor maximum(double v) { return maximum(scalar(v)); }
  /** Elementwise minimum. */
  public Tensor minimum(Tensor o) {
    var ab = broadcast("minimum", this, o);
    // floats: -max(-a, -b) keeps MAX's NaN rule; ints: negation wraps at MIN, so compare
    return ab[0].dtype().isFloat() ? ab[0].neg().maximum(ab[1].neg()).neg() : ab[1].lt(ab[0]).where(ab[1], ab[0]);
  }
  /** Elementwise minimum with v. */
  public Tensor minimum(double v) { return minimum(scalar(v)); }
  /** this &lt; o (bool). */
  public Tensor lt(Tensor o) { return binary("lt", Ops.CMPLT, o); }
  /** this &lt; v (bool). */
  public Tensor lt(double v) { return lt(scalar(v)); }
  /** this &gt; o (bool). */
  public Tensor gt(Tensor o) { var ab = broadcast("gt", this, o); return ab[1].alu(Ops.CMPLT, ab[0]); }
  /** this &gt; v (bool). */
  public Tensor gt(double v) { return gt(scalar(v)); }
  /** this == o (bool). */
  public Tensor eq(Tensor o) { return binary("eq", Ops.CMPEQ, o); }
  /** this == v (bool). */
  public Tensor eq(double v) { return eq(scalar(v)); }
  /** this != o (bool). */
  public Tensor ne(Tensor o) { return binary("ne", Ops.CMPNE, o); }
  /** this != v (bool). */
  public Tensor ne(double v) { return ne(scalar(v)); }
  /** Bitwise and (logical for bools). */
  public Tensor and(Tensor o) { return intBinary("and", Ops.AND, o); }
  /** Bitwise or (logical for bools). */
  public Tensor or(Tensor o) { return intBinary("or", Ops.OR, o); }
  /** Bitwise xor (logical for bools). */
  public Tensor xor(Tensor o) { return intBinary("xor", Ops.XOR, o); }
  /** Logical not of a bool tensor (any other is compared with 0). */
  public Tensor not() { return (dtype() == DType.BOOL ? this : ne0()).neg(); }
  /** this shifted left by o bits (ints); by an amount outside [0, bits) the result is 0. */
  public Tensor shl(Tensor o) { return shift("shl", Ops.SHL, o); }
  /**
   * this shifted right by o bits (ints; arithmetic for signed, logical for unsigned types); by an amount outside
   * [0, bits) every bit is the sign (0 or -1; 0 for unsigned types).
   */
  public Tensor shr(Tensor o) { return shift("shr", Ops.SHR, o); }

  private Tensor shift(String name, Ops op, Tensor o) { // no device shifts by an amount C leaves undefined
    var ab = broadcast(name, this, o);
    if (ab[0].dtype().isFloat() || ab[0].dtype() == DType.BOOL)
      throw new IllegalArgumentException(name + ": needs integer tensors, got " + dtype() + " and " + o.dtype());
    int bits = ab[0].dtype().bits();
    var outside = ab[1].lt(0).or(ab[1].gt(bits - 1));
    var shifted = ab[0].intBinary(name, op, outside.where(ab[1].scalar(0), ab[1]));
    var fill = op == Ops.SHL || ab[0].dtype().isUnsigned() ? ab[0].scalar(0) : ab[0].intBinary(name, Ops.SHR, ab[0].scalar(bits - 1));
    return outside.where(fill, shifted);
  }
  /** Integer division rounding toward zero, as C and Java do (ints; by zero gives 0). */
  public Tensor idiv(Tensor o) { return divisive("idiv", Ops.IDIV, o); }
  /** Remainder with the sign of the dividend, as C and Java do (ints; by zero gives 0). */
  public Tensor mod(Tensor o) { return divisive("mod", Ops.MOD, o); }

  private Tensor divisive(String name, Ops op, Tensor o) { // no device ever divides by zero: those lanes divide by 1 and give 0
    var ab = broadcast(name, this, o);
    var zero = ab[1].eq(0);
    return zero.where(0.0, ab[0].intBinary(name, op, zero.where(ab[1].scalar(1), ab[1])));
  }

  private Tensor intBinary(String name, Ops op, Tensor o) {
    var ab = broadcast(name, this, o);
    boolean logic = op == Ops.AND || op == Ops.OR || op == Ops.XOR;
    if (ab[0].dtype().isFloat() || ab[0].dtype() == DType.BOOL && !logic)
      throw new IllegalArgumentException(name + ": needs integer" + (logic ? " or bool" : "") + " tensors, got " + dtype() + " and " + o.dtype());
    return ab[0].alu(op, ab[1]);
  }

  /** a where this is true, else b (broadcasting). */
  public Tensor where(Tensor a, Tensor b) {
    var cond = dtype() == DType.BOOL ? this : ne0();
    var ab = broadcast("where", a, b);
    var shape = broadcastShape("where", cond, ab[0]); // the condition stays bool: no cast to the values' type and back
    var c = cond.broadcastTo(shape); var x = ab[0].broadcastTo(shape); var y = ab[1].broadcastTo(shape);
    return c.derive(UOp.alu(Ops.WHERE, c.uop, x.uop, y.uop), x, y);
  }
  /** a where this is true, else b. */
  public Tensor where(Tensor a, double b) { return where(a, a.scalar(b)); }
  /** a where this is true, else b. */
  public Tensor where(double a, Tensor b) { return where(b.scalar(a), b); }
  /** a where this is true, else b. */
  public Tensor where(double a, double b) { return where(scalar(a).cast(DType.FLOAT32), b); }
  Tensor ne0() { return alu(Ops.CMPNE, scalar(0)); }

  /** this ** o (negative bases need integer exponents); a constant exponent takes pow(double)'s shortcuts. */
  public Tensor pow(Tensor o) {
    var c = o.uop;
    while (c.op().isMovement() || c.op() == Ops.CAST) c = c.src(0);
    if (c.isConst() && o.numel() <= numel() && broadcastShape("pow", this, o).length == ndim() && shortcut(c.asDouble()) != null)
      return shortcut(c.asDouble()).cast(DType.promote(dtype(), o.dtype()));
    var ab = broadcast("pow", this.floats(), o.floats());
    var x0 = ab[0]; var y = ab[1];
    var zero = x0.eq(0);
    var x = zero.where(x0.scalar(1), x0); // log2 stays finite, so the gradient at 0 does too
    var mag = x.abs().log2().mul(y).exp2();
    // sign: negative base with odd integer exponent gives a negative result, with a non-integer exponent NaN
    var yHalf = y.mul(0.5);
    var odd = yHalf.sub(yHalf.floor()).eq(0.5);
    var nonInt = y.floor().eq(y).where(0.0, Double.NaN);
    var neg = x.lt(0);
    var signed = neg.where(odd.where(mag.neg(), mag).add(nonInt), mag);
    var atZero = y.lt(0).where(x.scalar(Double.POSITIVE_INFINITY), x.scalar(0));
    return y.eq(0).where(x.scalar(1), zero.where(atZero, signed));
  }
  /** this ** v. */
  public Tensor pow(double v) {
    var s = shortcut(v);
    return s != null ? s : pow(scalar(v));
  }

  private Tensor shortcut(double v) {
    if (v == 0) return mul(0).add(1);
    if (v == 1) return this;
    if (v == 2) return square();
    if (v == 3) return square().mul(this);
    if (v == 0.5) return sqrt();
    if (v == -1) return reciprocal();
    return null;
  }

  // ================================================================ unary
  /** -x. */
  public Tensor neg() { return dtype() == DType.BOOL ? derive(UOp.alu(Ops.XOR, uop, UOp.full(DType.BOOL, 1, uop.shape()))) : alu(Ops.NEG); }
  /** 2^x. */
  public Tensor exp2() { return floats().alu(Ops.EXP2); }
  /** Log base 2. */
  public Tensor log2() { return floats().alu(Ops.LOG2); }
  /** Square root. */
  public Tensor sqrt() { return floats().alu(Ops.SQRT); }
  /** 1/x. */
  public Tensor reciprocal() { return floats().alu(Ops.RECIPROCAL); }
  /** Sine. */
  public Tensor sin() { return floats().alu(Ops.SIN); }
  /** Rounds toward zero. */
  public Tensor trunc() { return dtype().isFloat() ? alu(Ops.TRUNC) : this; }

  // ================================================================ reductions
  int axis(String op, int a) {
    int n = ndim();
    if (a < -Math.max(n, 1) || a >= Math.max(n, 1))
      throw new IllegalArgumentException(op + ": axis " + a + " out of range for shape " + Arrays.toString(shape()));
    return a < 0 ? a + Math.max(n, 1) : a;
  }

  int[] axes(String op, int... axes) {
    if (axes.length == 0) return IntStream.range(0, ndim()).toArray();
    var out = Arrays.stream(axes).map(a -> axis(op, a)).sorted().distinct().toArray();
    if (out.length != axes.length) throw new IllegalArgumentException(op + ": repeated axis in " + Arrays.toString(axes));
    return ndim() == 0 ? new int[0] : out;
  }

  private Tensor reduce(String name, Ops op, boolean keepdim, int... axes) {
    var ax = axes(name, axes);
    var folded = constantReduce(op, ax);
    var r = derive(folded != null ? folded : uop.reduce(op, ax));
    if (keepdim) return r;
    var s = uop.shape();
    return r.reshape(IntStream.range(0, s.length).filter(i -> Arrays.binarySearch(ax, i) < 0).map(i -> s[i]).toArray());
  }

  /**
   * The sum or maximum of a constant seen through views (every element the same value), as a constant: no kernel adds
   * up ones(1 << 20, 1 << 20); null for anything else (or a reduction of nothing, or a tensor that wants gradients).
   */
  private UOp constantReduce(Ops op, int[] ax) {
    var c = uop;
    while (c.op() == Ops.RESHAPE || c.op() == Ops.EXPAND || c.op() == Ops.PERMUTE || c.op() == Ops.SHRINK || c.op() == Ops.FLIP) c = c.src(0);
    long count = 1;
    for (int a : ax) count *= uop.shape()[a];
    if (!c.isConst() || requiresGrad || count == 0 || op != Ops.ADD && op != Ops.MAX) return null;
    var shape = uop.shape().clone();
    for (int a : ax) shape[a] = 1;
    var dt = dtype();
    var v = op == Ops.MAX ? c : dt.isFloat() ? UOp.cnst(dt, c.asDouble() * count) : UOp.cnst(dt, c.asLong() * count); // (an int64 sum wraps as adding does)
    return v.broadcast(shape);
  }

  /** What sums and products accumulate in, as in torch: int64 for bool and every integer type but uint64, float32 for halves. */
  private DType sumType() {
    return switch (dtype()) {
      case BOOL, INT8, INT16, INT32, UINT8, UINT16, UINT32 -> DType.INT64;
      case FLOAT16, BFLOAT16 -> DType.FLOAT32;
      default -> dtype();
    };
  }

  /** Product over axes (all if none), keeping them as size 1 if keepdim; integers and bools give int64. */
  public Tensor prod(boolean keepdim, int... axes) { return cast(sumType()).reduce("prod", Ops.MUL, keepdim, axes); }
  /** Product of all elements; integers and bools give int64. */
  public Tensor prod() { return prod(false); }
  /** Product over axes. */
  public Tensor prod(int... axes) { return prod(false, axes); }

  /**
   * The elements at index along axis, elsewhere at the output's own position (torch.gather): out[i][j] =
   * this[i][index[i][j]] for axis 1. index has this tensor's rank and, on other axes, at most its sizes; negative
   * indices count from the end; one still out of range is an error (thrown by the next realize, see {@link #check}).
   * The gradient flows to this tensor.
   */
  public Tensor gather(int axis, Tensor index) {
    int ax = axis("gather", axis);
    var s = shape(); var is = index.shape();
    boolean fits = is.length == s.length && !index.dtype().isFloat() && index.dtype() != DType.BOOL;
    for (int d = 0; fits && d < s.length; d++) fits = d == ax || is[d] <= s[d];
    if (!fits) throw new IllegalArgumentException("gather: index " + Arrays.toString(is) + " " + index.dtype() + " does not fit input "
        + Arrays.toString(s) + " along axis " + axis + " (same rank, an integer type, at most the input's size on other axes)");
    if (!index.device.equals(device)) throw new IllegalArgumentException("gather: index is on " + index.device + ", input on " + device);
    checkRange("gather", index, -s[ax], s[ax], "axis " + ax + " of input " + Arrays.toString(s));
    var i = index.cast(DType.INT32);
    i = i.lt(0).where(i.add(s[ax]), i);
    var out = new Tensor(UOp.of(Ops.GATHER, dtype(), ax, uop, i.uop), device, requiresGrad);
    if (!requiresGrad) return out;
    var hot = i.unsqueeze(ax + 1).eq(arange(s[ax]).to(device).reshape(IntStream.range(0, s.length + 1).map(d -> d == ax + 1 ? s[ax] : 1).toArray()));
    return out.customGrad(List.of(this), g -> { // each gathered position's gradient goes back to the element it read
      var back = hot.where(g.unsqueeze(ax + 1), 0.0).sum(ax); // this tensor's shape, where index's dims reach
      var pad = new int[s.length][2];
      for (int d = 0; d < s.length; d++) if (d != ax) pad[d][1] = s[d] - is[d];
      return List.of(back.pad(pad));
    });
  }

  /** Sum of all elements. */
  public Tensor sum() { return sum(new int[0]); }
  /** Sum over axes. */
  public Tensor sum(int... axes) { return sum(false, axes); }
  /** Sum over one axis. */
  public Tensor sum(int axis, boolean keepdim) { return sum(keepdim, axis); }
  /** Sum over axes, keeping them as size 1 if keepdim; integers and bools give int64 (as torch), halves their own type. */
  public Tensor sum(boolean keepdim, int... axes) {
    var r = cast(sumType()).reduce("sum", Ops.ADD, keepdim, axes);
    return dtype().isFloat() ? r.cast(dtype()) : r;
  }
  /** Max of all elements. */
  public Tensor max() { return max(new int[0]); }
  /** Max over axes. */
  public Tensor max(int... axes) { return reduce("max", Ops.MAX, false, axes); }
  /** Max over one axis. */
  public Tensor max(int axis, boolean keepdim) { return reduce("max", Ops.MAX, keepdim, axis); }
  /** Max over axes (all if none), keeping them as size 1 if keepdim. */
  public Tensor max(boolean keepdim, int... axes) { return reduce("max", Ops.MAX, keepdim, axes); }
  Tensor flipOrder() { return dtype().isFloat() || dtype() == DType.BOOL ? neg() : alu(Ops.XOR, scalar(-1)); }


  // ================================================================ movement
  /**
   * The same tensor, with variable v bound to the size of dim axis (as tinygrad's {@code Variable.bind}): the kernels
   * that compute anything from it are compiled symbolic in that size — every dimension of that size becomes a
   * parameter read at launch — so a later call with another size in v's range reuses them instead of compiling new
   * ones. Values are the same either way; a dimension that merely happens to have the same size becomes a parameter
   * too (still right, maybe slower). Size 1 is not made symbolic. Throws if the size is outside v's range (or not a
   * multiple of its step).
   */
  public Tensor bind(int axis, dev.tinygrad4j.uop.Variable v) {
    if (ndim() == 0) throw new IllegalArgumentException("bind: a 0-d tensor has no dim to bind " + v + " to");
    int ax = axis("bind", axis);
    v.check(shape()[ax]);
    return derive(UOp.of(Ops.BIND, dtype(), new UOp.Bind(v, ax), uop));
  }

  /** The same tensor without the variables bound to its dims (see {@link #bind}); this if none is. */
  Tensor unbind() {
    var u = uop;
    while (u.op() == Ops.BIND) u = u.src(0);
    return u == uop ? this : new Tensor(u, device, requiresGrad);
  }

  /** A view with another shape of the same size; one dim may be -1. No arguments gives a 0-d tensor. */
  public Tensor reshape(int... newShape) {
    var s = newShape.clone();
    int infer = -1;
    long known = 1;
    for (int i = 0; i < s.length; i++) {
      if (s[i] == -1) {
        if (infer >= 0) throw new IllegalArgumentException("reshape: only one -1 allowed in " + Arrays.toString(newShape));
        infer = i;
      } else if (s[i] < 0) throw new IllegalArgumentException("reshape: bad dimension in " + Arrays.toString(newShape));
      else known *= s[i];
    }
    long n = UOp.prod(uop.shape());
    if (infer >= 0) {
      if (known == 0 || n % known != 0)
        throw new IllegalArgumentException("reshape: cannot reshape " + Arrays.toString(shape()) + " to " + Arrays.toString(newShape));
      s[infer] = (int) (n / known);
    }
    checkDims("reshape", s);
    if (UOp.prod(s) != n)
      throw new IllegalArgumentException("reshape: cannot reshape " + Arrays.toString(shape()) + " (" + n + " elements) to "
          + Arrays.toString(newShape) + " (" + UOp.prod(s) + " elements)");
    return derive(uop.reshape(s));
  }
  /** Reorders the dims. */
  public Tensor permute(int... order) {
    int n = ndim();
    var p = Arrays.stream(order).map(a -> a < 0 ? a + n : a).toArray();
    if (p.length != n || !Arrays.equals(Arrays.stream(p).sorted().toArray(), IntStream.range(0, n).toArray()))
      throw new IllegalArgumentException("permute: " + Arrays.toString(order) + " is not a permutation of the dims of " + Arrays.toString(shape()));
    return derive(uop.permute(p));
  }
  /** Swaps two dims. */
  public Tensor transpose(int a, int b) {
    var p = IntStream.range(0, ndim()).toArray();
    int i = axis("transpose", a), j = axis("transpose", b);
    if (ndim() == 0) return this;
    p[i] = j; p[j] = i;
    return permute(p);
  }
  /** Broadcasts size-1 dims (and new leading dims) to newShape; -1 keeps a dim. */
  public Tensor expand(int... newShape) {
    var s = uop.shape();
    if (newShape.length < s.length) throw new IllegalArgumentException("expand: cannot expand " + Arrays.toString(s) + " to " + Arrays.toString(newShape));
    var t = newShape.clone();
    int off = t.length - s.length;
    for (int i = 0; i < t.length; i++) {
      int cur = i >= off ? s[i - off] : 1;
      if (t[i] == -1) { if (i < off) throw new IllegalArgumentException("expand: -1 not allowed for a new dim in " + Arrays.toString(newShape)); t[i] = cur; }
      if (cur != t[i] && cur != 1 || t[i] < 0)
        throw new IllegalArgumentException("expand: cannot expand " + Arrays.toString(s) + " to " + Arrays.toString(newShape));
    }
    checkDims("expand", t);
    var padded = new int[t.length];
    Arrays.fill(padded, 1);
    System.arraycopy(s, 0, padded, off, s.length);
    return derive(uop.reshape(padded).expand(t));
  }
  /** Pads with zeros, {before, after} per dim (negative values cut). */
  public Tensor pad(int[][] beforeAfter) {
    var s = uop.shape();
    checkPairs("pad", beforeAfter, s);
    var grow = new int[s.length][];
    var grown = new int[s.length];
    for (int i = 0; i < s.length; i++) {
      if ((long) s[i] + beforeAfter[i][0] + beforeAfter[i][1] < 0)
        throw new IllegalArgumentException("pad: padding " + Arrays.deepToString(beforeAfter) + " leaves a negative size for " + Arrays.toString(s));
      grow[i] = new int[]{Math.max(beforeAfter[i][0], 0), Math.max(beforeAfter[i][1], 0)};
      long g = (long) s[i] + grow[i][0] + grow[i][1];
      if (g > Integer.MAX_VALUE) throw new IllegalArgumentException("pad: padding " + Arrays.deepToString(beforeAfter) + " of " + Arrays.toString(s) + " makes a dimension of " + g);
      grown[i] = (int) g;
    }
    checkDims("pad", grown);
    var t = derive(uop.pad(grow));
    var s2 = t.uop.shape();
    var se = new int[s.length][];
    for (int i = 0; i < s.length; i++) se[i] = new int[]{Math.max(-beforeAfter[i][0], 0), s2[i] - Math.max(-beforeAfter[i][1], 0)};
    return t.shrink(se);
  }
  private static void checkPairs(String op, int[][] pairs, int[] s) {
    if (pairs.length != s.length || Arrays.stream(pairs).anyMatch(p -> p == null || p.length != 2))
      throw new IllegalArgumentException(op + ": need one {a, b} pair per dim of " + Arrays.toString(s) + ", got " + Arrays.deepToString(pairs));
  }

  /** Keeps [start, end) of each dim. */
  public Tensor shrink(int[][] startEnd) {
    var s = uop.shape();
    checkPairs("shrink", startEnd, s);
    for (int i = 0; i < s.length; i++)
      if (startEnd[i][0] < 0 || startEnd[i][0] > startEnd[i][1] || startEnd[i][1] > s[i])
        throw new IllegalArgumentException("shrink: " + Arrays.deepToString(startEnd) + " is out of range for " + Arrays.toString(s));
    return derive(uop.shrink(startEnd));
  }
  /** Reverses the given dims. */
  public Tensor flip(int... axes) { return derive(uop.flip(axes("flip", axes.length == 0 ? new int[]{} : axes))); }
  /** Joins tensors along an axis. */
  public static Tensor cat(int axis, Tensor... ts) {
    if (ts.length == 0) throw new IllegalArgumentException("cat: no tensors");
    if (ts[0].ndim() == 0) throw new IllegalArgumentException("cat: zero-dimensional tensors cannot be joined; use stack");
    int ax = ts[0].axis("cat", axis);
    var s0 = ts[0].shape();
    int total = 0;
    var dt = ts[0].dtype();
    for (var t : ts) {
      var s = t.shape();
      boolean ok = s.length == s0.length;
      for (int i = 0; ok && i < s.length; i++) ok = i == ax || s[i] == s0[i];
      if (!ok) throw new IllegalArgumentException("cat: shapes " + Arrays.toString(s0) + " and " + Arrays.toString(s) + " differ outside axis " + axis);
      total += s[ax];
      dt = DType.promote(dt, t.dtype());
    }
    Tensor out = null;
    int at = 0;
    for (var t : ts) {
      var p = new int[s0.length][2];
      p[ax] = new int[]{at, total - at - t.shape()[ax]};
      at += t.shape()[ax];
      var part = t.cast(dt).pad(p);
      out = out == null ? part : out.add(part);
    }
    return out;
  }
  /** Stacks tensors of one shape along a new axis. */
  public static Tensor stack(int axis, Tensor... ts) {
    if (ts.length == 0) throw new IllegalArgumentException("stack: no tensors");
    for (var t : ts) if (!Arrays.equals(t.shape(), ts[0].shape()))
      throw new IllegalArgumentException("stack: shapes " + Arrays.toString(ts[0].shape()) + " and " + Arrays.toString(t.shape()) + " differ");
    int a = axis < 0 ? axis + ts[0].ndim() + 1 : axis;
    if (a < 0 || a > ts[0].ndim()) throw new IllegalArgumentException("stack: axis " + axis + " out of range for shape " + Arrays.toString(ts[0].shape()));
    return cat(a, Arrays.stream(ts).map(t -> t.unsqueeze(a)).toArray(Tensor[]::new));
  }

  // ================================================================ nn functional
  /**
   * Einstein summation (numpy's and torch's einsum): "ij,jk->ik", "bij,bjk->bik", "ii->i", "...ij->...ji"; without
   * "->" the output is the labels used once, in alphabetical order.
   */
  public static Tensor einsum(String formula, Tensor... operands) { return Einsum.apply(formula, operands); }

  /** Matrix product with numpy/torch semantics (1-D, 2-D, batched, broadcast). */
  public Tensor matmul(Tensor o) {
    if (ndim() == 0 || o.ndim() == 0)
      throw new IllegalArgumentException("matmul: both operands need at least 1 dim, got " + Arrays.toString(shape()) + " and " + Arrays.toString(o.shape()));
    var a = ndim() == 1 ? unsqueeze(0) : this;
    var b = o.ndim() == 1 ? o.unsqueeze(-1) : o;
    int k = a.shape()[a.ndim() - 1], kb = b.shape()[b.ndim() - 2];
    if (k != kb) throw new IllegalArgumentException("matmul: shapes " + Arrays.toString(shape()) + " and " + Arrays.toString(o.shape())
        + " are not aligned (" + k + " != " + kb + ")");
    Tensor out;
    int n = b.shape()[b.ndim() - 1];
    if (a.ndim() > 2 && b.ndim() == 2) { // batch dims of a against one matrix: one matrix of all their rows
      var as = a.shape();
      var lead = Arrays.copyOf(as, as.length - 1);
      var flat = a.reshape((int) UOp.prod(lead), k).matmul(b);
      var s = Arrays.copyOf(lead, as.length);
      s[as.length - 1] = n;
      out = flat.reshape(s);
      if (ndim() == 1) out = out.squeeze(-2);
      return o.ndim() == 1 ? out.squeeze(-1) : out;
    }
    long m = a.shape()[a.ndim() - 2];
    if (b.ndim() > 2 && b.uop.op() == Ops.PERMUTE && ((List<?>) b.uop.arg()).getLast() instanceof Integer last && last != b.ndim() - 1 && m >= 16) {
      // a transposed batch of matrices (attention's keys): copied with rows contiguous again, so the tile reads them
      // in order; what the views look at is computed first in its own layout (a projection stays a plain matmul)
      var base = base(b.uop);
      var views = base.op() == Ops.BUFFER || base.op() == Ops.CONST ? b.uop : b.uop.substitute(java.util.Map.of(base, UOp.of(Ops.CONTIGUOUS, base.dtype(), null, base)));
      b = b.derive(views).contiguous();
    }
    var ba = Arrays.copyOf(a.shape(), a.ndim() - 2); var bb = Arrays.copyOf(b.shape(), b.ndim() - 2);
    for (int i = 1; i <= Math.min(ba.length, bb.length); i++) {
      int x = ba[ba.length - i], y = bb[bb.length - i];
      if (x != y && x != 1 && y != 1)
        throw new IllegalArgumentException("matmul: batch dims " + Arrays.toString(ba) + " of " + Arrays.toString(shape()) + " and "
            + Arrays.toString(bb) + " of " + Arrays.toString(o.shape()) + " cannot be broadcast");
    }
    var products = a.unsqueeze(-2).mul(b.transpose(-1, -2).unsqueeze(-3));
    out = products.sum(-1).cast(products.dtype()); // an integer matmul keeps its type, as in torch (sum alone gives int64)
    if (ndim() == 1) out = out.squeeze(-2);
    if (o.ndim() == 1) out = out.squeeze(-1);
    return out;
  }

  /**
   * Sliding windows over the last kernel.length dims: (..., I1..In) → (..., O1..On, K1..Kn) with value
   * x[..., o·stride + k·dilation], using only movement ops (pad first for padding).
   */
  public Tensor pool(int[] kernel, int[] stride, int[] dilation) {
    int n = kernel.length, r = ndim();
    if (n == 0 || n > r || stride.length != n || dilation.length != n)
      throw new IllegalArgumentException("pool: kernel " + Arrays.toString(kernel) + ", stride " + Arrays.toString(stride) + ", dilation "
          + Arrays.toString(dilation) + " do not fit input " + Arrays.toString(shape()));
    var x = this;
    for (int j = 0; j < n; j++) { // window the first spatial dim, moved last; its (O, K) pair then sits at the end
      int[] q = IntStream.concat(IntStream.concat(IntStream.range(0, r - n), IntStream.range(r - n + 1, x.ndim())), IntStream.of(r - n)).toArray();
      if (kernel[j] <= 0 || stride[j] <= 0 || dilation[j] <= 0) throw new IllegalArgumentException("pool: kernel, stride and dilation must be positive, got "
          + Arrays.toString(kernel) + ", " + Arrays.toString(stride) + ", " + Arrays.toString(dilation));
      x = x.permute(q).windowLast(kernel[j], stride[j], dilation[j]);
    }
    // now (..., O1, K1, O2, K2, ...): outputs first, then kernels
    var order = IntStream.concat(IntStream.range(0, r - n), IntStream.concat(IntStream.range(0, n).map(j -> r - n + 2 * j), IntStream.range(0, n).map(j -> r - n + 2 * j + 1))).toArray();
    return x.permute(order);
  }

  /** Sliding windows over the last two dims: (..., H, W) → (..., OH, OW, KH, KW). */
  private Tensor pool2d(int kh, int kw, int stride, int dilation) {
    return pool(new int[]{kh, kw}, new int[]{stride, stride}, new int[]{dilation, dilation});
  }

  /** (..., i) → (..., o, k) with value x[o·stride + k·dilation], using only movement ops. */
  private Tensor windowLast(int k, int s, int d) {
    var sh = shape();
    int n = sh.length, i = sh[n - 1];
    int o = (i - d * (k - 1) - 1) / s + 1;
    if (o <= 0) throw new IllegalArgumentException("pool: window " + k + " (dilation " + d + ") does not fit in size " + i);
    var lead = Arrays.copyOf(sh, n - 1);
    if (d == 1 && k <= s) { // windows that do not overlap: rows of s, each cut to its first k (no repeated copies)
      var rows = resizeLast(o * s).reshape(concat(lead, o, s));
      var se = new int[n + 1][];
      for (int j = 0; j < n + 1; j++) se[j] = new int[]{0, j < n ? rows.shape()[j] : k};
      return rows.shrink(se);
    }
    int e = (int) Math.ceil((double) k * (i + d) / i);
    var x = unsqueeze(-2).expand(concat(lead, e, i)).reshape(concat(lead, e * i));
    x = x.resizeLast(k * (i + d)).reshape(concat(lead, k, i + d)).resizeLast(o * s).reshape(concat(lead, k, o, s));
    x = x.resizeLast(1).reshape(concat(lead, k, o));
    return x.transpose(-1, -2);
  }

  private Tensor resizeLast(int len) {
    var se = new int[ndim()][];
    var s = shape();
    for (int j = 0; j < s.length; j++) se[j] = new int[]{0, s[j]};
    int cur = s[s.length - 1];
    if (len <= cur) { se[s.length - 1][1] = len; return shrink(se); }
    var p = new int[ndim()][2];
    p[s.length - 1][1] = len - cur;
    return pad(p);
  }

  private static int[] concat(int[] a, int... b) {
    var out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  /** 2-D convolution, NCHW input, weight (Cout, Cin/groups, KH, KW), like torch's conv2d. */
  public Tensor conv2d(Tensor w, Tensor bias, int stride, int padding, int dilation, int groups) {
    var xs = shape(); var ws = w.shape();
    if (xs.length != 4 || ws.length != 4 || groups <= 0 || xs[1] != ws[1] * groups || ws[0] % groups != 0 || stride <= 0 || dilation <= 0 || padding < 0)
      throw new IllegalArgumentException("conv2d: input " + Arrays.toString(xs) + " and weight " + Arrays.toString(ws)
          + " do not fit (groups " + groups + ", stride " + stride + ", padding " + padding + ", dilation " + dilation + ")");
    var out = convValue(w, stride, padding, dilation, groups);
    if (requiresGrad || w.requiresGrad) {
      var x = this;
      out = out.customGrad(List.of(this, w), g -> List.of(g.convInputGrad(w, x.shape(), stride, padding, dilation, groups),
          x.convWeightGrad(g, w.shape(), stride, padding, dilation, groups)));
    }
    if (bias == null) return out;
    if (bias.numel() != ws[0]) throw new IllegalArgumentException("conv2d: bias " + Arrays.toString(bias.shape()) + " for " + ws[0] + " output channels");
    return out.add(bias.reshape(1, ws[0], 1, 1));
  }

  private Tensor convValue(Tensor w, int stride, int padding, int dilation, int groups) {
    var xs = shape(); var ws = w.shape();
    int n = xs[0], cin = xs[1] / groups, cout = ws[0] / groups, kh = ws[2], kw = ws[3];
    var x = pad(new int[][]{{0, 0}, {0, 0}, {padding, padding}, {padding, padding}}).pool2d(kh, kw, stride, dilation);
    int oh = x.shape()[2], ow = x.shape()[3];
    x = x.reshape(n, groups, 1, cin, oh, ow, kh, kw);
    var wr = w.reshape(1, groups, cout, cin, 1, 1, kh, kw);
    return x.mul(wr).sum(3, 6, 7).reshape(n, groups * cout, oh, ow);
  }

  /**
   * The gradient of a convolution's input from the output's gradient (this): a transposed convolution, run as a
   * convolution of the stride-dilated, padded gradient with the flipped, in/out-swapped weight. The generic
   * gradient of the sliding-window view would sum over overlapping window copies with gated, divided indices.
   */
  private Tensor convInputGrad(Tensor w, int[] xs, int stride, int padding, int dilation, int groups) {
    var ws = w.shape();
    int cout = ws[0] / groups, cin = ws[1], kh = ws[2], kw = ws[3], n = xs[0];
    var g = this;
    int oh = g.shape()[2], ow = g.shape()[3];
    if (stride > 1) { // put stride-1 zeros between the gradient's values
      g = g.reshape(n, groups * cout, oh, 1, ow, 1).pad(new int[][]{{0, 0}, {0, 0}, {0, 0}, {0, stride - 1}, {0, 0}, {0, stride - 1}})
          .reshape(n, groups * cout, oh * stride, ow * stride).shrink(new int[][]{{0, n}, {0, groups * cout}, {0, (oh - 1) * stride + 1}, {0, (ow - 1) * stride + 1}});
    }
    int ph = dilation * (kh - 1), pw = dilation * (kw - 1);
    g = g.pad(new int[][]{{0, 0}, {0, 0}, {ph, ph}, {pw, pw}}).contiguous();
    var wt = w.reshape(groups, cout, cin, kh, kw).permute(0, 2, 1, 3, 4).flip(3, 4).reshape(groups * cin, cout, kh, kw);
    var dx = g.convValue(wt, 1, 0, dilation, groups); // the padded input's gradient, up to the last window
    int hp = xs[2] + 2 * padding, wp = xs[3] + 2 * padding;
    dx = dx.pad(new int[][]{{0, 0}, {0, 0}, {0, hp - dx.shape()[2]}, {0, wp - dx.shape()[3]}});
    return dx.shrink(new int[][]{{0, n}, {0, xs[1]}, {padding, padding + xs[2]}, {padding, padding + xs[3]}});
  }

  /**
   * The gradient of a convolution's weight: windows of this input times the output's gradient g, summed over batch
   * and positions. The input is first laid out channels-last, so the kernel's register tile reads input channels as
   * contiguous vectors (the weight's in-channel dim is the tile's wide dim, its out-channel dim the deep one).
   */
  private Tensor convWeightGrad(Tensor g, int[] ws, int stride, int padding, int dilation, int groups) {
    int n = shape()[0], cin = ws[1], cout = ws[0] / groups, kh = ws[2], kw = ws[3];
    var x = (cin >= 8 ? permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2) : this).pad(new int[][]{{0, 0}, {0, 0}, {padding, padding}, {padding, padding}}).pool2d(kh, kw, stride, dilation);
    int oh = x.shape()[2], ow = x.shape()[3];
    x = x.reshape(n, groups, 1, cin, oh, ow, kh, kw);
    return x.mul(g.reshape(n, groups, cout, 1, oh, ow, 1, 1)).sum(0, 4, 5).reshape(groups * cout, cin, kh, kw);
  }

  /**
   * This value, with the gradients of inputs computed by grads (from the gradient of this value, in the order of
   * inputs) instead of by differentiating this value's graph.
   */
  Tensor customGrad(List<Tensor> inputs, java.util.function.Function<Tensor, List<Tensor>> grads) {
    var src = new UOp[inputs.size() + 1];
    src[0] = uop;
    for (int i = 0; i < inputs.size(); i++) src[i + 1] = inputs.get(i).uop;
    java.util.function.Function<UOp, List<UOp>> fn = g -> grads.apply(new Tensor(g, device, false)).stream().map(t -> t.uop).toList();
    return derive(UOp.of(Ops.CUSTOM_GRAD, dtype(), fn, src), inputs.toArray(Tensor[]::new));
  }

  /** In training mode, zeroes elements with probability p and scales the rest by 1/(1-p); else the identity. */
  public Tensor dropout(double p) {
    if (p < 0 || p > 1) throw new IllegalArgumentException("dropout: p must be in [0, 1], got " + p);
    if (p == 0 || !training()) return this;
    if (p == 1) return mul(0);
    return rand(shape()).lt(p).where(scalar(0), mul(1 / (1 - p)));
  }

  // ================================================================ printing
  @Override public String toString() {
    var sb = new StringBuilder();
    try (var arena = Arena.ofConfined()) { format(sb, hostData(arena), shape(), 0, 0); }
    return sb + (dtype() == DType.FLOAT32 ? "" : ", dtype=" + dtype().lowerName());
  }

  private void format(StringBuilder sb, MemorySegment data, int[] s, int dim, int offset) {
    var dt = dtype();
    if (dim == s.length) {
      if (dt.isFloat()) {
        double f = Buffer.readFloat(data, dt, offset);
        sb.append(f == Math.rint(f) && Math.abs(f) < 1e16 ? String.format("%.0f.", f) : String.format("%.4g", f));
      } else {
        long v = Buffer.readInt(data, dt, offset);
        sb.append(dt == DType.BOOL ? (v != 0 ? "True" : "False") : dt == DType.UINT64 ? Long.toUnsignedString(v) : Long.toString(v));
      }
      return;
    }
    int stride = 1;
    for (int i = dim + 1; i < s.length; i++) stride *= s[i];
    sb.append('[');
    boolean summarize = s[dim] > 6 && numel() > 1000;
    for (int i = 0; i < s[dim]; i++) {
      if (summarize && i == 3) { sb.append("..., "); i = s[dim] - 3; }
      if (i > 0 && !(summarize && i == s[dim] - 3)) sb.append(dim == s.length - 1 ? " " : "\n" + " ".repeat(dim + 1));
      format(sb, data, s, dim + 1, offset + i * stride);
    }
    sb.append(']');
  }
}
