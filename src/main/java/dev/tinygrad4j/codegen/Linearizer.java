package dev.tinygrad4j.codegen;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.uop.Ops;
import dev.tinygrad4j.uop.PatternMatcher;
import dev.tinygrad4j.uop.Symbolic;
import dev.tinygrad4j.uop.UOp;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns a kernel AST into a flat list of UOps: loops (RANGE … ENDRANGE), accumulators (DEFINE_ACC, ASSIGN), loads,
 * ALU ops and stores. Each node is placed in the outermost open loop that holds all its sources, so loop-invariant
 * work is hoisted for free.
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
  private final PatternMatcher<UOp> rules;
  private int accs;

  private Linearizer(PatternMatcher<UOp> rules) { this.rules = rules; }

  /** Simplifies the AST and returns its linearized program. */
  public static List<UOp> linearize(UOp ast) { return linearize(ast, EnumSet.allOf(Ops.class)); }

  /** Simplifies the AST, decomposes the ops outside {@code supported}, and returns its linearized program. */
  public static List<UOp> linearize(UOp ast, Set<Ops> supported) {
    var rules = Symbolic.RULES.plus(Decompositions.forMissing(supported));
    var sink = PatternMatcher.graphRewrite(ast, rules);
    var l = new Linearizer(rules);
    var top = new Block(null);
    l.stack.add(top);
    for (var store : sink.src()) {
      var outer = new ArrayList<>(l.ranges(store));
      outer.sort(Comparator.comparingInt(r -> (Integer) r.arg()));
      for (var r : outer) l.open(r);
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
  }

  /** Emits u (and what it needs) into the outermost open loop holding all its sources; returns its linear form. */
  private UOp emit(UOp u) {
    if (u.op() == Ops.RANGE) return u;
    for (int i = stack.size() - 1; i >= 0; i--) {
      var done = stack.get(i).memo.get(u);
      if (done != null) return done;
    }
    int level = 0;
    UOp out;
    if (u.op() == Ops.REDUCE) {
      level = stack.size() - 1; // the accumulator lives in the innermost open loop
      out = UOp.of(Ops.DEFINE_ACC, u.dtype(), accs++, emit(UOp.identity((Ops) u.arg(), u.dtype())));
      insert(level, out);
      for (var r : u.src().subList(1, u.src().size())) open(r);
      var v = emit(u.src(0));
      // the combining step goes through the same rules, so a device without MAX gets no MAX here either
      var upd = inner(PatternMatcher.graphRewrite(UOp.alu((Ops) u.arg(), out, v), rules), new IdentityHashMap<>(Map.of(out, out, v, v)));
      stack.getLast().items.add(UOp.of(Ops.ASSIGN, u.dtype(), null, out, upd));
      for (int i = 1; i < u.src().size(); i++) stack.removeLast();
    } else {
      var src = new ArrayList<UOp>();
      for (var s : u.src()) {
        var e = emit(s);
        src.add(e);
        level = Math.max(level, e.op() == Ops.RANGE ? depthOf(e) : levelOf.get(e));
      }
      out = u.withSrc(src);
      insert(level, out);
    }
    levelOf.put(out, level);
    stack.get(level).memo.put(u, out);
    return out;
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
    throw new IllegalStateException("linearize: " + range.op() + " " + range.arg() + " is used outside its loop");
  }

  private static void flatten(Block b, List<UOp> out) {
    if (b.range != null) out.add(b.range);
    for (var it : b.items) if (it instanceof Block c) flatten(c, out); else out.add((UOp) it);
    if (b.range != null) out.add(UOp.of(Ops.ENDRANGE, DType.INT32, null, b.range));
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
