package dev.tinygrad4j.uop;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * An ordered list of pattern → result rules, and the one engine that applies them. With UOp results the rules
 * rewrite graphs ({@link #graphRewrite}); the gradient table uses the same matcher with lists of UOps as results.
 *
 * @param <R> what a rule produces
 */
public final class PatternMatcher<R> {
  /** One rule: when pat matches, fn builds the result from the bindings (null: the rule does not apply). */
  public record Rule<R>(UPat pat, Function<Map<String, UOp>, R> fn) {}

  private final List<Rule<R>> rules;
  private final Map<Ops, List<Rule<R>>> byOp = new EnumMap<>(Ops.class);

  /** A matcher over these rules, tried in order. */
  public PatternMatcher(List<Rule<R>> rules) {
    this.rules = List.copyOf(rules);
    for (var op : Ops.values()) byOp.put(op, new ArrayList<>());
    for (var r : rules) {
      if (r.pat().ops() == null) byOp.values().forEach(l -> l.add(r));
      else r.pat().ops().forEach(op -> byOp.get(op).add(r));
    }
  }

  /** A rule. */
  public static <R> Rule<R> rule(UPat pat, Function<Map<String, UOp>, R> fn) { return new Rule<>(pat, fn); }

  /** This matcher's rules followed by another's. */
  public PatternMatcher<R> plus(PatternMatcher<R> other) {
    var all = new ArrayList<>(rules);
    all.addAll(other.rules);
    return new PatternMatcher<>(all);
  }

  /** The result of the first rule that matches u, or null; the rules also see the context bindings. */
  public R match(UOp u, Map<String, UOp> context) {
    for (var r : byOp.get(u.op())) {
      var b = new HashMap<>(context);
      if (r.pat().match(u, b)) {
        var out = r.fn().apply(b);
        if (out != null && out != u) return out;
      }
    }
    return null;
  }

  /** Rewrites the graph under root bottom-up until no rule applies anywhere. */
  public static UOp graphRewrite(UOp root, PatternMatcher<UOp> pm) { return rewrite(root, pm, new IdentityHashMap<>()); }

  private static UOp rewrite(UOp u, PatternMatcher<UOp> pm, Map<UOp, UOp> memo) {
    var done = memo.get(u);
    if (done != null) return done;
    var src = new ArrayList<UOp>(u.src().size());
    for (var s : u.src()) src.add(rewrite(s, pm, memo));
    var n = u.withSrc(src);
    var r = pm.match(n, Map.of());
    var out = r == null ? n : rewrite(r, pm, memo);
    memo.put(u, out);
    memo.put(n, out);
    return out;
  }
}
