package dev.tinygrad4j;

import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * {@link Tensor#einsum}: "..." becomes labels of its own, right-aligned; a label repeated in one operand takes the
 * diagonal; the operands, brought to one label order (output labels first), are multiplied and summed over the other
 * labels — a product and a reduction the scheduler fuses into one kernel.
 */
final class Einsum {
  private Einsum() {}

  static Tensor apply(String formula, Tensor... operands) {
    var sides = formula.replace(" ", "").split("->", -1);
    var lhs = sides[0].split(",", -1);
    if (sides.length > 2 || lhs.length != operands.length)
      throw new IllegalArgumentException("einsum: '" + formula + "' names " + lhs.length + " operands, got " + operands.length);
    int ell = 0;
    for (int k = 0; k < lhs.length; k++) if (lhs[k].contains("...")) ell = Math.max(ell, operands[k].ndim() - lhs[k].replace("...", "").length());
    var ops = new String[lhs.length];
    for (int k = 0; k < lhs.length; k++) {
      int e = operands[k].ndim() - lhs[k].replace("...", "").length();
      ops[k] = lhs[k].replace("...", ellipsis(ell - e, ell));
      if (ops[k].length() != operands[k].ndim() || ops[k].chars().anyMatch(ch -> ch < 'A' || ch > 'z' && ch < 0x100 || ch > 'Z' && ch < 'a'))
        throw new IllegalArgumentException("einsum: term '" + lhs[k] + "' of '" + formula + "' does not fit operand " + k + " of shape " + Arrays.toString(operands[k].shape()));
    }
    if (ell > 0 && sides.length > 1 && !sides[1].contains("..."))
      throw new IllegalArgumentException("einsum: '" + formula + "' has an ellipsis on the left only");
    var all = String.join("", ops);
    String out = sides.length > 1 ? sides[1].replace("...", ellipsis(0, ell)) : ellipsis(0, ell) + all.chars()
        .filter(ch -> ch < 0x100 && all.indexOf(ch) == all.lastIndexOf(ch)).sorted().collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append);
    if (out.chars().anyMatch(ch -> all.indexOf(ch) < 0 || out.indexOf(ch) != out.lastIndexOf(ch)))
      throw new IllegalArgumentException("einsum: output '" + (sides.length > 1 ? sides[1] : out) + "' of '" + formula + "' names a label twice or one no operand has");
    var order = new StringBuilder(out);
    all.chars().filter(ch -> order.indexOf(String.valueOf((char) ch)) < 0).forEach(ch -> order.append((char) ch));
    var size = new int[0x200];
    Arrays.fill(size, -1);
    Tensor y = null;
    for (int k = 0; k < ops.length; k++) {
      var t = operands[k];
      var labels = ops[k];
      for (int p = 0; p < labels.length(); p++) {
        char ch = labels.charAt(p);
        int n = t.shape()[p];
        if (size[ch] >= 0 && size[ch] != n && size[ch] != 1 && n != 1)
          throw new IllegalArgumentException("einsum: label '" + (ch < 0x100 ? String.valueOf(ch) : "...") + "' of '" + formula + "' is " + size[ch] + " and " + n);
        size[ch] = Math.max(size[ch], n);
      }
      for (int p = 0; p < labels.length(); p++) {
        int q = labels.indexOf(labels.charAt(p), p + 1);
        if (q < 0) continue;
        t = diagonal(t, p, q);
        labels = labels.substring(0, p) + labels.substring(p + 1, q) + labels.substring(q + 1) + labels.charAt(p);
        p = -1;
      }
      var have = labels;
      var s = t.shape();
      var perm = order.chars().filter(ch -> have.indexOf(ch) >= 0).map(have::indexOf).toArray();
      t = t.permute(perm).reshape(order.chars().map(ch -> have.indexOf(ch) >= 0 ? s[have.indexOf(ch)] : 1).toArray());
      y = y == null ? t : y.mul(t);
    }
    if (y == null) throw new IllegalArgumentException("einsum: no operands");
    return order.length() > out.length() ? y.sum(IntStream.range(out.length(), order.length()).toArray()) : y;
  }

  /** Labels for the ellipsis dims from..to (past the letters). */
  private static String ellipsis(int from, int to) {
    return IntStream.range(from, to).collect(StringBuilder::new, (b, i) -> b.append((char) (0x100 + i)), StringBuilder::append).toString();
  }

  /** The diagonal of dims p and q (one size), as the last dim; the others keep their order. */
  private static Tensor diagonal(Tensor x, int p, int q) {
    int r = x.ndim();
    if (x.shape()[p] != x.shape()[q])
      throw new IllegalArgumentException("einsum: a label repeated in one operand needs equal sizes, got " + x.shape()[p] + " and " + x.shape()[q]);
    var y = x.permute(IntStream.concat(IntStream.of(p, q), IntStream.range(0, r).filter(d -> d != p && d != q)).toArray());
    return y.diagonal();
  }
}
