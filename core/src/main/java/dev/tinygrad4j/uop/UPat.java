package dev.tinygrad4j.uop;

import dev.tinygrad4j.DType;

import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * A pattern over UOps: which ops, which dtypes, which sources (null: any), an optional test, and a name to bind the
 * matched node to. Commutative binary ops also match with their two sources swapped. A name used twice must bind
 * the same node both times.
 */
public record UPat(Set<Ops> ops, Set<DType> dtypes, List<UPat> src, Predicate<UOp> test, String name) {

  /** Any node, bound to name. */
  public static UPat var(String name) { return new UPat(null, null, null, null, name); }
  /** Any CONST, bound to name. */
  public static UPat cvar(String name) { return new UPat(EnumSet.of(Ops.CONST), null, null, null, name); }
  /** A CONST whose value is v. */
  public static UPat cnst(double v) { return new UPat(EnumSet.of(Ops.CONST), null, null, u -> u.asDouble() == v, null); }
  /** A node with this op and these sources (no sources given: any sources). */
  public static UPat op(Ops op, UPat... src) { return new UPat(EnumSet.of(op), null, src.length == 0 ? null : List.of(src), null, null); }
  /** A node with one of these ops and any sources. */
  public static UPat any(Set<Ops> ops) { return new UPat(EnumSet.copyOf(ops), null, null, null, null); }

  /** This pattern, binding the matched node to name. */
  public UPat named(String n) { return new UPat(ops, dtypes, src, test, n); }
  /** This pattern, restricted to these dtypes. */
  public UPat dtype(DType... dts) { return new UPat(ops, EnumSet.of(dts[0], dts), src, test, name); }
  /** This pattern, restricted to int dtypes (and bool). */
  public UPat ints() { return where(u -> !u.dtype().isFloat()); }
  /** This pattern, with an extra test on the node. */
  public UPat where(Predicate<UOp> t) { return new UPat(ops, dtypes, src, test == null ? t : test.and(t), name); }

  /** Matches u, adding bindings on success; on failure the bindings are left as they were. */
  public boolean match(UOp u, Map<String, UOp> b) {
    if (ops != null && !ops.contains(u.op())) return false;
    if (dtypes != null && !dtypes.contains(u.dtype())) return false;
    if (name != null && b.containsKey(name) && b.get(name) != u) return false;
    if (src != null) {
      if (src.size() != u.src().size()) return false;
      if (!matchSrc(u.src(), src, b)) {
        if (src.size() != 2 || !u.op().isCommutative() || !matchSrc(u.src(), List.of(src.get(1), src.get(0)), b)) return false;
      }
    }
    if (test != null && !test.test(u)) return false; // after the sources, so tests may look into them
    if (name != null) b.put(name, u);
    return true;
  }

  private static boolean matchSrc(List<UOp> us, List<UPat> ps, Map<String, UOp> b) {
    var trial = new HashMap<>(b);
    for (int i = 0; i < ps.size(); i++) if (!ps.get(i).match(us.get(i), trial)) return false;
    b.putAll(trial);
    return true;
  }
}
