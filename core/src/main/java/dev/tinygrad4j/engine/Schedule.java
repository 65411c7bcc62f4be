package dev.tinygrad4j.engine;

import dev.tinygrad4j.runtime.Buffer;
import dev.tinygrad4j.runtime.Device;
import dev.tinygrad4j.uop.Ops;
import dev.tinygrad4j.uop.UOp;
import dev.tinygrad4j.uop.Variable;
import dev.tinygrad4j.codegen.Codegen;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;

/**
 * Decides which nodes of a tensor graph become buffers and emits the kernels (and copies) that fill them, in order.
 * Everything else fuses into its consumer: elementwise ops, movement ops and reductions whose result is not
 * broadcast back (a broadcast reduction would be recomputed for every output element).
 */
public final class Schedule {
  private Schedule() {}

  /** One step of a schedule. */
  public sealed interface Item permits Kernel, Copy {}
  /** A kernel: its AST, the buffers for its parameters (output first) and the values of the variables it reads. */
  public record Kernel(String name, UOp ast, List<Buffer> bufs, int[] vars) implements Item {
    /** A kernel over buffers with no variables. */
    public Kernel(String name, UOp ast, List<Buffer> bufs) { this(name, ast, bufs, new int[0]); }

    /** A kernel whose AST may read variables: their values (size / step), in {@link Codegen#vars} order, from binds. */
    static Kernel of(String name, UOp ast, List<Buffer> bufs, Map<Variable, Integer> binds) {
      var used = Codegen.vars(ast);
      return new Kernel(name, ast, bufs, used.stream().mapToInt(v -> v.value(binds.get(v))).toArray());
    }

    /** The device it runs on: that of its output. */
    public Device device() { return bufs.getFirst().device(); }
  }
  /** A copy between devices. */
  public record Copy(Buffer dst, Buffer src) implements Item {}
  /** The steps, and the nodes whose buffers they fill (recorded by {@link #commit} once the steps have run). */
  public record Plan(List<Item> items, Map<UOp, UOp> realized, List<Buffer> overwritten, Panels.Made panels) {}

  // realized nodes: a lazy node → per device, the view of the buffer holding its value (a graph without buffers is the
  // same node on every device), valid while an assign has not overwritten that buffer; weak so graphs nobody holds go away
  private static final Map<UOp, Map<Device, UOp>> REALIZED = Collections.synchronizedMap(new WeakHashMap<>());
  // per buffer, the newest assign into it not realized yet (by id: substitution may rebuild the node): only that one may
  // overwrite it in place
  private static final Map<Buffer, UOp.AssignId> LATEST = Collections.synchronizedMap(new WeakHashMap<>());
  private static final java.util.concurrent.atomic.AtomicLong ASSIGNS = new java.util.concurrent.atomic.AtomicLong();

  private static Device deviceOfView(UOp view) { return view.buffer().device(); }

  /**
   * The node that gives target (a view of a buffer of its own) value, as data: realized, it writes into target's buffer
   * in place where nothing still needs the old contents, else into a new buffer.
   */
  public static UOp assign(UOp target, UOp value) {
    var a = UOp.of(Ops.ASSIGN, value.dtype(), new UOp.AssignId(ASSIGNS.incrementAndGet()), target, value);
    LATEST.put(target.buffer(), (UOp.AssignId) a.arg());
    return a;
  }
  /** The node as a row-major view of a buffer's current contents. */
  public static UOp view(Buffer b, int[] shape) { return view(b, shape, b.generation()); }

  private static UOp view(Buffer b, int[] shape, int generation) {
    var buf = UOp.of(Ops.BUFFER, b.dtype(), new UOp.BufferRef(b, generation));
    return shape.length == 1 && shape[0] == b.size() ? buf : UOp.of(Ops.RESHAPE, b.dtype(), UOp.list(shape), buf);
  }

  /** True if u is a buffer or a reshape of a whole buffer (its data is already laid out row-major). */
  public static boolean isView(UOp u) {
    return u.op() == Ops.BUFFER || u.op() == Ops.RESHAPE && u.src(0).op() == Ops.BUFFER;
  }

  /**
   * Replaces nodes realized on dev by their buffers (graphs realized before are not recomputed) and drops DETACH
   * and CUSTOM_GRAD;
   * below a COPY the device is the copy's source.
   */
  private static UOp substitute(UOp u, Device dev, Map<Device, Map<UOp, UOp>> memos, Map<Variable, Integer> binds, Map<UOp, List<UOp.Bind>> tags) {
    var memo = memos.computeIfAbsent(dev, d -> new IdentityHashMap<>());
    var done = memo.get(u);
    if (done != null) return done;
    if (u.op() == Ops.BIND) { // (even over a realized view: the kernels reading it are symbolic)
      bind(binds, u);
      var inner = substitute(u.src(0), dev, memos, binds, tags);
      tags.computeIfAbsent(inner, k -> new ArrayList<>()).add((UOp.Bind) u.arg()); // the lowerer's word for that dim
      memo.put(u, inner);
      return inner;
    }
    var r = realizedOn(u, dev);
    if (r == null && u.op() == Ops.CUSTOM_GRAD) r = substitute(u.src(0), dev, memos, binds, tags); // only the value is computed
    if (r == null) {
      var srcDev = u.op() == Ops.COPY && u.src(0).device() != null ? u.src(0).device() : dev;
      var src = new ArrayList<UOp>();
      for (var s : u.src()) src.add(substitute(s, srcDev, memos, binds, tags));
      var n = u.withSrc(src);
      r = realizedOn(n, dev);
      if (r == null) r = switch (n.op()) { // ASSIGN stays: a point whose output may be its target's buffer
        case DETACH -> n.src(0);
        case RESHAPE -> n.src(0).op() == Ops.RESHAPE && !tags.containsKey(n.src(0)) ? n.src(0).src(0).reshape(n.shape()) : n; // a view of a view (unless the inner one has bound dims)
        case REDUCE_AXIS -> splitReduce(n);
        case CONTIGUOUS -> isView(n.src(0)) ? n.src(0) : n;
        case COPY -> n.src(0).device() == null ? n.src(0) : n;
        default -> n;
      };
    }
    memo.put(u, r);
    return r;
  }

  /**
   * Whether graph u reads a buffer at a generation an assign has since overwritten (so it cannot be computed again),
   * other than through a node with a result of its own (that one is decided when it is reached).
   */
  private static boolean overwritten(UOp u) {
    var seen = java.util.Collections.newSetFromMap(new IdentityHashMap<UOp, Boolean>());
    var stack = new ArrayList<>(u.src());
    while (!stack.isEmpty()) {
      var n = stack.removeLast();
      if (!seen.add(n)) continue;
      if (n.op() == Ops.BUFFER && n.generation() < n.buffer().generation()) return true;
      if (!REALIZED.containsKey(n)) stack.addAll(n.src());
    }
    return false;
  }

  /** Records the variable a BIND node binds, and its size; one variable bound to two sizes is an error. */
  private static void bind(Map<Variable, Integer> binds, UOp n) {
    var b = (UOp.Bind) n.arg();
    int value = n.shape()[b.axis()];
    var was = binds.putIfAbsent(b.variable(), value);
    if (was != null && was != value)
      throw new IllegalArgumentException("Variable " + b.variable() + " is bound to " + was + " and to " + value + " in one realize");
  }

  /** The elements of the buffer a node is stored in, checked before anything runs. */
  private static long elements(UOp n) {
    long count = UOp.prod(n.shape()); // fits in a long: every tensor's shape is checked for that
    if (count > dev.tinygrad4j.Tensor.MAX_NUMEL)
      throw new IllegalArgumentException("realize: a result of shape " + java.util.Arrays.toString(n.shape()) + " has " + count
          + " elements, more than a tensor may hold (" + dev.tinygrad4j.Tensor.MAX_NUMEL + ")");
    return count;
  }

  /** Float sums of more elements than this per output are split into partial sums (a matmul's K stays whole below it). */
  static final int SUM_DIRECT = 1 << 14;
  /** Reductions to at most this many values count as long past 1024 elements (floats) or 2^15 (others). */
  static final int FEW_OUTPUTS = 64;
  /** Elements each partial result covers where the outputs are few (strided), and where they are many (a run). */
  static final int SUMMED = 64, RUN = 4096;

  /**
   * A long reduction runs as a tree of kernels: partial results, then the reduction of those, split again while
   * longer than 256. A float32 sum in one loop loses everything past 2^24 and drifts as sqrt(n); the tree keeps every
   * sum short. It applies to float sums of more than SUM_DIRECT elements per output, or of more than 1024 to at most
   * FEW_OUTPUTS values, and to other reductions of at least 2^15 elements to at most FEW_OUTPUTS values (for the
   * threads). To few values, each partial covers SUMMED elements strided across the reduced range (the partials are
   * the outputs, side by side, so the work splits across threads and vector lanes): where the trailing reduced dims
   * are a multiple of 8 or 16 elements, the partials are the columns of blocks of such rows (memory is read in order),
   * else strided across the merged range. To many (a conv's weight
   * gradient), each covers a contiguous run of at most RUN elements, cut along the outermost reduced axis where a
   * divisor of it makes runs of RUN/4 or more (the kernel then reads as the unsplit one did), else of the merged
   * range. Merged ranges of sums are padded with zeros (other reductions split only where the length divides).
   */
  private static UOp splitReduce(UOp n) { return splitReduce(n, false); }

  private static UOp splitReduce(UOp n, boolean partials) {
    var arg = (UOp.ReduceArg) n.arg();
    var in = n.src(0).shape();
    long r = 1;
    for (int a : arg.axes()) r *= in[a];
    boolean few = UOp.prod(n.shape()) <= FEW_OUTPUTS, sum = arg.op() == Ops.ADD, floatSum = sum && n.dtype().isFloat();
    if (r > Integer.MAX_VALUE) { // more than one range can count: one reduced axis at a time, the last first
      var axes = arg.axes();
      var x = n.src(0);
      for (int i = axes.size() - 1; i >= 0; i--) x = splitReduce(x.reduce(arg.op(), axes.get(i)), partials);
      return x;
    }
    long limit = floatSum ? (partials ? 256 : few ? 1024 : SUM_DIRECT) : few ? (1 << 15) - 1 : Long.MAX_VALUE;
    // elements per partial: few outputs split finely (each partial a short strided sum); many outputs into contiguous
    // runs of RUN, so each partial stays a long reduction reading memory in order (a conv's weight gradient)
    long length = few || partials ? SUMMED : RUN;
    if (r <= limit || length * 2 > r || !sum && r % length != 0 || (r + length - 1) / length * length > Integer.MAX_VALUE) return n;
    // the reduced axes last: [kept..., reduced...]
    var kept = new ArrayList<Integer>();
    for (int i = 0; i < in.length; i++) if (!arg.axes().contains(i)) kept.add(i);
    int last = kept.size();
    var perm = new int[in.length];
    var merged = new int[last + 1];
    for (int i = 0; i < last; i++) { perm[i] = kept.get(i); merged[i] = in[kept.get(i)]; }
    for (int i = 0; i < arg.axes().size(); i++) perm[last + i] = arg.axes().get(i);
    merged[last] = (int) r;
    var moved = n.src(0).permute(perm);
    if (!few && !partials) { // runs along the outermost reduced axis where it divides well: the index math stays simple
      int outer = in[arg.axes().getFirst()];
      long inner = r / outer;
      int d = 1;
      for (int c = 1; c <= outer && c * inner <= RUN; c++) if (outer % c == 0) d = c;
      if (d < outer && d * inner >= RUN / 4) {
        var runs = new int[in.length + 1];
        for (int i = 0; i < in.length; i++) runs[i < last ? i : i + 1] = moved.shape()[i];
        runs[last] = outer / d;
        runs[last + 1] = d;
        var axes = java.util.stream.IntStream.range(last + 1, runs.length).toArray();
        var partial = UOp.of(Ops.CONTIGUOUS, n.dtype(), null, moved.reshape(runs).reduce(arg.op(), axes));
        var flat = merged.clone();
        flat[last] = outer / d;
        return splitReduce(partial.reshape(flat).reduce(arg.op(), last), true).reshape(n.shape());
      }
    }
    if (few && !partials) { // the trailing reduced dims (an image's pixels) as rows of 16 or 8: each partial sums one
      // column of a block of rows, so the partials of a block sit side by side and the sums walk memory in order
      var axes = arg.axes();
      long run = 1;
      for (int i = axes.size() - 1, d = in.length - 1; i >= 0 && axes.get(i) == d; i--, d--) run *= in[d];
      int lanes = run % 16 == 0 ? 16 : run % 8 == 0 ? 8 : 0;
      long rows = lanes == 0 ? 0 : run / lanes, block = 1;
      for (long k = 1; k <= SUMMED; k++) if (rows % k == 0) block = k;
      if (lanes > 0 && block >= 4 && r / block >= 2) {
        var shape = java.util.Arrays.copyOf(merged, last + 3);
        shape[last] = (int) (r / run * (rows / block));
        shape[last + 1] = (int) block;
        shape[last + 2] = lanes;
        var partial = UOp.of(Ops.CONTIGUOUS, n.dtype(), null, moved.reshape(shape).reduce(arg.op(), last + 1));
        var flat = merged.clone();
        flat[last] = (int) (r / block);
        return splitReduce(partial.reshape(flat).reduce(arg.op(), last), true).reshape(n.shape());
      }
    }
    var x = moved.reshape(merged); // else merged into one: [kept..., r]
    int groups = (int) ((r + length - 1) / length);
    if (groups * length != r) {
      var pad = new int[merged.length][2];
      pad[last][1] = (int) (groups * length - r);
      x = x.pad(pad);
    }
    // partials [kept..., groups]: each the reduction of length elements, groups apart where the outputs are few (the
    // partials then sit side by side in memory, so threads and vector lanes share the reads), else a contiguous run
    // (a reduction per output keeps reading memory in order)
    var split = java.util.Arrays.copyOf(merged, merged.length + 1);
    split[last] = few ? (int) length : groups;
    split[last + 1] = few ? groups : (int) length;
    var partial = UOp.of(Ops.CONTIGUOUS, n.dtype(), null, x.reshape(split).reduce(arg.op(), few ? last : last + 1));
    var flat = merged.clone();
    flat[last] = groups;
    var rest = splitReduce(partial.reshape(flat).reduce(arg.op(), last), true); // [kept..., 1]
    return rest.reshape(n.shape()); // kept dims in place, the reduced ones of size 1
  }

  /** The schedule that realizes roots (each on its device); once it has run, {@link #commit} records the results. */
  public static Plan create(List<UOp> roots, List<Device> devices) {
    if (dev.tinygrad4j.uop.Spec.enabled()) roots.forEach(dev.tinygrad4j.uop.Spec::tensor);
    var memos = new HashMap<Device, Map<UOp, UOp>>();
    var binds = new java.util.TreeMap<Variable, Integer>(java.util.Comparator.comparing(Variable::name).thenComparingInt(Variable::min).thenComparingInt(Variable::max));
    var rs = new ArrayList<UOp>();
    var tags = new IdentityHashMap<UOp, List<UOp.Bind>>(); // nodes a BIND was over, and what it bound
    for (int i = 0; i < roots.size(); i++) rs.add(substitute(roots.get(i), devices.get(i), memos, binds, tags));
    var vars = new HashMap<Integer, UOp>(); // a size → the variable kernels read it from (size 1 stays a broadcast dim)
    binds.forEach((v, size) -> { if (size > 1) vars.putIfAbsent(size, v.size()); });
    var made = new IdentityHashMap<Buffer, Lowerer.Made>(); // buffers this schedule writes whose element count is symbolic
    var points = new LinkedHashSet<UOp>();
    var deviceOfPoint = new IdentityHashMap<UOp, Device>();
    for (int i = 0; i < rs.size(); i++) {
      if (!isView(rs.get(i))) { points.add(rs.get(i)); deviceOfPoint.put(rs.get(i), devices.get(i)); }
    }
    var all = new ArrayList<UOp>();
    for (var r : rs) all.addAll(r.toposort());
    var nodes = new LinkedHashSet<>(all);
    fusionBoundaries(nodes, points);
    capKernelSize(nodes, points);
    var order = order(nodes, points);
    var items = new ArrayList<Item>();
    var panels = new Panels.Made();
    var views = new IdentityHashMap<UOp, UOp>();
    var overwritten = new ArrayList<Buffer>();
    for (var n : order.points()) {
      var dev = deviceOfPoint.get(n);
      if (dev == null) dev = n.op() == Ops.COPY ? (Device) n.arg() : n.device();
      if (dev == null) dev = devices.getFirst();
      Buffer out = null;
      if (UOp.prod(n.shape()) == 0) {
        // nothing to compute
      } else if (n.op() == Ops.COPY) {
        out = new Buffer(dev, n.dtype(), elements(n));
        items.add(new Copy(out, views.getOrDefault(n.src(0), n.src(0)).buffer()));
      } else {
        var value = replace(n.op() == Ops.CONTIGUOUS ? n.src(0) : n.op() == Ops.ASSIGN ? n.src(1) : n, views, new IdentityHashMap<>());
        var bufs = new ArrayList<Buffer>();
        UOp ast = null;
        if (order.inPlace().contains(n)) { // the value written over its own buffer: only where each element reads its own old value
          out = n.src(0).buffer();
          ast = Lowerer.lower(value, out, bufs, vars, made, tags);
          if (!readsOnlyWhereItStores(ast, 0)) { out = null; bufs.clear(); }
          else overwritten.add(out);
        }
        if (out == null) {
          out = new Buffer(dev, n.dtype(), elements(n));
          ast = Lowerer.lower(value, out, bufs, vars, made, tags);
        }
        for (var b : bufs) if (b.device() != dev) throw new IllegalArgumentException(
            "a kernel on " + dev.name() + " reads a buffer on " + b.device().name() + ": move tensors with to(device) first");
        if (made.containsKey(out)) Runner.counted(out, made.get(out).count());
        if (!dev.target().gpu()) ast = Panels.apply(ast, bufs, items, panels, dev.target().lanes().isEmpty() ? 1 : dev.target().lanes().getFirst());
        items.add(Kernel.of(name(ast, n.shape()), ast, bufs, binds));
      }
      if (out == null) out = new Buffer(dev, n.dtype(), 0);
      // a buffer overwritten in place holds its next generation once the plan has run
      views.put(n, view(out, n.shape(), out.generation() + (overwritten.contains(out) ? 1 : 0)));
    }
    var realized = new IdentityHashMap<>(views);
    for (int i = 0; i < roots.size(); i++) realized.put(roots.get(i), views.getOrDefault(rs.get(i), rs.get(i)));
    return new Plan(items, realized, overwritten, panels);
  }

  /** Whether every load of buffer param in a lowered kernel reads, ungated, the element the kernel stores. */
  static boolean readsOnlyWhereItStores(UOp ast, int param) {
    var nodes = ast.toposort();
    var stores = nodes.stream().filter(u -> u.op() == Ops.STORE && u.src(0).op() == Ops.DEFINE_GLOBAL).toList();
    if (stores.size() != 1 || stores.getFirst().src().size() > 3) return false;
    var at = dev.tinygrad4j.codegen.Codegen.simplify(stores.getFirst().src(1));
    return nodes.stream().filter(u -> u.op() == Ops.LOAD && u.src(0).op() == Ops.DEFINE_GLOBAL && (Integer) u.src(0).arg() == param)
        .allMatch(u -> u.src().size() == 2 && dev.tinygrad4j.codegen.Codegen.simplify(u.src(1)) == at);
  }

  /**
   * The points in the order their kernels run, and the assigns that overwrite their target in place: the newest
   * assign into a buffer runs after every kernel that reads the old contents, unless one of those needs its result
   * (then it writes a new buffer).
   */
  private record Order(List<UOp> points, Set<UOp> inPlace) {}

  private static Order order(Set<UOp> nodes, Set<UOp> points) {
    var list = nodes.stream().filter(points::contains).toList();
    var reads = new IdentityHashMap<UOp, Set<Buffer>>();
    var deps = new IdentityHashMap<UOp, List<UOp>>();
    for (var p : list) {
      var bufs = Collections.newSetFromMap(new IdentityHashMap<Buffer, Boolean>());
      var before = new ArrayList<UOp>();
      var seen = Collections.newSetFromMap(new IdentityHashMap<UOp, Boolean>());
      var stack = new ArrayList<>(p.op() == Ops.ASSIGN ? List.of(p.src(1)) : p.src());
      while (!stack.isEmpty()) {
        var u = stack.removeLast();
        if (!seen.add(u)) continue;
        if (points.contains(u)) before.add(u);
        else if (u.op() == Ops.BUFFER) bufs.add(u.buffer());
        else stack.addAll(u.src());
      }
      reads.put(p, bufs);
      deps.put(p, before);
    }
    var index = new IdentityHashMap<UOp, Integer>();
    for (int i = 0; i < list.size(); i++) index.put(list.get(i), i);
    var after = new IdentityHashMap<UOp, List<UOp>>(); // extra edges: reader → the assign that must wait for it
    var inPlace = Collections.newSetFromMap(new IdentityHashMap<UOp, Boolean>());
    for (var a : list) {
      if (a.op() != Ops.ASSIGN) continue;
      var target = a.src(0).buffer();
      if (!a.arg().equals(LATEST.get(target)) || target.shared()) continue;
      var needs = Collections.newSetFromMap(new IdentityHashMap<UOp, Boolean>()); // points that use a's result
      for (var p : list) if (deps.get(p).stream().anyMatch(d -> d == a || needs.contains(d))) needs.add(p);
      var readers = list.stream().filter(p -> p != a && reads.get(p).contains(target)).toList();
      if (readers.stream().anyMatch(needs::contains)) continue;
      inPlace.add(a);
      for (var r : readers) after.computeIfAbsent(r, k -> new ArrayList<>()).add(a);
    }
    if (after.isEmpty()) return new Order(list, inPlace);
    // Kahn's order over data dependencies and the extra edges, earliest first
    var waiting = new IdentityHashMap<UOp, Integer>();
    var users = new IdentityHashMap<UOp, List<UOp>>();
    for (var p : list) {
      var ds = Collections.newSetFromMap(new IdentityHashMap<UOp, Boolean>());
      ds.addAll(deps.get(p));
      for (var e : after.entrySet()) if (e.getValue().contains(p)) ds.add(e.getKey());
      waiting.put(p, ds.size());
      for (var d : ds) users.computeIfAbsent(d, k -> new ArrayList<>()).add(p);
    }
    var ready = new java.util.PriorityQueue<UOp>(java.util.Comparator.comparingInt(index::get));
    for (var p : list) if (waiting.get(p) == 0) ready.add(p);
    var out = new ArrayList<UOp>();
    while (!ready.isEmpty()) {
      var p = ready.poll();
      out.add(p);
      for (var u : users.getOrDefault(p, List.of())) if (waiting.merge(u, -1, Integer::sum) == 0) ready.add(u);
    }
    return new Order(out, inPlace);
  }

  /** Forgets every remembered result held in these buffers (their contents are about to be overwritten). */
  public static void forget(Set<Buffer> bufs) {
    synchronized (REALIZED) {
      for (var byDevice : REALIZED.values()) byDevice.values().removeIf(v -> bufs.contains(v.buffer()));
    }
    Panels.forget(bufs);
  }

  /** Records the buffers a plan has filled, so later schedules read them instead of recomputing. */
  public static void commit(Plan plan) {
    Panels.commit(plan.panels());
    for (var b : plan.overwritten()) b.nextGeneration();
    synchronized (LATEST) { for (var e : plan.realized().keySet()) if (e.op() == Ops.ASSIGN) LATEST.remove(e.src(0).buffer(), e.arg()); }
    Runner.realized(plan.realized().keySet());
    for (var e : plan.realized().entrySet()) {
      if (e.getKey() == e.getValue()) continue; // already a view
      REALIZED.computeIfAbsent(e.getKey(), k -> new HashMap<>()).put(deviceOfView(e.getValue()), e.getValue());
    }
  }

  /** Marks the nodes that must be computed into buffers of their own; everything else fuses into its consumer. */
  private static void fusionBoundaries(Set<UOp> nodes, Set<UOp> points) {
    for (var n : nodes) {
      if (n.op() == Ops.CONTIGUOUS || n.op() == Ops.COPY || n.op() == Ops.ASSIGN) points.add(n);
      if (n.op() == Ops.COPY && !isView(n.src(0))) points.add(n.src(0));
    }
    // a reduction broadcast back over its axes (or read at gathered indices) is computed once, into a buffer
    for (var n : nodes) if (n.op() == Ops.EXPAND || n.op() == Ops.GATHER) markReduces(n.src(0), points, Collections.newSetFromMap(new IdentityHashMap<>()));
    // an expanded value is computed once rather than per broadcast copy when it costs many ops (random numbers) or
    // combines several buffers (a gradient masked by an activation, read again for every weight of a conv)
    for (var n : nodes) {
      if (n.op() != Ops.EXPAND) continue;
      var base = n.src(0);
      while (base.op().isMovement()) base = base.src(0);
      int ops = aluOps(base, points, Collections.newSetFromMap(new IdentityHashMap<>()));
      if (ops >= EXPENSIVE || ops > 0 && inputs(base, points) >= 2) points.add(base);
    }
    // a reduction read by several kernels is computed once too
    for (boolean changed = true; changed; ) {
      changed = false;
      var seenBy = new IdentityHashMap<UOp, Integer>();
      for (var p : points) for (var red : reducesIn(p.op() == Ops.CONTIGUOUS ? p.src(0) : p, points)) seenBy.merge(red, 1, Integer::sum);
      for (var e : seenBy.entrySet()) if (e.getValue() > 1 && points.add(e.getKey())) changed = true;
    }
  }

  /** Cuts kernels that would grow too large to compile. */
  private static void capKernelSize(Set<UOp> nodes, Set<UOp> points) {
    // a kernel stays a size every device can compile (a JVM method holds at most 64 KB of bytecode): when a node's
    // fused graph grows past the limit, its largest source becomes a buffer. Sums of the sources' sizes overcount
    // shared nodes, so past the limit the distinct nodes are counted.
    var cost = new IdentityHashMap<UOp, Integer>();
    for (var n : nodes) {
      int c;
      while (true) {
        c = n.op().isAlu() ? 1 : 0;
        UOp worst = null;
        for (var s : n.src()) {
          if (points.contains(s)) continue;
          int sc = cost.getOrDefault(s, 0);
          c += sc;
          if (sc > 0 && (worst == null || sc > cost.get(worst))) worst = s;
        }
        if (c > MAX_KERNEL_OPS) c = fusedOps(n, points);
        if (c <= MAX_KERNEL_OPS || worst == null) break;
        points.add(worst);
      }
      cost.put(n, c);
    }
  }

  /**
   * The view of a buffer on dev holding u's value once its schedule has run there, or null. While a JIT captures,
   * results from before the capture do not count: a capture computes what it uses.
   */
  public static UOp realized(UOp u, Device dev) {
    var r = realizedOn(u, dev);
    return r != null ? r : isView(u) && deviceOfView(u) == dev ? u : null;
  }

  private static UOp realizedOn(UOp u, Device dev) {
    var byDevice = REALIZED.get(u);
    var r = byDevice == null ? null : byDevice.get(dev);
    if (r == null) return null;
    // a capture computes again what it uses, except what it cannot: a graph over contents an assign has since
    // overwritten (weights drawn from the random counter before it moved on) is taken as computed, as data
    if (!Runner.usable(u) && !overwritten(u)) return null;
    if (r.generation() == r.buffer().generation()) return r;
    byDevice.remove(dev, r); // its buffer has since been overwritten by an assign: compute it again
    return null;
  }

  private static final int MAX_KERNEL_OPS = 2000;
  private static final int EXPENSIVE = 24; // ALU ops: below this, recomputing beats a round trip through memory

  /** Distinct ALU ops in the kernel that would compute n (stops counting past twice the limit). */
  private static int fusedOps(UOp n, Set<UOp> points) {
    var seen = Collections.newSetFromMap(new IdentityHashMap<UOp, Boolean>());
    var stack = new ArrayList<>(List.of(n));
    int count = 0;
    while (!stack.isEmpty() && count <= 2 * MAX_KERNEL_OPS) {
      var u = stack.removeLast();
      if (!seen.add(u) || (u != n && points.contains(u))) continue;
      if (u.op().isAlu()) count++;
      stack.addAll(u.src());
    }
    return count;
  }

  /** How many buffers and earlier results the kernel computing u would read. */
  private static int inputs(UOp u, Set<UOp> points) {
    var seen = Collections.newSetFromMap(new IdentityHashMap<UOp, Boolean>());
    var stack = new ArrayList<>(u.src());
    int count = 0;
    while (!stack.isEmpty()) {
      var n = stack.removeLast();
      if (!seen.add(n)) continue;
      if (n.op() == Ops.BUFFER || points.contains(n)) count++;
      else stack.addAll(n.src());
    }
    return count;
  }

  private static int aluOps(UOp u, Set<UOp> points, Set<UOp> seen) {
    if (!seen.add(u) || points.contains(u) || u.op() == Ops.BUFFER) return 0;
    int n = u.op().isAlu() ? 1 : 0;
    for (var s : u.src()) if (n < EXPENSIVE) n += aluOps(s, points, seen);
    return n;
  }

  private static void markReduces(UOp u, Set<UOp> points, Set<UOp> seen) {
    if (!seen.add(u) || points.contains(u) || u.op() == Ops.BUFFER) return;
    if (u.op() == Ops.REDUCE_AXIS) { points.add(u); return; }
    for (var s : u.src()) markReduces(s, points, seen);
  }

  private static Set<UOp> reducesIn(UOp root, Set<UOp> points) {
    var found = Collections.newSetFromMap(new IdentityHashMap<UOp, Boolean>());
    var seen = Collections.newSetFromMap(new IdentityHashMap<UOp, Boolean>());
    var stack = new ArrayList<>(root.src()); // root itself is the kernel's output, not a shared reduction
    while (!stack.isEmpty()) {
      var u = stack.removeLast();
      if (!seen.add(u) || points.contains(u)) continue;
      if (u.op() == Ops.REDUCE_AXIS) found.add(u);
      stack.addAll(u.src());
    }
    return found;
  }

  private static UOp replace(UOp u, Map<UOp, UOp> views, Map<UOp, UOp> memo) {
    var v = views.get(u);
    if (v != null) return v;
    var done = memo.get(u);
    if (done != null) return done;
    var src = new ArrayList<UOp>();
    for (var s : u.src()) src.add(replace(s, views, memo));
    var out = u.withSrc(src);
    memo.put(u, out);
    return out;
  }

  private static String name(UOp ast, int[] shape) {
    boolean reduce = ast.toposort().stream().anyMatch(u -> u.op() == Ops.REDUCE);
    var sb = new StringBuilder(reduce ? "r" : "E");
    for (int s : shape) sb.append('_').append(s);
    return sb.toString();
  }
}
