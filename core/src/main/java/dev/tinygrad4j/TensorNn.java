package dev.tinygrad4j;

import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * Neural-network functions composed from the other ops: losses, similarity and normalization, attention, the 1-D
 * and transposed convolutions, and interpolation. Part of {@link Tensor}; gradients come from the ops they use.
 */
sealed interface TensorNn permits Tensor {
  private Tensor t() { return (Tensor) this; }

  /** x·w + b (b may be null). */
  default Tensor linear(Tensor w, Tensor b) { var y = t().matmul(w); return b == null ? y : y.add(b); }

  /** Max over kernel×kernel windows of the last two dims. */
  default Tensor maxPool2d(int kernel, int stride) { return windows("maxPool2d", kernel, stride).max(-1, -2); }

  /** Mean over kernel×kernel windows of the last two dims. */
  default Tensor avgPool2d(int kernel, int stride) { return windows("avgPool2d", kernel, stride).mean(-1, -2); }

  private Tensor windows(String op, int kernel, int stride) {
    var x = t(); var s = x.shape();
    if (s.length < 2 || kernel <= 0 || stride <= 0 || kernel > s[s.length - 1] || kernel > s[s.length - 2])
      throw new IllegalArgumentException(op + ": a " + kernel + "x" + kernel + " window every " + stride + " does not fit input " + Arrays.toString(s)
          + " (windows over the last two dims)");
    return x.pool(new int[]{kernel, kernel}, new int[]{stride, stride}, new int[]{1, 1});
  }

  /** Normalizes over an axis to zero mean and unit variance (biased), no affine. */
  default Tensor layernorm(int axis, double eps) {
    var x = t().floats();
    x.axis("layernorm", axis);
    var c = x.sub(x.mean(axis, true));
    return c.mul(c.square().mean(axis, true).add(eps).rsqrt());
  }

  /** Mean cross-entropy of logits (N, C) against int class indices (N); an index out of range is an error. */
  default Tensor crossEntropy(Tensor classIndices) {
    var x = t(); var s = x.shape();
    if (s.length != 2 || classIndices.ndim() != 1 || classIndices.shape()[0] != s[0] || classIndices.dtype().isFloat())
      throw new IllegalArgumentException("crossEntropy: logits " + Arrays.toString(s) + " and class indices " + Arrays.toString(classIndices.shape())
          + " (" + classIndices.dtype().lowerName() + ") do not fit: need (N, C) and int (N)");
    Tensor.checkRange("crossEntropy", classIndices, 0, s[1], "logits " + Arrays.toString(s));
    var onehot = Tensor.arange(s[1]).to(x.device()).reshape(1, s[1]).eq(classIndices.cast(DType.INT32).reshape(s[0], 1));
    return x.logSoftmax(1).mul(onehot.cast(x.dtype())).sum(1).mean().neg();
  }

  /** Mean binary cross-entropy of probabilities against targets (log clamped at -100 like torch). */
  default Tensor binaryCrossEntropy(Tensor target) {
    var x = t();
    Tensor.check(x.lt(0).or(x.gt(1)).or(x.ne(x)), "binaryCrossEntropy: every probability must be in [0, 1] (a NaN is not), got one outside of "
        + x.dtype().lowerName() + " " + Arrays.toString(x.shape()));
    var y = target.cast(x.dtype());
    double tiny = Math.exp(-101); // log is clamped at -100 like torch; clamping x first keeps the gradient finite
    var logX = x.maximum(tiny).log().maximum(-100);
    var log1mX = x.neg().add(1).maximum(tiny).log().maximum(-100);
    return y.mul(logX).add(y.neg().add(1).mul(log1mX)).mean().neg();
  }

  /** Mean squared error against target (broadcasting). */
  default Tensor mseLoss(Tensor target) { return t().sub(target).square().mean(); }

  /** Mean negative log-likelihood of log-probabilities (N, C) at int class indices (N), as torch's nll_loss. */
  default Tensor nllLoss(Tensor target) {
    var x = t(); var s = x.shape();
    if (s.length != 2 || target.ndim() != 1 || target.shape()[0] != s[0] || !target.dtype().isInt())
      throw new IllegalArgumentException("nllLoss: log-probabilities " + Arrays.toString(s) + " and class indices " + Arrays.toString(target.shape())
          + " (" + target.dtype().lowerName() + ") do not fit: need (N, C) and int (N)");
    Tensor.checkRange("nllLoss", target, 0, s[1], "log-probabilities " + Arrays.toString(s));
    return x.gather(1, target.reshape(s[0], 1)).mean().neg();
  }

  /**
   * Mean cross-entropy of logits (N, C) against int class indices (N), the target smoothed: (1 − labelSmoothing) on
   * the class, labelSmoothing spread evenly over all C (as torch's label_smoothing).
   */
  default Tensor crossEntropy(Tensor target, double labelSmoothing) {
    if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) throw new IllegalArgumentException("crossEntropy: labelSmoothing must be in [0, 1], got " + labelSmoothing);
    var x = t();
    if (labelSmoothing == 0) return x.crossEntropy(target);
    var s = x.shape();
    if (s.length != 2) throw new IllegalArgumentException("crossEntropy: logits must be (N, C), got " + Arrays.toString(s));
    var logp = x.logSoftmax(1);
    return logp.nllLoss(target).mul(1 - labelSmoothing).add(logp.mean(1).mean().neg().mul(labelSmoothing));
  }

  /** Cosine of the angle between this and o along dim: x·y / (max(‖x‖, eps) · max(‖y‖, eps)) (broadcasting). */
  default Tensor cosineSimilarity(Tensor o, int dim, double eps) {
    var x = t().floats(); var y = o.floats();
    var nx = x.square().sum(dim).sqrt().maximum(eps); var ny = y.square().sum(dim).sqrt().maximum(eps);
    return x.mul(y).sum(dim).div(nx.mul(ny));
  }

  /** This divided by its p-norm along dim, the norm at least eps (torch's F.normalize). */
  default Tensor normalize(double p, int dim, double eps) {
    if (!(p > 0)) throw new IllegalArgumentException("normalize: p must be positive, got " + p);
    var x = t().floats();
    var norm = p == 2 ? x.square().sum(dim, true).sqrt() : p == 1 ? x.abs().sum(dim, true) : x.abs().pow(p).sum(dim, true).pow(1 / p);
    return x.div(norm.maximum(eps));
  }

  /**
   * softmax(this·keyᵀ/√E + mask)·value, as torch's scaled_dot_product_attention: this (…, L, E), key (…, S, E), value
   * (…, S, Ev). attnMask (null for none) is added to the scores, or, if bool, keeps the places where it is true;
   * isCausal keeps position j ≤ i only.
   */
  default Tensor scaledDotProductAttention(Tensor key, Tensor value, Tensor attnMask, boolean isCausal) {
    var q = t();
    if (q.ndim() < 2 || key.ndim() < 2 || value.ndim() < 2 || q.shape()[q.ndim() - 1] != key.shape()[key.ndim() - 1]
        || key.shape()[key.ndim() - 2] != value.shape()[value.ndim() - 2])
      throw new IllegalArgumentException("scaledDotProductAttention: query " + Arrays.toString(q.shape()) + ", key " + Arrays.toString(key.shape())
          + " and value " + Arrays.toString(value.shape()) + " do not fit (…, L, E), (…, S, E), (…, S, Ev)");
    int l = q.shape()[q.ndim() - 2], s = key.shape()[key.ndim() - 2];
    var scores = q.floats().matmul(key.floats().transpose(-1, -2)).mul(1 / Math.sqrt(q.shape()[q.ndim() - 1]));
    if (isCausal) scores = Tensor.ones(l, s).to(q.device()).tril(0).eq(0).where(Double.NEGATIVE_INFINITY, scores);
    if (attnMask != null) scores = attnMask.dtype() == DType.BOOL ? attnMask.where(scores, Double.NEGATIVE_INFINITY) : scores.add(attnMask);
    return scores.softmax(-1).matmul(value.floats());
  }

  /** 1-D convolution, NCL input, weight (Cout, Cin/groups, K), like torch's conv1d. */
  default Tensor conv1d(Tensor w, Tensor bias, int stride, int padding, int dilation, int groups) {
    var x = t();
    if (x.ndim() != 3 || w.ndim() != 3)
      throw new IllegalArgumentException("conv1d: input " + Arrays.toString(x.shape()) + " and weight " + Arrays.toString(w.shape()) + " must be (N, C, L) and (Cout, Cin/groups, K)");
    if (padding < 0) throw new IllegalArgumentException("conv1d: padding must not be negative, got " + padding);
    var xp = x.pad(new int[][]{{0, 0}, {0, 0}, {padding, padding}}).unsqueeze(2);
    return xp.conv2d(w.unsqueeze(2), bias, stride, 0, dilation, groups).squeeze(2);
  }

  /**
   * 2-D transposed convolution, NCHW input, weight (Cin, Cout/groups, KH, KW), like torch's conv_transpose2d: the
   * input spread out by stride (zeros between), padded by dilation·(K−1) − padding (plus outputPadding after), and
   * convolved with the flipped, transposed kernel.
   */
  default Tensor convTranspose2d(Tensor w, Tensor bias, int stride, int padding, int outputPadding, int dilation, int groups) {
    var x = t(); var s = x.shape(); var ws = w.shape();
    if (s.length != 4 || ws.length != 4 || groups <= 0 || s[1] != ws[0] || ws[0] % groups != 0)
      throw new IllegalArgumentException("convTranspose2d: input " + Arrays.toString(s) + " and weight " + Arrays.toString(ws)
          + " do not fit (N, Cin, H, W) and (Cin, Cout/groups, KH, KW) with " + groups + " groups");
    if (stride <= 0 || dilation <= 0 || padding < 0 || outputPadding < 0 || outputPadding >= Math.max(stride, dilation))
      throw new IllegalArgumentException("convTranspose2d: stride " + stride + ", padding " + padding + ", outputPadding " + outputPadding
          + ", dilation " + dilation + " (outputPadding must be below stride or dilation)");
    int n = s[0], cin = s[1], h = s[2], wd = s[3], cpg = ws[1], kh = ws[2], kw = ws[3];
    var spread = x.reshape(n, cin, h, 1, wd, 1).pad(new int[][]{{0, 0}, {0, 0}, {0, 0}, {0, stride - 1}, {0, 0}, {0, stride - 1}})
        .reshape(n, cin, h * stride, wd * stride).slice(2, 0, (h - 1) * stride + 1).slice(3, 0, (wd - 1) * stride + 1);
    int ph = dilation * (kh - 1) - padding, pw = dilation * (kw - 1) - padding;
    var padded = edge(edge(spread, 2, ph, ph + outputPadding), 3, pw, pw + outputPadding);
    var k = w.reshape(groups, cin / groups, cpg, kh, kw).transpose(1, 2).reshape(groups * cpg, cin / groups, kh, kw).flip(2, 3);
    return padded.conv2d(k, bias, 1, 0, dilation, groups);
  }

  /** before/after elements of padding (or, where negative, cut) on one dim. */
  private static Tensor edge(Tensor x, int dim, int before, int after) {
    var pad = new int[x.ndim()][2];
    pad[dim] = new int[]{Math.max(before, 0), Math.max(after, 0)};
    var y = x.pad(pad);
    return y.slice(dim, Math.max(-before, 0), y.shape()[dim] - Math.max(-after, 0));
  }

  /**
   * Resized trailing dims (size.length of them) as torch's interpolate: mode "nearest", "nearest-exact" or "linear"
   * (linear, bilinear or trilinear by the number of dims); alignCorners for linear maps the corner pixels onto each
   * other. Each dim is a matrix product with its interpolation weights (computed on the host).
   */
  default Tensor interpolate(int[] size, String mode, boolean alignCorners) {
    var x = t().floats(); var s = x.shape();
    if (size.length == 0 || size.length > s.length || Arrays.stream(size).anyMatch(v -> v <= 0))
      throw new IllegalArgumentException("interpolate: size " + Arrays.toString(size) + " does not fit input " + Arrays.toString(s));
    if (!mode.equals("nearest") && !mode.equals("nearest-exact") && !mode.equals("linear"))
      throw new IllegalArgumentException("interpolate: mode must be nearest, nearest-exact or linear, got '" + mode + "'");
    for (int j = 0; j < size.length; j++) {
      int d = s.length - size.length + j, in = s[d], out = size[j];
      var m = new double[out * in]; // out × in weights
      double scale = (double) in / out;
      for (int o = 0; o < out; o++) {
        if (mode.equals("linear")) {
          double src = alignCorners ? (out > 1 ? o * (double) (in - 1) / (out - 1) : 0) : Math.max((o + 0.5) * scale - 0.5, 0);
          int i0 = Math.min((int) Math.floor(src), in - 1), i1 = Math.min(i0 + 1, in - 1);
          double f = src - i0;
          m[o * in + i0] += 1 - f;
          m[o * in + i1] += f;
        } else {
          int i = (int) Math.floor(mode.equals("nearest") ? o * scale : (o + 0.5) * scale);
          m[o * in + Math.min(i, in - 1)] = 1;
        }
      }
      var weights = Tensor.of(m).reshape(out, in).cast(x.dtype()).to(x.device());
      x = x.transpose(d, -1).matmul(weights.transpose(0, 1)).transpose(d, -1);
    }
    return x;
  }
}
