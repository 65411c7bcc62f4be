package dev.tinygrad4j.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.Tensor;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Statistical tests for the random ops (not comparable with torch): rand, randn, randint, manualSeed, dropout.
 * Bounds are many standard errors wide, so these tests are not flaky for a correct generator.
 */
class RandomTest {
    static final int N = 100_000;

    static double mean(float[] v) {
        double s = 0;
        for (float x : v) s += x;
        return s / v.length;
    }

    static double variance(float[] v) {
        double m = mean(v), s = 0;
        for (float x : v) s += (x - m) * (x - m);
        return s / (v.length - 1);
    }

    @Test
    void randIsUniformOnUnitInterval() {
        Tensor.manualSeed(1234);
        Tensor t = Tensor.rand(N);
        assertArrayEquals(new int[] {N}, t.shape());
        assertEquals(DType.FLOAT32, t.dtype());
        float[] v = t.toFloatArray();
        assertEquals(N, v.length);
        for (int i = 0; i < v.length; i++)
            assertTrue(v[i] >= 0f && v[i] < 1f, "rand value out of [0,1) at " + i + ": " + v[i]);
        // standard error of the mean is ~0.0009, of the variance ~0.0002
        assertEquals(0.5, mean(v), 0.01, "mean of rand");
        assertEquals(1.0 / 12.0, variance(v), 0.003, "variance of rand");
        // each tenth of [0,1) gets ~10% of the samples
        int[] bins = new int[10];
        for (float x : v) bins[Math.min(9, (int) (x * 10))]++;
        for (int b = 0; b < 10; b++) assertEquals(N / 10.0, bins[b], N * 0.01, "rand histogram bin " + b + " " + Arrays.toString(bins));
        // not all identical, not a repeating short pattern
        assertTrue(Arrays.stream(Arrays.copyOf(boxed(v), 1000)).distinct().count() > 990, "rand values repeat too much");
    }

    @Test
    void randMultiDimShape() {
        Tensor t = Tensor.rand(2, 3, 4);
        assertArrayEquals(new int[] {2, 3, 4}, t.shape());
        assertEquals(24, t.toFloatArray().length);
    }

    @Test
    void randnIsStandardNormal() {
        Tensor.manualSeed(99);
        Tensor t = Tensor.randn(N);
        assertArrayEquals(new int[] {N}, t.shape());
        assertEquals(DType.FLOAT32, t.dtype());
        float[] v = t.toFloatArray();
        for (float x : v) assertTrue(Float.isFinite(x), "randn produced " + x);
        assertEquals(0.0, mean(v), 0.02, "mean of randn");
        assertEquals(1.0, Math.sqrt(variance(v)), 0.02, "std of randn");
        // ~68.27% within one sigma, ~95.45% within two
        long in1 = 0, in2 = 0, neg = 0;
        for (float x : v) {
            if (Math.abs(x) < 1) in1++;
            if (Math.abs(x) < 2) in2++;
            if (x < 0) neg++;
        }
        assertEquals(0.6827, in1 / (double) N, 0.01, "fraction within 1 sigma");
        assertEquals(0.9545, in2 / (double) N, 0.006, "fraction within 2 sigma");
        assertEquals(0.5, neg / (double) N, 0.01, "fraction negative");
    }

    @Test
    void randintRangeAndUniformity() {
        Tensor.manualSeed(7);
        int lo = -3, hi = 5;
        Tensor t = Tensor.randint(lo, hi, N);
        assertArrayEquals(new int[] {N}, t.shape());
        assertEquals(DType.INT32, t.dtype());
        int[] v = t.toIntArray();
        int[] counts = new int[hi - lo];
        for (int i = 0; i < v.length; i++) {
            assertTrue(v[i] >= lo && v[i] < hi, "randint value out of [" + lo + "," + hi + ") at " + i + ": " + v[i]);
            counts[v[i] - lo]++;
        }
        double expected = N / (double) (hi - lo);
        for (int k = 0; k < counts.length; k++)
            assertEquals(expected, counts[k], expected * 0.05, "randint count of " + (lo + k) + " " + Arrays.toString(counts));
        Tensor m = Tensor.randint(0, 10, 3, 4);
        assertArrayEquals(new int[] {3, 4}, m.shape());
    }

    @Test
    void manualSeedReproducibility() {
        Tensor.manualSeed(42);
        float[] a1 = Tensor.rand(64).toFloatArray();
        float[] a2 = Tensor.randn(64).toFloatArray();
        int[] a3 = Tensor.randint(0, 1000, 64).toIntArray();
        Tensor.manualSeed(42);
        float[] b1 = Tensor.rand(64).toFloatArray();
        float[] b2 = Tensor.randn(64).toFloatArray();
        int[] b3 = Tensor.randint(0, 1000, 64).toIntArray();
        assertArrayEquals(a1, b1, "rand after the same seed");
        assertArrayEquals(a2, b2, "randn after the same seed");
        assertArrayEquals(a3, b3, "randint after the same seed");
        assertFalse(Arrays.equals(a1, Tensor.rand(64).toFloatArray()), "consecutive rand calls must differ");
        Tensor.manualSeed(43);
        assertFalse(Arrays.equals(a1, Tensor.rand(64).toFloatArray()), "a different seed must give different rand values");
        Tensor.manualSeed(43);
        assertFalse(Arrays.equals(a2, Tensor.randn(64).toFloatArray()), "a different seed must give different randn values");
    }

    @Test
    void dropoutZeroesFractionAndScales() {
        Tensor.manualSeed(5);
        for (double p : new double[] {0.1, 0.5, 0.8}) {
            float[] v;
            try (var t = Tensor.train()) { v = Tensor.ones(N).dropout(p).toFloatArray(); }
            assertEquals(N, v.length);
            float scale = (float) (1.0 / (1.0 - p));
            int zeros = 0;
            for (int i = 0; i < v.length; i++) {
                if (v[i] == 0f) zeros++;
                else assertEquals(scale, v[i], 1e-5 * scale, "kept value must be scaled by 1/(1-p), p=" + p + " index " + i);
            }
            assertEquals(p, zeros / (double) N, 0.01, "fraction zeroed for p=" + p);
        }
    }

    @Test
    void dropoutIsIdentityOutsideTraining() {
        Tensor x = Tensor.randn(100);
        assertFalse(Tensor.training(), "training mode is off by default");
        assertArrayEquals(x.toFloatArray(), x.dropout(0.5).toFloatArray(), "dropout outside training mode must be the identity");
        try (var t = Tensor.train()) {
            assertTrue(Tensor.training());
            assertFalse(Arrays.equals(x.toFloatArray(), x.dropout(0.5).toFloatArray()), "dropout in training mode must drop");
        }
        assertFalse(Tensor.training(), "closing the scope restores the mode");
    }

    @Test
    void dropoutZeroIsIdentity() {
        Tensor x = Tensor.randn(3, 4);
        float[] before = x.toFloatArray();
        Tensor y = x.dropout(0.0);
        assertArrayEquals(new int[] {3, 4}, y.shape());
        assertArrayEquals(before, y.toFloatArray(), "dropout(0) must be the identity");
    }

    @Test
    void dropoutGradientMatchesMask() {
        Tensor.manualSeed(11);
        float[] xv = new float[1000];
        for (int i = 0; i < xv.length; i++) xv[i] = 1.0f + i * 0.001f; // a fresh buffer (not an interned constant)
        Tensor x = Tensor.of(xv).requiresGrad(true);
        Tensor y;
        try (var t = Tensor.train()) { y = x.dropout(0.5); }
        // backward before reading y: reading realizes y (see OpReferenceTest.backwardAfterReadingValues)
        y.sum().backward();
        assertNotNull(x.grad(), "dropout must propagate gradients");
        float[] g = x.grad().toFloatArray();
        float[] yv = y.toFloatArray();
        // d(sum y)/dx = mask / (1 - p), and y = x * mask / (1 - p): the same elements are dropped in both
        int kept = 0;
        for (int i = 0; i < g.length; i++) {
            assertTrue(g[i] == 0f || Math.abs(g[i] - 2f) < 1e-5, "dropout grad must be 0 or 1/(1-p) at " + i + ": " + g[i]);
            assertEquals(g[i] * xv[i], yv[i], 1e-5, "dropout output and grad use different masks at " + i);
            if (g[i] != 0f) kept++;
        }
        assertEquals(0.5, kept / 1000.0, 0.08, "fraction kept");
    }

    private static Float[] boxed(float[] v) {
        Float[] r = new Float[v.length];
        for (int i = 0; i < v.length; i++) r[i] = v[i];
        return r;
    }
}
