package dev.tinygrad4j.codegen;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.uop.Ops;
import dev.tinygrad4j.uop.PatternMatcher;
import dev.tinygrad4j.uop.Symbolic;
import dev.tinygrad4j.uop.UOp;
import dev.tinygrad4j.uop.UOp.AxisType;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns a kernel AST into a flat list of UOps: loops (RANGE … ENDRANGE), accumulators (DEFINE_ACC, ASSIGN, or
 * LOAD/STORE on an accumulator array), loads, ALU ops and stores. Each node is placed in the outermost open loop that
 * holds all its sources, so loop-invariant work is hoisted for free.
 * <p>
 * Output loops (THREAD, LOOP) open first. UPCAST loops open last and lazily, after every reduction: a reduction over
 * UPCAST outputs keeps one accumulator per upcast element, and its loop nest becomes reduce loops around small
 * upcast loops — the register tile a compiler turns into vector code.
 */
public final class Linearizer {
  private static final class Block {
    final UOp range;
    final List<Object> items = new ArrayList<>();
    final Map<UOp, UOp> memo = new IdentityHashMap<>();
    Block(UOp range) { this.range = range; }
  }

  private final List<Block> stack = new ArrayList<>();
  private final Map<UOp, Set<UOp>> rangesOf = new IdentityHashMap<>();
  private final Map<UOp, Integer> levelOf = new IdentityHashMap<>(); // emitted node → depth of its loop
  private final Map<UOp, UOp> reduced = new IdentityHashMap<>(); // REDUCE → what reads its result
  private final PatternMatcher<UOp> rules;
  private List<UOp> pendingUpcast = List.of(); // this store's upcast loops, opened together at first use
  private int accs, freshIds = 1 << 20;

  private Linearizer(PatternMatcher<UOp> rules) { this.rules = rules; }

  /** Simplifies the AST, decomposes the ops outside {@code supported}, and returns its linearized program. */
  public static List<UOp> linearize(UOp ast, Set<Ops> supported) {
    var rules = Symbolic.RULES.plus(Decompositions.forMissing(supported));
    var sink = PatternMatcher.graphRewrite(ast, rules);
    var l = new Linearizer(rules);
    var top = new Block(null);
    l.stack.add(top);
    for (var store : sink.src()) {
      var outer = l.ranges(store).stream().filter(r -> r.axisType().compareTo(AxisType.LOOP) <= 0)
          .sorted(Comparator.comparing(UOp::axisType).thenComparingInt(UOp::axisId)).toList();
      for (var r : outer) l.open(r);
      l.pendingUpcast = l.ranges(store).stream().filter(r -> r.axisType() == AxisType.UPCAST)
          .sorted(Comparator.comparingInt(UOp::axisId)).toList();
      // reductions first, outermost where they can go: one inside another's value comes with it, unless it
      // depends on output loops only (e.g. a work-group's partial sums, read back by the group's final reduction)
      for (var u : store.toposort())
        if (u.op() == Ops.REDUCE && (!l.insideReduce(u, store) || l.ranges(u).stream().allMatch(r -> r.axisType().compareTo(AxisType.LOOP) <= 0))) l.accumulate(u);
      l.emit(store);
      while (l.stack.size() > 1) l.stack.removeLast();
    }
    var out = new ArrayList<UOp>();
    flatten(top, out);
    return out;
  }

  private Set<UOp> ranges(UOp u) {
    var done = rangesOf.get(u);
    if (done != null) return done;
    var s = new HashSet<UOp>();
    if (u.op() == Ops.RANGE) s.add(u);
    else {
      for (var src : u.src()) s.addAll(ranges(src));
      if (u.op() == Ops.REDUCE) u.src().subList(1, u.src().size()).forEach(s::remove);
    }
    rangesOf.put(u, s);
    return s;
  }

  /** True if red is reached from root only through the value of another REDUCE (it is emitted with that one). */
  private boolean insideReduce(UOp red, UOp root) {
    for (var u : root.toposort()) if (u != red && u.op() == Ops.REDUCE && u.src(0).allNodes().contains(red)) return true;
    return false;
  }

  private boolean isOpen(UOp range) {
    for (int i = stack.size() - 1; i > 0; i--) if (stack.get(i).range == range) return true;
    return false;
  }

  private void open(UOp range) {
    emit(range.src(0));
    var b = new Block(range);
    stack.getLast().items.add(b);
    stack.add(b);
  }

  /** Adds u to the block at depth level, before that block's open inner loop if it has one. */
  private void insert(int level, UOp u) {
    var items = stack.get(level).items;
    if (level < stack.size() - 1) items.add(items.size() - 1, u); else items.add(u);
    levelOf.put(u, level);
  }

  private UOp fresh(UOp range) { return UOp.range(range.rangeSize(), freshIds++, range.axisType()); }

  private static UOp flat(List<UOp> rs) {
    UOp idx = rs.getFirst();
    for (var r : rs.subList(1, rs.size())) idx = idx.mul(r.rangeSize()).add(r);
    return idx;
  }

  /**
   * Emits the loops of a reduction in the innermost open loop. Over upcast outputs the accumulator is an array
   * (initialized, then updated inside the reduce loops by a loop over fresh copies of the upcast ranges); the
   * result is read back where the upcast loops are opened later.
   */
  private void accumulate(UOp u) {
    if (reduced.containsKey(u)) return;
    var op = (Ops) u.arg();
    var upcast = ranges(u).stream().filter(r -> r.axisType() == AxisType.UPCAST && !isOpen(r))
        .sorted(Comparator.comparingInt(UOp::axisId)).toList();
    int size = upcast.stream().mapToInt(UOp::rangeSize).reduce(1, (a, b) -> a * b);
    int level = stack.size() - 1;
    var acc = UOp.of(Ops.DEFINE_ACC, u.dtype(), new UOp.Acc(accs++, size), emit(UOp.identity(op, u.dtype())));
    insert(level, acc);
    stack.get(level).memo.put(acc, acc);
    if (size == 1) {
      for (var r : u.src().subList(1, u.src().size())) open(r);
      var upd = combine(op, acc, u.src(0));
      stack.getLast().items.add(UOp.of(Ops.ASSIGN, u.dtype(), null, acc, upd));
      truncate(level);
      reduced.put(u, acc);
      return;
    }
    // init: acc[i] = identity for every upcast element
    var init = upcast.stream().map(this::fresh).toList();
    init.forEach(this::open);
    stack.getLast().items.add(UOp.of(Ops.STORE, DType.BOOL, null, acc, emit(flat(init)), emit(UOp.identity(op, u.dtype()))));
    truncate(level);
    // update: inside the reduce loops, a loop over the upcast elements
    for (var r : u.src().subList(1, u.src().size())) open(r);
    var copies = upcast.stream().map(this::fresh).toList();
    copies.forEach(this::open);
    var map = new HashMap<UOp, UOp>();
    for (int i = 0; i < upcast.size(); i++) map.put(upcast.get(i), copies.get(i));
    var idx = emit(flat(copies));
    var cur = emit(UOp.of(Ops.LOAD, u.dtype(), null, acc, idx));
    var upd = combine(op, cur, u.src(0).substitute(map));
    stack.getLast().items.add(UOp.of(Ops.STORE, DType.BOOL, null, acc, idx, upd));
    truncate(level);
    reduced.put(u, UOp.of(Ops.LOAD, u.dtype(), null, acc, flat(upcast)));
  }

  private void truncate(int level) { while (stack.size() - 1 > level) stack.removeLast(); }

  /** Emits u (and what it needs) into the outermost open loop holding all its sources; returns its linear form. */
  private UOp emit(UOp u) {
    if (u.op() == Ops.RANGE) {
      if (!isOpen(u)) { // upcast loops open where first needed, innermost, all together in a fixed order
        if (pendingUpcast.contains(u)) { var p = pendingUpcast; pendingUpcast = List.of(); p.forEach(this::open); }
        else open(u);
      }
      return u;
    }
    for (int i = stack.size() - 1; i >= 0; i--) {
      var done = stack.get(i).memo.get(u);
      if (done != null) return done;
    }
    if (u.op() == Ops.REDUCE) {
      accumulate(u);
      var r = reduced.get(u);
      return r.op() == Ops.DEFINE_ACC ? r : emit(r);
    }
    int level = 0;
    var src = new ArrayList<UOp>();
    for (var s : u.src()) {
      var e = emit(s);
      src.add(e);
      level = Math.max(level, e.op() == Ops.RANGE ? depthOf(e) : levelOf.get(e));
    }
    var out = u.withSrc(src);
    insert(level, out);
    stack.get(level).memo.put(u, out);
    return out;
  }

  /**
   * Appends the accumulate step acc op v to the innermost loop. It goes through the rules (so a device without MAX
   * gets no MAX) with acc and v as opaque leaves, so nothing already emitted is rebuilt; a sum of products becomes
   * MULACC, one fused multiply-add.
   */
  private UOp combine(Ops op, UOp acc, UOp value) {
    var a = UOp.of(Ops.DEFINE_GLOBAL, acc.dtype(), -1);
    var done = new IdentityHashMap<UOp, UOp>(Map.of(acc, acc));
    UOp step;
    if (op == Ops.ADD && value.op() == Ops.MUL && value.dtype().isFloat()) {
      var x = emit(value.src(0)); var y = emit(value.src(1));
      var px = UOp.of(Ops.DEFINE_GLOBAL, x.dtype(), -2); var py = UOp.of(Ops.DEFINE_GLOBAL, y.dtype(), -3);
      step = PatternMatcher.graphRewrite(UOp.alu(Ops.MULACC, px, py, a), rules).substitute(Map.of(a, acc, px, x, py, y));
      done.put(x, x);
      done.put(y, y);
    } else {
      var v = emit(value);
      var b = UOp.of(Ops.DEFINE_GLOBAL, v.dtype(), -2);
      step = PatternMatcher.graphRewrite(UOp.alu(op, a, b), rules).substitute(Map.of(a, acc, b, v));
      done.put(v, v);
    }
    return inner(step, done);
  }

  /** Appends n, already in linear form, to the innermost loop: its sources first, except those in done. */
  private UOp inner(UOp n, Map<UOp, UOp> done) {
    if (done.containsKey(n)) return n;
    done.put(n, n);
    if (n.isConst()) return emit(n);
    for (var s : n.src()) inner(s, done);
    stack.getLast().items.add(n);
    levelOf.put(n, stack.size() - 1);
    return n;
  }

  private int depthOf(UOp range) {
    for (int i = stack.size() - 1; i > 0; i--) if (stack.get(i).range == range) return i;
    throw new IllegalStateException("linearize: range " + range.arg() + " is used outside its loop");
  }

  private static void flatten(Block b, List<UOp> out) {
    if (b.range != null) out.add(b.range);
    for (var it : b.items) if (it instanceof Block c) flatten(c, out); else out.add((UOp) it);
    if (b.range != null) out.add(UOp.of(Ops.ENDRANGE, DType.INT32, null, b.range));
  }

  /**
   * How many elements each buffer parameter must hold for the program's memory accesses, from the value bounds of
   * their indices; throws if an index can be negative or can leave an accumulator. Gated loads and stores touch
   * memory only where their gate holds, so their index is not bounded here.
   */
  public static long[] needs(String name, List<UOp> prog, int buffers) { return needs(name, prog, buffers, new ArrayList<>()); }

  /**
   * As {@link #needs(String, List, int)}; an access whose index reads a variable (DEFINE_VAR) is added to sized
   * instead of the needs: its extent is known only at launch.
   */
  public static long[] needs(String name, List<UOp> prog, int buffers, List<ProgramSpec.Access> sized) {
    var needs = new long[buffers]; // a buffer the simplified program never touches (e.g. multiplied by zero) needs 0
    for (var u : prog) {
      if ((u.op() != Ops.LOAD && u.op() != Ops.STORE) || u.src().size() > (u.op() == Ops.LOAD ? 2 : 3)) continue; // gated
      var buf = u.src(0).op() == Ops.BARRIER ? u.src(0).src(0).src(0) : u.src(0); // a local buffer read after its barrier
      var idx = u.src(1);
      if (buf.op() == Ops.DEFINE_GLOBAL && idx.allNodes().stream().anyMatch(n -> n.op() == Ops.DEFINE_VAR)) { // known at launch
        sized.add(new ProgramSpec.Access((Integer) buf.arg(), idx));
        continue;
      }
      if (idx.vmin() < 0) throw new IllegalStateException("kernel " + name + ": an index into " + buf.op() + " " + buf.arg() + " can be " + idx.vmin());
      if ((buf.op() == Ops.DEFINE_ACC || buf.op() == Ops.DEFINE_LOCAL) && idx.vmax() >= ((UOp.Acc) buf.arg()).size())
        throw new IllegalStateException("kernel " + name + ": an index into " + buf.op() + " " + buf.arg() + " can be " + idx.vmax());
      if (buf.op() == Ops.DEFINE_GLOBAL) needs[(Integer) buf.arg()] = Math.max(needs[(Integer) buf.arg()], idx.vmax() + 1);
    }
    return needs;
  }

  /** A readable listing of a linearized program (DEBUG=4). */
  public static String format(String name, List<UOp> prog) {
    var sb = new StringBuilder("kernel ").append(name).append('\n');
    var pos = new IdentityHashMap<UOp, Integer>();
    int depth = 0;
    for (var u : prog) {
      if (u.op() == Ops.ENDRANGE) depth--;
      pos.put(u, pos.size());
      sb.append(String.format("%4d %s%-13s %-8s", pos.get(u), "  ".repeat(depth), u.op(), u.dtype().lowerName()));
      sb.append(" [");
      for (int i = 0; i < u.src().size(); i++) sb.append(i > 0 ? ", " : "").append(pos.get(u.src(i)));
      sb.append(']');
      if (u.arg() != null) sb.append("  ").append(u.arg());
      sb.append('\n');
      if (u.op() == Ops.RANGE) depth++;
    }
    return sb.toString();
  }
}
