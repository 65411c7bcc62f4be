package dev.tinygrad4j.engine;

import dev.tinygrad4j.runtime.Buffer;
import dev.tinygrad4j.runtime.Device;
import dev.tinygrad4j.uop.Ops;
import dev.tinygrad4j.uop.UOp;

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
  /** A kernel: its AST and the buffers for its parameters (output first). */
  public record Kernel(String name, UOp ast, List<Buffer> bufs) implements Item {
    /** The device it runs on: that of its output. */
    public Device device() { return bufs.getFirst().device(); }
  }
  /** A copy between devices. */
  public record Copy(Buffer dst, Buffer src) implements Item {}
  /** The steps, and the nodes whose buffers they fill (recorded by {@link #commit} once the steps have run). */
  public record Plan(List<Item> items, Map<UOp, UOp> realized, Panels.Made panels) {}

  // realized nodes: a lazy node → per device, the view of the buffer holding its value (a graph without buffers,
  // such as random numbers, is the same node on every device); weak so graphs nobody holds go away
  private static final Map<UOp, Map<Device, UOp>> REALIZED = Collections.synchronizedMap(new WeakHashMap<>());

  private static Device deviceOfView(UOp view) { return ((Buffer) (view.op() == Ops.BUFFER ? view : view.src(0)).arg()).device(); }

  /** The node as a row-major view of a buffer. */
  public static UOp view(Buffer b, int[] shape) {
    var buf = UOp.of(Ops.BUFFER, b.dtype(), b);
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
  private static UOp substitute(UOp u, Device dev, Map<Device, Map<UOp, UOp>> memos) {
    var memo = memos.computeIfAbsent(dev, d -> new IdentityHashMap<>());
    var done = memo.get(u);
    if (done != null) return done;
    var r = realizedOn(u, dev);
    if (r == null && u.op() == Ops.CUSTOM_GRAD) r = substitute(u.src(0), dev, memos); // only the value is computed
    if (r == null) {
      var srcDev = u.op() == Ops.COPY && u.src(0).device() != null ? u.src(0).device() : dev;
      var src = new ArrayList<UOp>();
      for (var s : u.src()) src.add(substitute(s, srcDev, memos));
      var n = u.withSrc(src);
      r = realizedOn(n, dev);
      if (r == null) r = switch (n.op()) {
        case DETACH -> n.src(0);
        case RESHAPE -> n.src(0).op() == Ops.RESHAPE ? n.src(0).src(0).reshape(n.shape()) : n; // a view of a view
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
   * A long reduction to a few values runs as two kernels: partial results over strided slices (many outputs, so the
   * work splits across threads and vector lanes), then the reduction of those.
   */
  private static UOp splitReduce(UOp n) {
    var arg = (UOp.ReduceArg) n.arg();
    var in = n.src(0).shape();
    if (arg.axes().size() != 1 || UOp.prod(n.shape()) > 64) return n;
    int ax = arg.axes().getFirst(), size = in[ax];
    int k = 0;
    for (int c : new int[]{256, 128, 64, 32, 16}) if (size % c == 0 && size / c >= 256) { k = c; break; }
    if (size < 1 << 15 || k == 0) return n;
    var split = new int[in.length + 1];
    for (int i = 0, j = 0; i < in.length; i++) {
      if (i == ax) { split[j++] = size / k; split[j++] = k; } else split[j++] = in[i];
    }
    var partial = n.src(0).reshape(split).reduce(arg.op(), ax);
    return UOp.of(Ops.CONTIGUOUS, n.dtype(), null, partial).reduce(arg.op(), ax + 1).reshape(n.shape());
  }

  /** The schedule that realizes roots (each on its device); once it has run, {@link #commit} records the results. */
  public static Plan create(List<UOp> roots, List<Device> devices) {
    if (dev.tinygrad4j.uop.Spec.enabled()) roots.forEach(dev.tinygrad4j.uop.Spec::tensor);
    var memos = new HashMap<Device, Map<UOp, UOp>>();
    var rs = new ArrayList<UOp>();
    for (int i = 0; i < roots.size(); i++) rs.add(substitute(roots.get(i), devices.get(i), memos));
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
    // emit in dependency order
    var items = new ArrayList<Item>();
    var panels = new Panels.Made();
    var views = new IdentityHashMap<UOp, UOp>();
    for (var n : nodes) {
      if (!points.contains(n)) continue;
      var dev = deviceOfPoint.get(n);
      if (dev == null) dev = n.op() == Ops.COPY ? (Device) n.arg() : n.device();
      if (dev == null) dev = devices.getFirst();
      var out = new Buffer(dev, n.dtype(), UOp.prod(n.shape()));
      if (UOp.prod(n.shape()) == 0) {
        // nothing to compute
      } else if (n.op() == Ops.COPY) {
        var src = views.getOrDefault(n.src(0), n.src(0));
        items.add(new Copy(out, (Buffer) (src.op() == Ops.BUFFER ? src : src.src(0)).arg()));
      } else {
        var value = replace(n.op() == Ops.CONTIGUOUS ? n.src(0) : n, views, new IdentityHashMap<>());
        var bufs = new ArrayList<Buffer>();
        var ast = Lowerer.lower(value, out, bufs);
        for (var b : bufs) if (b.device() != dev) throw new IllegalArgumentException(
            "a kernel on " + dev.name() + " reads a buffer on " + b.device().name() + ": move tensors with to(device) first");
        if (!dev.target().gpu()) ast = Panels.apply(ast, bufs, items, panels);
        items.add(new Kernel(name(ast, n.shape()), ast, bufs));
      }
      views.put(n, view(out, n.shape()));
    }
    var realized = new IdentityHashMap<>(views);
    for (int i = 0; i < roots.size(); i++) realized.put(roots.get(i), views.getOrDefault(rs.get(i), rs.get(i)));
    return new Plan(items, realized, panels);
  }


  /** Records the buffers a plan has filled, so later schedules read them instead of recomputing. */
  public static void commit(Plan plan) {
    Panels.commit(plan.panels());
    for (var e : plan.realized().entrySet()) {
      if (e.getKey() == e.getValue()) continue; // already a view
      REALIZED.computeIfAbsent(e.getKey(), k -> new HashMap<>()).put(deviceOfView(e.getValue()), e.getValue());
    }
  }

  /** Marks the nodes that must be computed into buffers of their own; everything else fuses into its consumer. */
  private static void fusionBoundaries(Set<UOp> nodes, Set<UOp> points) {
    for (var n : nodes) {
      if (n.op() == Ops.CONTIGUOUS || n.op() == Ops.COPY) points.add(n);
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

  /** The view of a buffer on dev holding u's value once its schedule has run there, or null. */
  public static UOp realized(UOp u, Device dev) {
    var r = realizedOn(u, dev);
    return r != null ? r : isView(u) && deviceOfView(u) == dev ? u : null;
  }

  private static UOp realizedOn(UOp u, Device dev) {
    var byDevice = REALIZED.get(u);
    return byDevice == null ? null : byDevice.get(dev);
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
