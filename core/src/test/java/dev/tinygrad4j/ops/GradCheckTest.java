package dev.tinygrad4j.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * float64 finite-difference gradient checks.
 *
 * <p>For each op f and float64 inputs x (built with {@code Tensor.of(double[]).reshape(..)}), the analytic gradient
 * of loss = (f(x) * U).sum() obtained by backward() is compared with the central difference
 * (loss(x + eps e_i) - loss(x - eps e_i)) / (2 eps), eps = 1e-6, where loss is evaluated in float64 via item().
 * Tolerance: |analytic - numeric| <= 1e-4 + 1e-3 * |numeric|.
 *
 * <p>Inputs are drawn away from kinks (relu/abs at 0, ties in max/min/maximum, clamp bounds). For large inputs only a
 * deterministic subset of coordinates is perturbed (system property {@code gradcheck.maxIndices}, default 256, which covers every input here;
 * use a large value for an exhaustive check).
 */
class GradCheckTest {
    static final double EPS = 1e-6;
    static final double ATOL = 1e-4, RTOL = 1e-3;
    static final int MAX_INDICES = Integer.getInteger("gradcheck.maxIndices", 256);

    /** One generated input: row-major data of the given shape; int32 inputs (class indices) are not differentiated. */
    record In(int[] shape, double[] data, boolean isInt) {}

    interface Gen {
        In make(Random r, List<In> previous);
    }

    record Check(String name, Function<Tensor[], Tensor> f, Gen[] gens) {}

    static final Map<String, Check> CHECKS = new LinkedHashMap<>();

    static void gc(String name, Function<Tensor[], Tensor> f, Gen... gens) {
        if (CHECKS.put(name, new Check(name, f, gens)) != null) throw new IllegalStateException("duplicate " + name);
    }

    // ---- generators ----
    static int numel(int... shape) {
        int n = 1;
        for (int d : shape) n *= d;
        return n;
    }

    static int[] s(int... shape) {
        return shape;
    }

    static Gen randn(int... shape) {
        return (r, p) -> {
            double[] d = new double[numel(shape)];
            for (int i = 0; i < d.length; i++) d[i] = r.nextGaussian();
            return new In(shape, d, false);
        };
    }

    static Gen scaled(double scale, int... shape) {
        return (r, p) -> {
            double[] d = new double[numel(shape)];
            for (int i = 0; i < d.length; i++) d[i] = scale * r.nextGaussian();
            return new In(shape, d, false);
        };
    }

    static Gen uniform(double lo, double hi, int... shape) {
        return (r, p) -> {
            double[] d = new double[numel(shape)];
            for (int i = 0; i < d.length; i++) d[i] = lo + (hi - lo) * r.nextDouble();
            return new In(shape, d, false);
        };
    }

    /** positive values in [0.5, 2]. */
    static Gen pos(int... shape) {
        return uniform(0.5, 2.0, shape);
    }

    /** |x| in [lo, 2] with random sign. */
    static Gen nonzero(double lo, int... shape) {
        return (r, p) -> {
            double[] d = new double[numel(shape)];
            for (int i = 0; i < d.length; i++) d[i] = (r.nextBoolean() ? 1 : -1) * (lo + (2.0 - lo) * r.nextDouble());
            return new In(shape, d, false);
        };
    }

    /** normal values (times 1.5) at least margin away from each of the points. */
    static Gen avoid(double[] points, double margin, int... shape) {
        return (r, p) -> {
            double[] d = new double[numel(shape)];
            for (int i = 0; i < d.length; i++) {
                boolean ok;
                do {
                    d[i] = 1.5 * r.nextGaussian();
                    ok = true;
                    for (double q : points) ok &= Math.abs(d[i] - q) >= margin;
                } while (!ok);
            }
            return new In(shape, d, false);
        };
    }

    /** a shuffled set of values spaced by 0.25 (no ties for max/min/pools). */
    static Gen distinct(int... shape) {
        return (r, p) -> {
            int n = numel(shape);
            double[] d = new double[n];
            for (int i = 0; i < n; i++) d[i] = (i - n / 2.0) * 0.25 + 0.1 * (r.nextDouble() - 0.5);
            for (int i = n - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                double t = d[i];
                d[i] = d[j];
                d[j] = t;
            }
            return new In(shape, d, false);
        };
    }

    /** same shape as input #other, each entry other + (+-)[0.2, 1] (maximum/minimum without ties). */
    static Gen separatedFrom(int other) {
        return (r, p) -> {
            In o = p.get(other);
            double[] d = new double[o.data().length];
            for (int i = 0; i < d.length; i++) d[i] = o.data()[i] + (r.nextBoolean() ? 1 : -1) * (0.2 + 0.8 * r.nextDouble());
            return new In(o.shape(), d, false);
        };
    }

    static Gen ints(int lo, int hi, int... shape) {
        return (r, p) -> {
            double[] d = new double[numel(shape)];
            for (int i = 0; i < d.length; i++) d[i] = lo + r.nextInt(hi - lo);
            return new In(shape, d, true);
        };
    }

    /** nonzero(0.5) values with entries at the given flat positions exactly 0 (products through zeros). */
    static Gen zerosAt(int[] at, int... shape) {
        return (r, p) -> {
            var in = nonzero(0.5, shape).make(r, p);
            for (int i : at) in.data()[i] = 0;
            return in;
        };
    }

    static Tensor mask(int... shape) { // deterministic boolean mask for where()
        int[] m = new int[numel(shape)];
        for (int i = 0; i < m.length; i++) m[i] = (i * 7 + 3) % 5 < 2 ? 1 : 0;
        return Tensor.of(m).cast(DType.BOOL).reshape(shape);
    }

    static final int[] S34 = {3, 4};
    static final int[] S234 = {2, 3, 4};

    static {
        // unary
        gc("neg", t -> t[0].neg(), randn(S34));
        gc("exp", t -> t[0].exp(), randn(S34));
        gc("log", t -> t[0].log(), pos(S34));
        gc("sqrt", t -> t[0].sqrt(), pos(S34));
        gc("rsqrt", t -> t[0].rsqrt(), pos(S34));
        gc("reciprocal", t -> t[0].reciprocal(), nonzero(0.5, S34));
        gc("relu", t -> t[0].relu(), nonzero(0.1, S34));
        gc("sigmoid", t -> t[0].sigmoid(), scaled(2, S34));
        gc("tanh", t -> t[0].tanh(), scaled(1.5, S34));
        gc("sin", t -> t[0].sin(), uniform(-4, 4, S34));
        gc("cos", t -> t[0].cos(), uniform(-4, 4, S34));
        gc("abs", t -> t[0].abs(), nonzero(0.1, S34));
        gc("gelu", t -> t[0].gelu(), scaled(2, S34));
        gc("silu", t -> t[0].silu(), scaled(2, S34));
        gc("softplus", t -> t[0].softplus(), scaled(2, S34));
        gc("elu", t -> t[0].elu(), nonzero(0.1, S34));
        gc("square", t -> t[0].square(), randn(S34));
        gc("log2", t -> t[0].log2(), pos(S34));
        gc("exp2", t -> t[0].exp2(), randn(S34));
        gc("leakyRelu", t -> t[0].leakyRelu(0.1), nonzero(0.1, S34));
        gc("clamp", t -> t[0].clamp(-0.5, 0.75), avoid(new double[] {-0.5, 0.75}, 0.1, S34));
        gc("composite_reuse", t -> t[0].mul(t[0]).add(t[0].exp()).sub(t[0].sigmoid()), randn(S34));
        // binary, tensor argument (same shape and broadcasting)
        gc("add", t -> t[0].add(t[1]), randn(S34), randn(S34));
        gc("add_bcast", t -> t[0].add(t[1]), randn(S234), randn(3, 1));
        gc("sub", t -> t[0].sub(t[1]), randn(S34), randn(S34));
        gc("sub_bcast", t -> t[0].sub(t[1]), randn(4), randn(S34));
        gc("mul", t -> t[0].mul(t[1]), randn(S34), randn(S34));
        gc("mul_bcast", t -> t[0].mul(t[1]), randn(3, 1), randn(1, 4));
        gc("div", t -> t[0].div(t[1]), randn(S34), nonzero(0.5, S34));
        gc("div_bcast", t -> t[0].div(t[1]), randn(S34), nonzero(0.5, 4));
        gc("pow", t -> t[0].pow(t[1]), pos(S34), randn(S34));
        gc("pow_bcast", t -> t[0].pow(t[1]), pos(S34), randn(3, 1));
        gc("maximum", t -> t[0].maximum(t[1]), randn(S34), separatedFrom(0));
        gc("minimum", t -> t[0].minimum(t[1]), randn(S34), separatedFrom(0));
        gc("where", t -> mask(S34).where(t[0], t[1]), randn(S34), randn(S34));
        gc("where_bcast", t -> mask(3, 1).where(t[0], t[1]), randn(S34), randn(4));
        // binary, double argument
        gc("add_scalar", t -> t[0].add(2.5), randn(S34));
        gc("sub_scalar", t -> t[0].sub(1.5), randn(S34));
        gc("mul_scalar", t -> t[0].mul(-2.0), randn(S34));
        gc("div_scalar", t -> t[0].div(3.0), randn(S34));
        gc("pow_scalar_2", t -> t[0].pow(2.0), pos(S34));
        gc("pow_scalar_neg1p5", t -> t[0].pow(-1.5), pos(S34));
        gc("maximum_scalar", t -> t[0].maximum(0.2), avoid(new double[] {0.2}, 0.1, S34));
        gc("minimum_scalar", t -> t[0].minimum(0.2), avoid(new double[] {0.2}, 0.1, S34));
        // reductions
        gc("sum_all", t -> t[0].sum(), randn(S234));
        gc("sum_axes02", t -> t[0].sum(0, 2), randn(S234));
        gc("sum_neg1_keepdim", t -> t[0].sum(-1, true), randn(S234));
        gc("mean_all", t -> t[0].mean(), randn(S234));
        gc("mean_axis1", t -> t[0].mean(1), randn(S234));
        gc("mean_axis0_keepdim", t -> t[0].mean(0, true), randn(S234));
        gc("max_all", t -> t[0].max(), distinct(S234));
        gc("max_axes02", t -> t[0].max(0, 2), distinct(S234));
        gc("max_neg1_keepdim", t -> t[0].max(-1, true), distinct(S234));
        gc("min_all", t -> t[0].min(), distinct(S234));
        gc("min_axis1", t -> t[0].min(1), distinct(S234));
        gc("min_axis0_keepdim", t -> t[0].min(0, true), distinct(S234));
        gc("var_axis1", t -> t[0].var(1), randn(S234));
        gc("var_axisneg1", t -> t[0].var(-1), randn(S234));
        gc("std_axis0", t -> t[0].std(0), randn(S234));
        gc("std_axisneg1", t -> t[0].std(-1), randn(S234));
        gc("softmax_axis1", t -> t[0].softmax(1), scaled(2, S234));
        gc("softmax_axisneg1", t -> t[0].softmax(-1), scaled(2, S234));
        gc("logSoftmax_axis0", t -> t[0].logSoftmax(0), scaled(2, S234));
        gc("logSoftmax_axisneg1", t -> t[0].logSoftmax(-1), scaled(2, S234));
        gc("logsumexp_axis1", t -> t[0].logsumexp(1), scaled(2, S234));
        gc("logsumexp_axisneg1", t -> t[0].logsumexp(-1), scaled(2, S234));
        gc("cumsum_axis0", t -> t[0].cumsum(0), randn(S234));
        gc("cumsum_axis1", t -> t[0].cumsum(1), randn(S234));
        gc("cumsum_axisneg1", t -> t[0].cumsum(-1), randn(S234));
        // movement
        gc("reshape", t -> t[0].reshape(4, -1), randn(S234));
        gc("permute", t -> t[0].permute(2, 0, 1), randn(S234));
        gc("transpose", t -> t[0].transpose(-1, -2), randn(S234));
        gc("expand", t -> t[0].expand(2, 3, 4), randn(3, 1));
        gc("pad", t -> t[0].pad(new int[][] {{1, 2}, {0, 1}}), randn(S34));
        gc("shrink", t -> t[0].shrink(new int[][] {{0, 2}, {1, 2}, {1, 4}}), randn(S234));
        gc("flip", t -> t[0].flip(0, 2), randn(S234));
        gc("squeeze", t -> t[0].squeeze(1), randn(3, 1, 4));
        gc("unsqueeze", t -> t[0].unsqueeze(-1), randn(S34));
        gc("flatten", t -> t[0].permute(1, 0).flatten(), randn(S34));
        gc("repeat", t -> t[0].repeat(2, 1, 2), randn(2, 3));
        gc("cat", t -> Tensor.cat(1, t[0], t[1], t[2]), randn(3, 2), randn(3, 4), randn(3, 1));
        gc("cat_axisneg1", t -> Tensor.cat(-1, t[0], t[1]), randn(2, 3, 2), randn(2, 3, 3));
        gc("stack", t -> Tensor.stack(1, t[0], t[1], t[2]), randn(S34), randn(S34), randn(S34));
        gc("stack_axis0", t -> Tensor.stack(0, t[0], t[1]), randn(S34), randn(S34));
        // matmul / linear
        gc("matmul_1d_1d", t -> t[0].matmul(t[1]), randn(4), randn(4));
        gc("matmul_1d_2d", t -> t[0].matmul(t[1]), randn(4), randn(4, 3));
        gc("matmul_2d_1d", t -> t[0].matmul(t[1]), randn(3, 4), randn(4));
        gc("matmul_2d_2d", t -> t[0].matmul(t[1]), randn(3, 4), randn(4, 5));
        gc("matmul_batched", t -> t[0].matmul(t[1]), randn(2, 3, 4), randn(2, 4, 5));
        gc("matmul_bcast", t -> t[0].matmul(t[1]), randn(2, 1, 3, 4), randn(5, 4, 2));
        gc("linear", t -> t[0].linear(t[1], t[2]), randn(2, 3), randn(3, 4), randn(4));
        // conv / pool
        gc("conv2d", t -> t[0].conv2d(t[1], t[2], 1, 0, 1, 1), randn(2, 3, 5, 5), randn(4, 3, 3, 3), randn(4));
        gc("conv2d_nobias", t -> t[0].conv2d(t[1], null, 1, 0, 1, 1), randn(1, 2, 5, 5), randn(3, 2, 3, 3));
        gc("conv2d_stride2_pad1", t -> t[0].conv2d(t[1], t[2], 2, 1, 1, 1), randn(2, 3, 6, 6), randn(4, 3, 3, 3), randn(4));
        gc("conv2d_dilation2", t -> t[0].conv2d(t[1], t[2], 1, 1, 2, 1), randn(1, 2, 6, 6), randn(3, 2, 3, 3), randn(3));
        gc("conv2d_groups2", t -> t[0].conv2d(t[1], t[2], 1, 1, 1, 2), randn(1, 4, 5, 5), randn(6, 2, 3, 3), randn(6));
        gc("maxPool2d_k2s2", t -> t[0].maxPool2d(2, 2), distinct(2, 2, 5, 5));
        gc("maxPool2d_k3s1", t -> t[0].maxPool2d(3, 1), distinct(1, 2, 5, 5));
        gc("avgPool2d_k2s2", t -> t[0].avgPool2d(2, 2), randn(2, 2, 5, 5));
        gc("avgPool2d_k3s2", t -> t[0].avgPool2d(3, 2), randn(1, 2, 7, 7));
        // normalization / losses
        gc("layernorm_last", t -> t[0].layernorm(-1, 1e-5), randn(S234));
        gc("layernorm_axis1", t -> t[0].layernorm(1, 1e-5), randn(S234));
        gc("crossEntropy", t -> t[0].crossEntropy(t[1]), scaled(2, 4, 5), ints(0, 5, 4));
        gc("binaryCrossEntropy", t -> t[0].binaryCrossEntropy(t[1]), uniform(0.05, 0.95, S34), uniform(0, 1, S34));
        // more math (the approximated ones against their own finite differences: exact gradients of the
        // approximations, which differ from the true derivative by far less than the tolerance)
        gc("erf", t -> t[0].erf(), scaled(1.5, S34));
        gc("tan", t -> t[0].tan(), uniform(-1.2, 1.2, S34));
        gc("sinh", t -> t[0].sinh(), uniform(-3, 3, S34));
        gc("cosh", t -> t[0].cosh(), uniform(-3, 3, S34));
        gc("asin", t -> t[0].asin(), uniform(-0.95, 0.95, S34));
        gc("acos", t -> t[0].acos(), uniform(-0.95, 0.95, S34));
        gc("atan", t -> t[0].atan(), scaled(3, S34));
        gc("log10", t -> t[0].log10(), pos(S34));
        gc("relu6", t -> t[0].relu6(), avoid(new double[] {0, 6}, 0.1, S34));
        gc("hardswish", t -> t[0].hardswish(), avoid(new double[] {-3, 3}, 0.1, S34));
        gc("hardsigmoid", t -> t[0].hardsigmoid(), avoid(new double[] {-3, 3}, 0.1, S34));
        gc("hardtanh", t -> t[0].hardtanh(-0.5, 0.75), avoid(new double[] {-0.5, 0.75}, 0.1, S34));
        gc("mish", t -> t[0].mish(), scaled(2, S34));
        gc("selu", t -> t[0].selu(), nonzero(0.1, S34));
        gc("celu", t -> t[0].celu(0.5), nonzero(0.1, S34));
        gc("softsign", t -> t[0].softsign(), scaled(2, S34));
        gc("logsigmoid", t -> t[0].logsigmoid(), scaled(3, S34));
        gc("lerp", t -> t[0].lerp(t[1], 0.3), randn(S34), randn(4));
        gc("lerp_tensor_weight", t -> t[0].lerp(t[1], t[2]), randn(S34), randn(S34), uniform(0, 1, 3, 1));
        gc("logaddexp", t -> t[0].logaddexp(t[1]), randn(S34), separatedFrom(0));
        // more scans and products (through zeros too)
        gc("cumprod_axis1", t -> t[0].cumprod(1), nonzero(0.5, S234));
        gc("cumprod_zeros", t -> t[0].cumprod(-1), zerosAt(new int[] {1, 7, 8}, 3, 4));
        gc("cummax_axis0", t -> t[0].cummax(0), distinct(S234));
        gc("logcumsumexp_axis1", t -> t[0].logcumsumexp(1), scaled(2, S234));
        gc("prod_all", t -> t[0].prod(), nonzero(0.5, S34));
        gc("prod_one_zero", t -> t[0].prod(), zerosAt(new int[] {5}, S34));
        gc("prod_two_zeros", t -> t[0].prod(), zerosAt(new int[] {2, 9}, S34));
        gc("prod_axis0_zeros", t -> t[0].prod(0), zerosAt(new int[] {0, 5, 9}, S34));
        // more movement
        gc("tril", t -> t[0].tril(0), randn(4, 5));
        gc("triu_3d", t -> t[0].triu(1), randn(S234));
        gc("roll", t -> t[0].roll(-2, 1), randn(S34));
        gc("unfold", t -> t[0].unfold(1, 2, 1), randn(S234));
        gc("split_piece", t -> t[0].split(2, 1)[1], randn(3, 5));
        gc("chunk_piece", t -> t[0].chunk(2, 0)[1], randn(5, 3));
        gc("repeatInterleave", t -> t[0].repeatInterleave(2, 1), randn(S234));
        gc("unflatten", t -> t[0].unflatten(1, 2, -1), randn(3, 6));
        gc("diagonal", t -> t[0].diagonal(), randn(4, 3, 2));
        gc("slice", t -> t[0].slice(1, 1, -1), randn(3, 5));
        gc("select", t -> t[0].select(0, -1), randn(S234));
        gc("narrow", t -> t[0].narrow(2, 1, 2), randn(S234));
        // indexing
        gc("maskedFill", t -> t[0].maskedFill(mask(3, 1), -1.5), randn(S34));
        gc("scatter", t -> t[0].scatter(0, Tensor.of(new int[] {3, 0, 2, 1, 2, 0}).reshape(2, 3), t[1]), randn(4, 3), randn(2, 3));
        gc("scatter_bigger_src", t -> t[0].scatter(1, Tensor.of(new int[] {4, 0, 2, 1}).reshape(2, 2), t[1]), randn(2, 5), randn(3, 4));
        gc("scatterReduce_sum", t -> t[0].scatterReduce(0, Tensor.of(new int[] {0, 2, 0, 0, 1, 2}).reshape(2, 3), t[1], "sum", true), randn(3, 3), randn(2, 3));
        gc("scatterReduce_prod", t -> t[0].scatterReduce(0, Tensor.of(new int[] {0, 2, 0, 0, 1, 2}).reshape(2, 3), t[1], "prod", false), nonzero(0.5, 3, 3), nonzero(0.5, 2, 3));
        gc("scatterReduce_mean", t -> t[0].scatterReduce(1, Tensor.of(new int[] {0, 0, 1, 2, 2, 2}).reshape(2, 3), t[1], "mean", true), randn(2, 3), randn(2, 3));
        gc("scatterReduce_amax", t -> t[0].scatterReduce(0, Tensor.of(new int[] {1, 1, 0, 1, 0, 0}).reshape(2, 3), t[1], "amax", true), distinct(2, 3), distinct(2, 3));
        gc("scatterReduce_amin", t -> t[0].scatterReduce(0, Tensor.of(new int[] {1, 1, 0, 1, 0, 0}).reshape(2, 3), t[1], "amin", false), distinct(2, 3), distinct(2, 3));
        gc("sort_values", t -> t[0].sort(1, false)[0], distinct(3, 7));
        gc("sort_desc_dim0", t -> t[0].sort(0, true)[0], distinct(5, 2));
        gc("topk_values", t -> t[0].topk(2, -1, true, true)[0], distinct(3, 6));
        // nn functional
        gc("mseLoss", t -> t[0].mseLoss(t[1]), randn(S34), randn(S34));
        gc("nllLoss", t -> t[0].nllLoss(t[1]), randn(5, 4), ints(0, 4, 5));
        gc("crossEntropy_smoothing", t -> t[0].crossEntropy(t[1], 0.2), scaled(2, 5, 4), ints(0, 4, 5));
        gc("cosineSimilarity", t -> t[0].cosineSimilarity(t[1], 1, 1e-8), randn(3, 5), randn(3, 5));
        gc("normalize", t -> t[0].normalize(2.0, 1, 1e-12), randn(3, 4));
        gc("sdpa_causal", t -> t[0].scaledDotProductAttention(t[1], t[2], null, true), randn(2, 4, 4), randn(2, 4, 4), randn(2, 4, 3));
        gc("conv1d", t -> t[0].conv1d(t[1], t[2], 2, 1, 1, 1), randn(2, 3, 9), randn(4, 3, 3), randn(4));
        gc("convTranspose2d", t -> t[0].convTranspose2d(t[1], t[2], 2, 1, 1, 1, 1), randn(1, 2, 3, 3), randn(2, 2, 3, 3), randn(2));
        gc("interpolate_bilinear", t -> t[0].interpolate(new int[] {5, 7}, "linear", false), randn(1, 2, 3, 4));
    }

    // ---------------------------------------------------------------------------------------------

    @TestFactory
    Stream<DynamicTest> gradients() {
        return CHECKS.values().stream().map(c -> dynamicTest(c.name(), () -> {
            try {
                run(c);
            } catch (AssertionError e) {
                throw e;
            } catch (RuntimeException | LinkageError | StackOverflowError e) {
                throw new AssertionError("gradcheck " + c.name() + ": threw " + e, e);
            }
        }));
    }

    /** The numeric gradients below are meaningless unless float64 tensors really compute in double precision. */
    @Test
    void float64PathIsDoublePrecision() {
        Tensor x = Tensor.of(new double[] {1e-10, 2e-10});
        assertEquals(DType.FLOAT64, x.add(1.0).dtype());
        assertEquals(3e-10, x.add(1.0).sub(1.0).sum().item(), 1e-15);
        assertEquals(Math.exp(0.1) + Math.exp(0.2), Tensor.of(new double[] {0.1, 0.2}).exp().sum().item(), 1e-14);
        assertEquals(DType.FLOAT64, Tensor.of(new double[] {0.1, 0.2}).reshape(2, 1).matmul(
                Tensor.of(new double[] {1, 2}).reshape(1, 2)).dtype());
    }

    static Tensor build(In in) {
        if (in.isInt()) {
            int[] v = new int[in.data().length];
            for (int i = 0; i < v.length; i++) v[i] = (int) in.data()[i];
            return Tensor.of(v).reshape(in.shape());
        }
        return Tensor.of(in.data()).reshape(in.shape());
    }

    static Tensor[] buildAll(List<In> ins) {
        Tensor[] t = new Tensor[ins.size()];
        for (int i = 0; i < t.length; i++) t[i] = build(ins.get(i));
        return t;
    }

    /** loss = (f(x) * U).sum() as a Tensor (U null means the output is a scalar multiplied by u). */
    static Tensor loss(Tensor out, double[] u, int[] outShape) {
        if (outShape.length == 0) return out.mul(u[0]);
        return out.mul(Tensor.of(u).reshape(outShape)).sum();
    }

    static void run(Check c) {
        Random r = new Random(c.name().hashCode() * 31L + 17);
        List<In> ins = new ArrayList<>();
        for (Gen g : c.gens()) ins.add(g.make(r, ins));

        Tensor probe = c.f().apply(buildAll(ins));
        assertEquals(DType.FLOAT64, probe.dtype(), c.name() + ": float64 inputs must give a float64 output");
        int[] outShape = probe.shape();
        double[] u = new double[numel(outShape)];
        for (int i = 0; i < u.length; i++) u[i] = r.nextGaussian();

        // analytic
        Tensor[] t = buildAll(ins);
        for (int i = 0; i < t.length; i++) if (!ins.get(i).isInt()) t[i].requiresGrad(true);
        loss(c.f().apply(t), u, outShape).backward();

        List<String> errors = new ArrayList<>();
        for (int k = 0; k < t.length; k++) {
            In in = ins.get(k);
            if (in.isInt()) continue;
            Tensor g = t[k].grad();
            if (g == null) {
                errors.add("input " + k + ": grad() is null");
                continue;
            }
            if (!Arrays.equals(g.shape(), in.shape()))
                errors.add("input " + k + ": grad shape " + Arrays.toString(g.shape()) + " expected " + Arrays.toString(in.shape()));
            float[] analytic = g.toFloatArray();
            if (analytic.length != in.data().length) {
                errors.add("input " + k + ": grad has " + analytic.length + " values, expected " + in.data().length);
                continue;
            }
            int bad = 0;
            String firstBad = null;
            for (int idx : indices(in.data().length, r)) {
                double numeric = numericGrad(c, ins, k, idx, u, outShape);
                double a = analytic[idx];
                if (!(Math.abs(a - numeric) <= ATOL + RTOL * Math.abs(numeric))) {
                    bad++;
                    if (firstBad == null)
                        firstBad = "index " + idx + " analytic " + a + " numeric " + numeric;
                }
            }
            if (bad > 0) errors.add("input " + k + ": " + bad + " coordinates off, first " + firstBad);
        }
        if (!errors.isEmpty()) fail("gradcheck " + c.name() + ": " + String.join("; ", errors));
    }

    static int[] indices(int n, Random r) {
        if (n <= MAX_INDICES) {
            int[] all = new int[n];
            for (int i = 0; i < n; i++) all[i] = i;
            return all;
        }
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) perm[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int tmp = perm[i];
            perm[i] = perm[j];
            perm[j] = tmp;
        }
        int[] pick = Arrays.copyOf(perm, MAX_INDICES);
        pick[0] = 0; // always include the first and the last coordinate
        pick[1] = n - 1;
        return Arrays.stream(pick).distinct().sorted().toArray();
    }

    static double numericGrad(Check c, List<In> ins, int k, int idx, double[] u, int[] outShape) {
        double[] plus = evalLossPerturbed(c, ins, k, idx, +EPS, u, outShape);
        double[] minus = evalLossPerturbed(c, ins, k, idx, -EPS, u, outShape);
        return (plus[0] - minus[0]) / (2 * EPS);
    }

    static double[] evalLossPerturbed(Check c, List<In> ins, int k, int idx, double delta, double[] u, int[] outShape) {
        List<In> copy = new ArrayList<>(ins);
        In in = ins.get(k);
        double[] d = in.data().clone();
        d[idx] += delta;
        copy.set(k, new In(in.shape(), d, false));
        Tensor[] t = buildAll(copy);
        Tensor l = loss(c.f().apply(t), u, outShape);
        assertNotNull(l);
        return new double[] {l.item()};
    }
}
