package dev.tinygrad4j.uop;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** An ordered list of pattern → rewrite rules, and the one engine that applies rules to a graph. */
public final class PatternMatcher {
  /** One rule: when pat matches, fn builds the replacement from the bindings (null: no change). */
  public record Rule(UPat pat, Function<Map<String, UOp>, UOp> fn) {}

  private final List<Rule> rules;
  private final Map<Ops, List<Rule>> byOp = new EnumMap<>(Ops.class);
  private final List<Rule> anyOp = new ArrayList<>();

  /** A matcher over these rules, tried in order. */
  public PatternMatcher(List<Rule> rules) {
    this.rules = List.copyOf(rules);
    for (var op : Ops.values()) byOp.put(op, new ArrayList<>());
    for (var r : rules) {
      if (r.pat().ops() == null) byOp.values().forEach(l -> l.add(r));
      else r.pat().ops().forEach(op -> byOp.get(op).add(r));
    }
  }

  /** A rule. */
  public static Rule rule(UPat pat, Function<Map<String, UOp>, UOp> fn) { return new Rule(pat, fn); }

  /** This matcher's rules followed by another's. */
  public PatternMatcher plus(PatternMatcher other) {
    var all = new ArrayList<>(rules);
    all.addAll(other.rules);
    return new PatternMatcher(all);
  }

  /** The result of the first rule that matches u and returns a node, or null. */
  public UOp rewrite(UOp u) {
    for (var r : byOp.get(u.op())) {
      var b = new HashMap<String, UOp>();
      if (r.pat().match(u, b)) {
        var out = r.fn().apply(b);
        if (out != null && out != u) return out;
      }
    }
    return null;
  }

  /** Rewrites the graph under root bottom-up until no rule applies anywhere. */
  public UOp graphRewrite(UOp root) { return rewrite(root, new IdentityHashMap<>()); }

  private UOp rewrite(UOp u, Map<UOp, UOp> memo) {
    var done = memo.get(u);
    if (done != null) return done;
    var src = new ArrayList<UOp>(u.src().size());
    for (var s : u.src()) src.add(rewrite(s, memo));
    var n = u.withSrc(src);
    var r = rewrite(n);
    var out = r == null ? n : rewrite(r, memo);
    memo.put(u, out);
    memo.put(n, out);
    return out;
  }
}
