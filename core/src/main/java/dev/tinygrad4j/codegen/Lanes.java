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
   * accumulators kept as vector variables (each one's element offset → its width), and the widths the target has.
   */
  public record Plan(List<UOp> linear, Map<UOp, Set<UOp>> loops, Map<UOp, Map<Long, Integer>> promoted, List<Integer> widths) {
    /** How a vector loop of n elements runs on this target. */
    public Layout layout(int n) { return Lanes.layout(widths, n); }
  }

  /** A straight-line piece of a vector loop: width lanes from element start. */
  public record Chunk(int start, int width) {}

  /**
   * How a vector loop of n elements runs: a loop stepping by the widest vector up to loopEnd (0: no loop), then
   * straight-line chunks, widest first (width 1, where the target lists it: one element at a constant offset), then
   * the elements from tail on one at a time.
   */
  public record Layout(int step, int loopEnd, List<Chunk> chunks, int tail) {
    /** Whether every element is in a straight-line chunk (offsets constant: accumulators can be vector variables). */
    public boolean straight(int n) { return loopEnd == 0 && tail == n; }
  }

  /** Loops longer than this many of the widest vectors step through a loop; shorter ones become straight-line code. */
  public static final int MAX_CHUNKS = 4;

  static Layout layout(List<Integer> widths, int n) {
    if (widths.isEmpty()) return new Layout(1, 0, List.of(), 0);
    int widest = widths.getFirst(), loopEnd = n > MAX_CHUNKS * widest ? n / widest * widest : 0, at = loopEnd;
    var chunks = new ArrayList<Chunk>();
    for (int w : widths) for (; n - at >= w; at += w) chunks.add(new Chunk(at, w));
    return new Layout(widest, loopEnd, List.copyOf(chunks), at);
  }

  /** Runs the pass in the given form for a target with these vector widths (widest first; empty: none). */
  public static Plan plan(List<UOp> prog, List<Integer> widths, Set<Ops> ops, Form form) {
    if (widths.isEmpty() || form == Form.SCALAR) return new Plan(prog, Map.of(), Map.of(), widths);
    if (form == Form.TILES) prog = unrollTiles(prog, widths, ops);
    var loops = vectorLoops(prog, widths, ops);
    return new Plan(prog, loops, promotable(prog, loops, widths), widths);
  }

  /** The index of the ENDRANGE closing the RANGE at pc. */
  public static int endOf(List<UOp> prog, int pc) {
    int end = pc + 1;
    while (prog.get(end).op() != Ops.ENDRANGE || prog.get(end).src(0) != prog.get(pc)) end++;
    return end;
  }

  /**
   * The nodes of loop r's body that vary with r, if the loop can run as vectors; else null. Vector ops are float32
   * ADD, MUL, MULACC, NEG (MAX; CAST to float32 of an integer buffer's load; WHERE: float32 comparisons, their masks'
   * AND, OR, XOR, WHERE and CAST to float32 — where the target has them), loads and
   * stores of float32 arrays at r plus an invariant offset, and
   * stores to a buffer at r times a constant plus an offset (lane by lane); int32 index nodes stay scalar (the
   * chunk's first lane).
   */
  private static Set<UOp> vectorizable(UOp r, List<UOp> body, List<Integer> widths, Set<Ops> ops) {
    if (r.op() != Ops.RANGE || r.axisType() != AxisType.UPCAST || r.rangeSize() < narrowest(widths)) return null;
    var varying = Collections.newSetFromMap(new IdentityHashMap<UOp, Boolean>());
    varying.add(r);
    var index = Collections.newSetFromMap(new IdentityHashMap<UOp, Boolean>());
    index.add(r);
    var narrow = Collections.newSetFromMap(new IdentityHashMap<UOp, Boolean>()); // integer loads (CAST's input)
    for (var n : body) {
      if (n.op() == Ops.RANGE) return null;
      if (n.src().stream().noneMatch(varying::contains)) continue;
      varying.add(n);
      boolean ok = switch (n.op()) {
        case ADD, MUL -> n.dtype() == DType.FLOAT32 || n.dtype() == DType.INT32 && n.src().stream().filter(varying::contains).count() == 1
            && n.src().stream().anyMatch(index::contains) && (n.op() == Ops.ADD || n.src().stream().anyMatch(UOp::isConst)) && index.add(n);
        case MULACC, NEG -> n.dtype() == DType.FLOAT32;
        case MAX -> ops.contains(Ops.MAX) && n.dtype() == DType.FLOAT32;
        case CAST -> ops.contains(Ops.CAST) && n.dtype() == DType.FLOAT32 && narrow.contains(n.src(0))
            || ops.contains(Ops.WHERE) && n.dtype() == DType.FLOAT32 && n.src(0).dtype() == DType.BOOL;
        case CMPLT, CMPEQ, CMPNE -> ops.contains(Ops.WHERE) && n.src(0).dtype() == DType.FLOAT32;
        case OR, AND, XOR -> ops.contains(Ops.WHERE) && n.dtype() == DType.BOOL;
        case WHERE -> ops.contains(Ops.WHERE) && n.dtype() == DType.FLOAT32;
        case LOAD -> n.src().size() == 2 && index.contains(n.src(1)) && stride(n.src(1), r) == 1L
            && (floatArray(n.src(0)) || ops.contains(Ops.CAST) && n.src(0).op() == Ops.DEFINE_GLOBAL && converts(n.dtype()) && narrow.add(n));
        case STORE -> n.src().size() == 3 && floatArray(n.src(0)) && index.contains(n.src(1)) && n.src(2).dtype() == DType.FLOAT32
            && (stride(n.src(1), r) == 1L || n.src(0).op() == Ops.DEFINE_GLOBAL && stride(n.src(1), r) != 0L);
        default -> false;
      };
      if (!ok) return null;
    }
    // an index may only address memory; float ops may not consume one; integer loads only feed casts to float
    for (var n : body) for (int i = 0; i < n.src().size(); i++) {
      if (index.contains(n.src(i)) && !((n.op() == Ops.LOAD || n.op() == Ops.STORE) && i == 1) && !index.contains(n)) return null;
      if (narrow.contains(n.src(i)) && n.op() != Ops.CAST) return null;
    }
    return varying;
  }

  /** Integer element types a vector load converts to float32 (CAST): 8, 16 and 32 bits. */
  public static boolean converts(DType dt) {
    return switch (dt) { case INT8, UINT8, INT16, UINT16, INT32, UINT32 -> true; default -> false; };
  }

  /** The narrowest vector of these widths (a width of 1 is a scalar chunk, not a vector). */
  private static int narrowest(List<Integer> widths) {
    return widths.stream().filter(w -> w > 1).mapToInt(Integer::intValue).min().orElse(Integer.MAX_VALUE);
  }

  /**
   * How far index idx moves per step of range r: exact where r enters only through sums and products by constants
   * (an index node of a vector loop), 0 where idx does not depend on r, null where it depends on it otherwise.
   */
  public static Long stride(UOp idx, UOp r) {
    if (idx == r) return 1L;
    if (!idx.allNodes().contains(r)) return 0L;
    if (idx.op() == Ops.ADD) {
      Long a = stride(idx.src(0), r), b = stride(idx.src(1), r);
      return a == null || b == null ? null : a + b;
    }
    if (idx.op() == Ops.MUL && (idx.src(0).isConst() || idx.src(1).isConst())) {
      int c = idx.src(1).isConst() ? 1 : 0;
      Long a = stride(idx.src(1 - c), r);
      return a == null ? null : a * idx.src(c).asLong();
    }
    return null;
  }

  private static boolean floatArray(UOp buf) {
    return buf.dtype() == DType.FLOAT32 && (buf.op() == Ops.DEFINE_GLOBAL || buf.op() == Ops.DEFINE_ACC && ((UOp.Acc) buf.arg()).size() > 1);
  }

  /** The vector loops of prog with their varying nodes. */
  private static Map<UOp, Set<UOp>> vectorLoops(List<UOp> prog, List<Integer> width, Set<Ops> ops) {
    var out = new IdentityHashMap<UOp, Set<UOp>>();
    for (int pc = 0; pc < prog.size(); pc++) {
      if (prog.get(pc).op() != Ops.RANGE) continue;
      var varying = vectorizable(prog.get(pc), prog.subList(pc + 1, endOf(prog, pc)), width, ops);
      if (varying != null) out.put(prog.get(pc), varying);
    }
    return out;
  }

  private static final int MAX_UNROLLED = 3000; // linear nodes: generated code stays reasonable (JVM: under 64 KB)

  /**
   * Unrolls the UPCAST loops around vector loops, so a register tile's rows become straight-line code and its
   * accumulator vectors can stay in registers; the copies get the loop index as a folded constant.
   */
  private static List<UOp> unrollTiles(List<UOp> prog, List<Integer> width, Set<Ops> ops) {
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
          if (cur.get(i).op() == Ops.RANGE && vectorizable(cur.get(i), cur.subList(i + 1, endOf(cur, i)), width, ops) != null) holdsVectorLoop = true;
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

  /** The constant element offset of index node idx at element start of vector loop r, or null if not constant. */
  public static Long constOffset(UOp idx, UOp r, int start) {
    if (idx == r) return (long) start;
    if (idx.op() == Ops.ADD && idx.src(1) == r && idx.src(0).isConst()) return idx.src(0).asLong() + start;
    if (idx.op() == Ops.ADD && idx.src(0) == r && idx.src(1).isConst()) return idx.src(1).asLong() + start;
    return null;
  }

  /**
   * Accumulator arrays whose every access is a vector in a straight-line vector loop at a constant offset, with each
   * chunk's offset and width (the chunks of all accesses must not overlap unless equal): such an accumulator can live
   * in vector variables.
   */
  private static Map<UOp, Map<Long, Integer>> promotable(List<UOp> prog, Map<UOp, Set<UOp>> vectorLoops, List<Integer> widths) {
    var owner = new IdentityHashMap<UOp, UOp>(); // body node → its vector loop range
    for (int pc = 0; pc < prog.size(); pc++) {
      var r = prog.get(pc);
      if (vectorLoops.containsKey(r)) for (var u : prog.subList(pc + 1, endOf(prog, pc))) owner.put(u, r);
    }
    var candidates = new IdentityHashMap<UOp, Map<Long, Integer>>();
    var rejected = Collections.newSetFromMap(new IdentityHashMap<UOp, Boolean>());
    for (var u : prog) {
      if (u.op() != Ops.LOAD && u.op() != Ops.STORE || u.src(0).op() != Ops.DEFINE_ACC || u.src(0).dtype() != DType.FLOAT32) continue;
      var acc = u.src(0);
      var r = owner.get(u);
      var layout = r == null ? null : layout(widths, r.rangeSize());
      if (r == null || !layout.straight(r.rangeSize()) || constOffset(u.src(1), r, 0) == null) {
        rejected.add(acc);
        continue;
      }
      var chunks = candidates.computeIfAbsent(acc, a -> new java.util.TreeMap<>());
      for (var c : layout.chunks())
        if (chunks.merge(constOffset(u.src(1), r, c.start()), c.width(), (a, b) -> a.equals(b) ? a : -1) < 0) rejected.add(acc);
    }
    for (var e : candidates.entrySet()) { // chunks of different loops that overlap cannot be separate variables
      long end = Long.MIN_VALUE;
      for (var c : e.getValue().entrySet()) {
        if (c.getKey() < end) rejected.add(e.getKey());
        end = c.getKey() + c.getValue();
      }
    }
    candidates.keySet().removeAll(rejected);
    return candidates;
  }
}
