package dev.tinygrad4j.nn;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.Tensor;
import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * Batch normalization over channel axis 1 of (N, C, ...) input (BatchNorm1d/2d/3d alike). In training mode
 * ({@link Tensor#train()}) it normalizes with the batch's statistics and updates the running ones
 * (momentum-weighted, the variance unbiased, as PyTorch does); otherwise it uses the running statistics.
 */
public final class BatchNorm implements Layer {
  /** (C) scale, or null without affine. */
  public final Tensor weight;
  /** (C) shift, or null without affine. */
  public final Tensor bias;
  /** (C) running statistics, or null when not tracked. */
  public final Tensor runningMean, runningVar;
  /** Number of training batches seen (int64 scalar), or null when not tracked. */
  public final Tensor numBatchesTracked;
  private final int channels;
  private final double eps, momentum;

  /** eps 1e-5, momentum 0.1, affine, running statistics tracked. */
  public BatchNorm(int channels) { this(channels, 1e-5, 0.1, true, true); }

  /** Every option. */
  public BatchNorm(int channels, double eps, double momentum, boolean affine, boolean trackRunningStats) {
    this.channels = channels; this.eps = eps; this.momentum = momentum;
    weight = affine ? Tensor.ones(channels).requiresGrad(true) : null;
    bias = affine ? Tensor.zeros(channels).requiresGrad(true) : null;
    runningMean = trackRunningStats ? Tensor.zeros(channels).contiguous().realize() : null;
    runningVar = trackRunningStats ? Tensor.ones(channels).contiguous().realize() : null;
    numBatchesTracked = trackRunningStats ? Tensor.zeros().cast(DType.INT64).contiguous().realize() : null;
  }

  @Override public Tensor forward(Tensor x) {
    var s = x.shape();
    int c = channels;
    if (s.length < 2 || s[1] != c)
      throw new IllegalArgumentException("BatchNorm: input " + Arrays.toString(s) + " needs shape (N, " + c + ", ...)");
    var axes = IntStream.range(0, s.length).filter(i -> i != 1).toArray();
    var bshape = IntStream.range(0, s.length).map(i -> i == 1 ? c : 1).toArray();
    Tensor mean, invStd;
    if (Tensor.training() || runningMean == null) {
      mean = x.mean(true, axes);
      var centered = x.sub(mean);
      var var = centered.square().mean(true, axes);
      invStd = var.add(eps).rsqrt();
      if (runningMean != null && Tensor.training()) {
        long n = x.numel() / c;
        runningMean.assign(runningMean.mul(1 - momentum).add(mean.detach().reshape(c).mul(momentum)));
        runningVar.assign(runningVar.mul(1 - momentum).add(var.detach().reshape(c).mul(momentum * n / Math.max(n - 1, 1))));
        numBatchesTracked.assign(numBatchesTracked.add(1));
      }
      var y = centered.mul(invStd);
      return affine(y, bshape);
    }
    mean = runningMean.reshape(bshape);
    invStd = runningVar.reshape(bshape).add(eps).rsqrt();
    return affine(x.sub(mean).mul(invStd), bshape);
  }

  private Tensor affine(Tensor y, int[] bshape) {
    return weight == null ? y : y.mul(weight.reshape(bshape)).add(bias.reshape(bshape));
  }
}
