package dev.tinygrad4j.codegen;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.uop.Ops;
import dev.tinygrad4j.uop.PatternMatcher;
import dev.tinygrad4j.uop.Symbolic;
import dev.tinygrad4j.uop.UOp;
import dev.tinygrad4j.uop.UOp.AxisType;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.IntUnaryOperator;

/**
 * The vector-lane pass: which innermost UPCAST loops of a linearized program run as float32 vector lanes, the
 * register tile around them unrolled into straight-line rows, and which accumulator arrays are then only touched at
 * constant offsets (so they live in vector registers). Its result, a {@link Plan}, is what renderers print.
 */
public final class Lanes {
  private Lanes() {}

  /** How much of the pass a kernel gets: tiles unrolled around vector loops, vector loops only, or none. */
  public enum Form { TILES, VECTORS, SCALAR }

  /**
   * The pass's result: the program (tile loops unrolled), its vector loops with the nodes that vary per lane,
   * accumulators kept as vectors (with their offsets and width), and the widths the target has.
   */
  public record Plan(List<UOp> linear, Map<UOp, Set<UOp>> loops, Map<UOp, Set<Long>> promoted, Map<UOp, Integer> accWidth, List<Integer> widths) {
    /** The lanes a loop of n elements runs as: the widest the target has that divides n, else its narrowest. */
    public int width(int n) { return widthOf(widths, n); }
  }

  /** Vector loops this short become straight-line code (constant offsets: accumulators can be vector variables). */
  public static final int MAX_CHUNKS = 4;

  private static int widthOf(List<Integer> widths, int n) {
    for (int w : widths) if (n % w == 0) return w;
    return widths.isEmpty() ? 1 : widths.getLast();
  }

  /** Runs the pass in the given form for a target with these vector widths (widest first; empty: none). */
  public static Plan plan(List<UOp> prog, List<Integer> widths, boolean max, Form form) {
    if (widths.isEmpty() || form == Form.SCALAR) return new Plan(prog, Map.of(), Map.of(), Map.of(), widths);
    IntUnaryOperator widthOf = n -> widthOf(widths, n);
    if (form == Form.TILES) prog = unrollTiles(prog, widthOf, max);
    var loops = vectorLoops(prog, widthOf, max);
    var promoted = promotable(prog, loops, widthOf, MAX_CHUNKS);
    var accWidth = new IdentityHashMap<UOp, Integer>();
    for (int pc = 0; pc < prog.size(); pc++) // the width of the loops that touch each promoted accumulator
      if (loops.containsKey(prog.get(pc)))
        for (var u : prog.subList(pc + 1, endOf(prog, pc)))
          if ((u.op() == Ops.LOAD || u.op() == Ops.STORE) && promoted.containsKey(u.src(0))) accWidth.put(u.src(0), widthOf.applyAsInt(prog.get(pc).rangeSize()));
    return new Plan(prog, loops, promoted, accWidth, widths);
  }

  /** The index of the ENDRANGE closing the RANGE at pc. */
  public static int endOf(List<UOp> prog, int pc) {
    int end = pc + 1;
    while (prog.get(end).op() != Ops.ENDRANGE || prog.get(end).src(0) != prog.get(pc)) end++;
    return end;
  }

  /**
   * The nodes of loop r's body that vary with r, if the loop can run as vectors of width lanes; else null. Vector
   * ops are float32 ADD, MUL, MULACC, NEG (and MAX if allowed), loads and stores of float32 arrays at r plus an
   * invariant offset; int32 index sums of r stay scalar (the chunk's first lane).
   */
  private static Set<UOp> vectorizable(UOp r, List<UOp> body, IntUnaryOperator widthOf, boolean max) {
    if (r.op() != Ops.RANGE || r.axisType() != AxisType.UPCAST) return null;
    int width = widthOf.applyAsInt(r.rangeSize());
    if (width <= 1 || r.rangeSize() < width) return null;
    var varying = Collections.newSetFromMap(new IdentityHashMap<UOp, Boolean>());
    varying.add(r);
    var index = Collections.newSetFromMap(new IdentityHashMap<UOp, Boolean>());
    index.add(r);
    for (var n : body) {
      if (n.op() == Ops.RANGE) return null;
      if (n.src().stream().noneMatch(varying::contains)) continue;
      varying.add(n);
      boolean ok = switch (n.op()) {
        case ADD -> n.dtype() == DType.FLOAT32 || n.dtype() == DType.INT32 && n.src().stream().filter(varying::contains).count() == 1
            && n.src().stream().anyMatch(x -> x == r) && index.add(n);
        case MUL, MULACC, NEG -> n.dtype() == DType.FLOAT32;
        case MAX -> max && n.dtype() == DType.FLOAT32;
        case LOAD -> n.src().size() == 2 && floatArray(n.src(0)) && index.contains(n.src(1));
        case STORE -> n.src().size() == 3 && floatArray(n.src(0)) && index.contains(n.src(1)) && n.src(2).dtype() == DType.FLOAT32;
        default -> false;
      };
      if (!ok) return null;
    }
    // an index may only address memory; float ops may not consume one
    for (var n : body) for (int i = 0; i < n.src().size(); i++)
      if (index.contains(n.src(i)) && !((n.op() == Ops.LOAD || n.op() == Ops.STORE) && i == 1) && !index.contains(n)) return null;
    return varying;
  }

  private static boolean floatArray(UOp buf) {
    return buf.dtype() == DType.FLOAT32 && (buf.op() == Ops.DEFINE_GLOBAL || buf.op() == Ops.DEFINE_ACC && ((UOp.Acc) buf.arg()).size() > 1);
  }

  /** The vector loops of prog with their varying nodes. */
  private static Map<UOp, Set<UOp>> vectorLoops(List<UOp> prog, IntUnaryOperator width, boolean max) {
    var out = new IdentityHashMap<UOp, Set<UOp>>();
    for (int pc = 0; pc < prog.size(); pc++) {
      if (prog.get(pc).op() != Ops.RANGE) continue;
      var varying = vectorizable(prog.get(pc), prog.subList(pc + 1, endOf(prog, pc)), width, max);
      if (varying != null) out.put(prog.get(pc), varying);
    }
    return out;
  }

  private static final int MAX_UNROLLED = 3000; // linear nodes: generated code stays reasonable (JVM: under 64 KB)

  /**
   * Unrolls the UPCAST loops around vector loops, so a register tile's rows become straight-line code and its
   * accumulator vectors can stay in registers; the copies get the loop index as a folded constant.
   */
  private static List<UOp> unrollTiles(List<UOp> prog, IntUnaryOperator width, boolean max) {
    var cur = prog;
    int fresh = 1 << 24; // ids for the copies of inner loops, above any the kernel has
    for (boolean changed = true; changed; ) {
      changed = false;
      for (int pc = 0; pc < cur.size() && !changed; pc++) {
        var r = cur.get(pc);
        if (r.op() != Ops.RANGE || r.axisType() != AxisType.UPCAST || r.rangeSize() > 32) continue;
        int end = endOf(cur, pc);
        var body = cur.subList(pc + 1, end);
        boolean holdsVectorLoop = false; // only tiles around vector lanes are worth the code
        for (int i = pc + 1; i < end; i++)
          if (cur.get(i).op() == Ops.RANGE && vectorizable(cur.get(i), cur.subList(i + 1, endOf(cur, i)), width, max) != null) holdsVectorLoop = true;
        if (!holdsVectorLoop) continue;
        if (cur.size() + (long) body.size() * (r.rangeSize() - 1) > MAX_UNROLLED) continue;
        var out = new ArrayList<UOp>(cur.subList(0, pc));
        for (int i = 0; i < r.rangeSize(); i++) {
          var map = new HashMap<UOp, UOp>(Map.of(r, UOp.idx(i)));
          for (var u : body) if (u.op() == Ops.RANGE) map.put(u, UOp.range(u.rangeSize(), fresh++, u.axisType()));
          for (var u : body) out.add(PatternMatcher.graphRewrite(u.substitute(map), Symbolic.CONSTANT_FOLDING));
        }
        out.addAll(cur.subList(end + 1, cur.size()));
        cur = out;
        changed = true;
      }
    }
    return cur;
  }

  /** The constant element offset of index node idx in chunk k of vector loop r, or null if not constant. */
  public static Long constOffset(UOp idx, UOp r, int k, int width) {
    if (idx == r) return (long) k * width;
    if (idx.op() == Ops.ADD && idx.src(1) == r && idx.src(0).isConst()) return idx.src(0).asLong() + (long) k * width;
    if (idx.op() == Ops.ADD && idx.src(0) == r && idx.src(1).isConst()) return idx.src(1).asLong() + (long) k * width;
    return null;
  }

  /**
   * Accumulator arrays whose every access is a vector in a straight-line vector loop (at most maxChunks chunks, all of
   * one width) at a constant offset, with the offsets used: such an accumulator can live in vector registers.
   */
  private static Map<UOp, Set<Long>> promotable(List<UOp> prog, Map<UOp, Set<UOp>> vectorLoops, IntUnaryOperator widthOf, int maxChunks) {
    var widths = new IdentityHashMap<UOp, Integer>();
    var owner = new IdentityHashMap<UOp, UOp>(); // body node → its vector loop range
    for (int pc = 0; pc < prog.size(); pc++) {
      var r = prog.get(pc);
      if (vectorLoops.containsKey(r)) for (var u : prog.subList(pc + 1, endOf(prog, pc))) owner.put(u, r);
    }
    var candidates = new IdentityHashMap<UOp, Set<Long>>();
    var rejected = Collections.newSetFromMap(new IdentityHashMap<UOp, Boolean>());
    for (var u : prog) {
      if (u.op() != Ops.LOAD && u.op() != Ops.STORE || u.src(0).op() != Ops.DEFINE_ACC || u.src(0).dtype() != DType.FLOAT32) continue;
      var acc = u.src(0);
      var r = owner.get(u);
      int width = r == null ? 1 : widthOf.applyAsInt(r.rangeSize());
      if (r == null || widths.merge(acc, width, (a, b) -> a.equals(b) ? a : -1) < 0 || r.rangeSize() / width > maxChunks || r.rangeSize() % width != 0 || constOffset(u.src(1), r, 0, width) == null
          || constOffset(u.src(1), r, 0, width) % width != 0) {
        rejected.add(acc);
        continue;
      }
      for (int k = 0; k < r.rangeSize() / width; k++) candidates.computeIfAbsent(acc, a -> new TreeSet<>()).add(constOffset(u.src(1), r, k, width));
    }
    candidates.keySet().removeAll(rejected);
    return candidates;
  }
}
