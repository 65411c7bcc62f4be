package dev.tinygrad4j;

import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * Movement ops composed from reshape, permute, expand, pad and shrink: slicing one dim, triangles, rolls, windows,
 * splits and repeats. Part of {@link Tensor}; none of them copies data until a kernel reads the view.
 */
sealed interface TensorMovement permits Tensor {
  private Tensor t() { return (Tensor) this; }

  /** Removes a size-1 dim (no change if its size is not 1). */
  default Tensor squeeze(int dim) {
    var x = t();
    if (x.ndim() == 0) return x;
    int a = x.axis("squeeze", dim);
    var s = x.shape();
    if (s[a] != 1) return x;
    return x.reshape(IntStream.range(0, s.length).filter(i -> i != a).map(i -> s[i]).toArray());
  }

  /** Inserts a size-1 dim. */
  default Tensor unsqueeze(int dim) {
    var x = t(); var sh = x.shape();
    int n = sh.length, a = dim < 0 ? dim + n + 1 : dim;
    if (a < 0 || a > n) throw new IllegalArgumentException("unsqueeze: dim " + dim + " out of range for shape " + Arrays.toString(sh));
    var s = new int[n + 1];
    for (int i = 0, j = 0; i <= n; i++) s[i] = i == a ? 1 : sh[j++];
    return x.reshape(s);
  }

  /** All elements as one dim. */
  default Tensor flatten() { return t().reshape(-1); }

  /** Tiles the tensor, like torch's repeat. */
  default Tensor repeat(int... reps) {
    var x = t();
    if (reps.length < x.ndim()) throw new IllegalArgumentException("repeat: " + reps.length + " repeats for shape " + Arrays.toString(x.shape()));
    var base = x.reshape(IntStream.concat(IntStream.generate(() -> 1).limit(reps.length - x.ndim()), Arrays.stream(x.shape())).toArray());
    var s = base.shape();
    var inter = new int[2 * s.length]; var exp = new int[2 * s.length]; var fin = new int[s.length];
    for (int i = 0; i < s.length; i++) {
      inter[2 * i] = 1; inter[2 * i + 1] = s[i];
      exp[2 * i] = reps[i]; exp[2 * i + 1] = s[i];
      fin[i] = Math.multiplyExact(reps[i], s[i]);
    }
    return base.reshape(inter).expand(exp).reshape(fin);
  }

  /** Elements start..end-1 along dim, as Python slices them: negative bounds count from the end, both are clamped. */
  default Tensor slice(int dim, int start, int end) {
    int ax = t().axis("slice", dim), n = t().shape()[ax];
    int a = Math.clamp(start < 0 ? (long) start + n : start, 0, n), b = Math.clamp(end < 0 ? (long) end + n : end, 0, n);
    return cut(ax, a, Math.max(a, b));
  }

  /** length elements from start along dim (torch's narrow): start may count from the end; the range must fit. */
  default Tensor narrow(int dim, int start, int length) {
    int ax = t().axis("narrow", dim), n = t().shape()[ax];
    long a = start < 0 ? (long) start + n : start;
    if (a < 0 || length < 0 || a + length > n)
      throw new IllegalArgumentException("narrow: start " + start + " and length " + length + " do not fit dim " + dim + " of shape " + Arrays.toString(t().shape()));
    return cut(ax, (int) a, (int) a + length);
  }

  /** The slice at index along dim, that dim removed (index may count from the end). */
  default Tensor select(int dim, int index) {
    int ax = t().axis("select", dim), n = t().shape()[ax];
    if (index < -n || index >= n)
      throw new IllegalArgumentException("select: index " + index + " out of range for dim " + dim + " of shape " + Arrays.toString(t().shape()));
    int i = index < 0 ? index + n : index;
    return cut(ax, i, i + 1).squeeze(ax);
  }

  private Tensor cut(int ax, int a, int b) {
    var s = t().shape();
    var se = new int[s.length][];
    for (int d = 0; d < s.length; d++) se[d] = d == ax ? new int[]{a, b} : new int[]{0, s[d]};
    return t().shrink(se);
  }

  /** The lower triangle of the last two dims: elements with column − row ≤ diagonal kept, the rest 0. */
  default Tensor tril(int diagonal) { return triangle("tril", diagonal, true); }

  /** The upper triangle of the last two dims: elements with column − row ≥ diagonal kept, the rest 0. */
  default Tensor triu(int diagonal) { return triangle("triu", diagonal, false); }

  private Tensor triangle(String name, int k, boolean lower) {
    var x = t(); var s = x.shape();
    if (s.length < 2) throw new IllegalArgumentException(name + ": needs at least 2 dims, got shape " + Arrays.toString(s));
    int r = s[s.length - 2], c = s[s.length - 1];
    var col = Tensor.arange(c).to(x.device()).reshape(1, c).cast(DType.INT64);
    var row = Tensor.arange(r).to(x.device()).reshape(r, 1).cast(DType.INT64).add((double) k);
    return (lower ? col.le(row) : col.ge(row)).where(x, x.zerosLike());
  }

  /** Elements shifted by shift places along dim, those pushed off the end coming back at the start (torch's roll). */
  default Tensor roll(int shift, int dim) {
    var x = t();
    int ax = x.axis("roll", dim), n = x.ndim() == 0 ? 1 : x.shape()[ax];
    int k = n == 0 ? 0 : Math.floorMod(shift, n);
    if (k == 0 || x.ndim() == 0) return x;
    return Tensor.cat(ax, x.narrow(ax, n - k, k), x.narrow(ax, 0, n - k));
  }

  /**
   * Windows of size elements every step along dim (torch's unfold): that dim becomes the window count, and a last dim
   * of size holds each window.
   */
  default Tensor unfold(int dim, int size, int step) {
    var x = t(); var s = x.shape();
    if (s.length == 0) throw new IllegalArgumentException("unfold: a 0-d tensor has no dim to take windows of");
    int ax = x.axis("unfold", dim), r = s.length;
    if (size <= 0 || step <= 0 || size > s[ax])
      throw new IllegalArgumentException("unfold: windows of " + size + " every " + step + " do not fit dim " + dim + " of shape " + Arrays.toString(s));
    var last = IntStream.concat(IntStream.range(0, r).filter(d -> d != ax), IntStream.of(ax)).toArray();
    var w = x.permute(last).pool(new int[]{size}, new int[]{step}, new int[]{1}); // [others..., count, size]
    var back = IntStream.concat(IntStream.range(0, r).map(d -> d < ax ? d : d == ax ? r - 1 : d - 1), IntStream.of(r)).toArray();
    return w.permute(back);
  }

  /** Pieces of size elements along dim (the last may be shorter), in order. */
  default Tensor[] split(int size, int dim) {
    var x = t();
    int ax = x.axis("split", dim), n = x.shape()[ax];
    if (size <= 0) throw new IllegalArgumentException("split: size must be positive, got " + size);
    int count = Math.max(1, (n + size - 1) / size);
    return IntStream.range(0, count).mapToObj(i -> cut(ax, Math.min(i * size, n), Math.min((i + 1) * size, n))).toArray(Tensor[]::new);
  }

  /** At most chunks pieces of equal size along dim (the last may be shorter), as torch's chunk. */
  default Tensor[] chunk(int chunks, int dim) {
    if (chunks <= 0) throw new IllegalArgumentException("chunk: the number of chunks must be positive, got " + chunks);
    int n = t().shape()[t().axis("chunk", dim)];
    return split(Math.max(1, (n + chunks - 1) / chunks), dim);
  }

  /** Each element repeated repeats times in place along dim: [a, b] → [a, a, b, b]. */
  default Tensor repeatInterleave(int repeats, int dim) {
    var x = t(); var s = x.shape();
    int ax = x.axis("repeatInterleave", dim);
    if (repeats < 0) throw new IllegalArgumentException("repeatInterleave: repeats must not be negative, got " + repeats);
    if (s.length == 0) return x.reshape(1).repeatInterleave(repeats, 0);
    var wide = x.unsqueeze(ax + 1).shape();
    wide[ax + 1] = repeats;
    var out = s.clone();
    out[ax] = Math.multiplyExact(s[ax], repeats);
    return x.unsqueeze(ax + 1).expand(wide).reshape(out);
  }

  /** dim split into several dims of the given sizes (one may be −1, inferred). */
  default Tensor unflatten(int dim, int... sizes) {
    var x = t(); var s = x.shape();
    int ax = x.axis("unflatten", dim);
    long known = 1; int infer = -1;
    for (int i = 0; i < sizes.length; i++) {
      if (sizes[i] == -1 && infer < 0) infer = i;
      else if (sizes[i] < 0) throw new IllegalArgumentException("unflatten: bad sizes " + Arrays.toString(sizes) + " (one may be -1, the rest at least 0)");
      else known *= sizes[i];
    }
    var sz = sizes.clone();
    if (infer >= 0 && known > 0 && s[ax] % known == 0) sz[infer] = (int) (s[ax] / known);
    if (sizes.length == 0 || (infer >= 0 ? sz[infer] < 0 : known != s[ax]))
      throw new IllegalArgumentException("unflatten: sizes " + Arrays.toString(sizes) + " do not multiply to dim " + dim + " of shape " + Arrays.toString(s));
    var out = IntStream.concat(IntStream.concat(Arrays.stream(s, 0, ax), Arrays.stream(sz)), Arrays.stream(s, ax + 1, s.length)).toArray();
    return x.reshape(out);
  }

  /** The main diagonal of dims 0 and 1, as a last dim after the others (torch's diagonal()). */
  default Tensor diagonal() {
    var x = t(); var s = x.shape();
    if (s.length < 2) throw new IllegalArgumentException("diagonal: needs at least 2 dims, got shape " + Arrays.toString(s));
    int r = s.length, k = Math.min(s[0], s[1]);
    var y = x.permute(IntStream.concat(IntStream.range(2, r), IntStream.of(0, 1)).toArray()).slice(-2, 0, k).slice(-1, 0, k); // [rest..., k, k]
    var rest = Arrays.copyOfRange(s, 2, r);
    if (k == 0) return y.reshape(IntStream.concat(Arrays.stream(rest), IntStream.of(0)).toArray());
    // row-major, the diagonal is every (k + 1)-th element: pad k·k to k·(k + 1), read column 0 of [k, k + 1]
    var flat = y.reshape(IntStream.concat(Arrays.stream(rest), IntStream.of(k * k)).toArray());
    var pad = new int[rest.length + 1][2];
    pad[rest.length][1] = k;
    var rows = flat.pad(pad).reshape(IntStream.concat(Arrays.stream(rest), IntStream.of(k, k + 1)).toArray());
    return rows.slice(-1, 0, 1).squeeze(-1);
  }
}
