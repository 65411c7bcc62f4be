package dev.tinygrad4j.ops;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.Jit;
import dev.tinygrad4j.Tensor;
import dev.tinygrad4j.nn.Embedding;
import org.junit.jupiter.api.Test;

import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Values only a kernel sees are checked too, on every device: an index or label out of range and a probability
 * outside [0, 1] are errors naming the op (never a silent zero), the program stays usable after one, and a JIT
 * replay checks as the first run did. Integer sums accumulate in int64, as torch's do.
 */
class CheckedDataTest {
  private static IllegalArgumentException fails(Runnable r) { return assertThrows(IllegalArgumentException.class, r::run); }

  @Test void gatherIndexOutOfRange() {
    var x = Tensor.of(new float[]{1, 2, 3, 4, 5, 6}).reshape(2, 3);
    assertArrayEquals(new float[]{3, 1, 4, 6}, x.gather(1, Tensor.of(new int[]{-1, 0, 0, 2}).reshape(2, 2)).toFloatArray(), "negative indices count from the end");
    var e = fails(() -> x.gather(1, Tensor.of(new int[]{0, 3, 1, 1}).reshape(2, 2)).toFloatArray());
    assertTrue(e.getMessage().contains("gather") && e.getMessage().contains("[-3, 3)") && e.getMessage().contains("[2, 3]"), e.getMessage());
    fails(() -> x.gather(1, Tensor.of(new int[]{0, -4, 1, 1}).reshape(2, 2)).toFloatArray());
    var big = Tensor.of(new int[]{0, 1}).cast(DType.INT64).add(Tensor.of(new int[]{0, 1}).cast(DType.INT64).mul(1L << 40)).reshape(1, 2);
    fails(() -> x.gather(1, big).toFloatArray()); // 2^40 + 1 must not wrap to 1 on the way to int32
    assertArrayEquals(new float[]{2, 5}, x.gather(1, Tensor.of(new int[]{1, 1}).reshape(2, 1)).toFloatArray(), "usable after the error");
  }

  @Test void unsignedIndicesAreNotOutOfRangeByTheirSign() {
    var x = Tensor.of(new float[]{1, 2, 3, 4});
    var idx = Tensor.of(new int[]{3, 0, 255}).cast(DType.UINT8);
    fails(() -> x.gather(0, idx).toFloatArray());
    assertArrayEquals(new float[]{4, 1}, x.gather(0, Tensor.of(new int[]{3, 0}).cast(DType.UINT32)).toFloatArray());
  }

  @Test void crossEntropyLabelOutOfRange() {
    var logits = Tensor.of(new float[][]{{1, 2, 3}, {0, 0, 1}});
    double good = logits.crossEntropy(Tensor.of(new int[]{2, 0})).item();
    double want = -((3 - Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3))) + (0 - Math.log(2 + Math.E))) / 2;
    assertEquals(want, good, 1e-5);
    var e = fails(() -> logits.crossEntropy(Tensor.of(new int[]{3, 0})).item());
    assertTrue(e.getMessage().startsWith("crossEntropy") && e.getMessage().contains("[0, 3)"), e.getMessage());
    fails(() -> logits.crossEntropy(Tensor.of(new int[]{0, -1})).item());
  }

  @Test void embeddingIndexOutOfRange() {
    Tensor.manualSeed(3);
    var emb = new Embedding(4, 2);
    var w = emb.weight.toFloatArray();
    assertArrayEquals(new float[]{w[6], w[7], w[0], w[1]}, emb.forward(Tensor.of(new int[]{3, 0})).toFloatArray());
    var e = fails(() -> emb.forward(Tensor.of(new int[]{1, 4})).toFloatArray());
    assertTrue(e.getMessage().startsWith("Embedding") && e.getMessage().contains("4 rows"), e.getMessage());
  }

  @Test void binaryCrossEntropyOfNoProbability() {
    var t = Tensor.of(new float[]{1, 0});
    assertEquals(-(Math.log(0.75) + Math.log(1 - 0.25)) / 2, Tensor.of(new float[]{0.75f, 0.25f}).binaryCrossEntropy(t).item(), 1e-6);
    assertEquals(0, Tensor.of(new float[]{1, 0}).binaryCrossEntropy(t).item(), 1e-6, "the ends are probabilities");
    var e = fails(() -> Tensor.of(new float[]{1.5f, 0.5f}).binaryCrossEntropy(t).item());
    assertTrue(e.getMessage().startsWith("binaryCrossEntropy"), e.getMessage());
    fails(() -> Tensor.of(new float[]{-0.01f, 0.5f}).binaryCrossEntropy(t).item());
    fails(() -> Tensor.of(new float[]{Float.NaN, 0.5f}).binaryCrossEntropy(t).item());
  }

  @Test void jitReplaysCheck() {
    var x = Tensor.of(new float[]{10, 20, 30});
    var jit = Jit.of1(i -> x.gather(0, i).mul(2));
    for (int k = 0; k < 3; k++) assertArrayEquals(new float[]{60, 20}, jit.call1(Tensor.of(new int[]{2, 0})).toFloatArray(), "call " + k);
    assertEquals(1, jit.captures());
    var e = fails(() -> jit.call1(Tensor.of(new int[]{2, 3})));
    assertTrue(e.getMessage().startsWith("gather"), e.getMessage());
    assertArrayEquals(new float[]{40, 40}, jit.call1(Tensor.of(new int[]{1, 1})).toFloatArray(), "replays go on after the error");
    assertEquals(1, jit.captures());
  }

  @Test void anErrorGoesToTheThreadWhoseDataItIs() throws Exception {
    var x = Tensor.of(new float[]{1, 2});
    var bad = x.gather(0, Tensor.of(new int[]{7})); // checked by this thread's next realize, not another's
    var other = new java.util.concurrent.atomic.AtomicReference<float[]>();
    var t = new Thread(() -> other.set(Tensor.of(new float[]{3, 4}).mul(2).toFloatArray()));
    t.start();
    t.join();
    assertArrayEquals(new float[]{6, 8}, other.get());
    fails(bad::realize);
  }

  @Test void labelsNameWhereTheCheckWasMade() {
    var x = Tensor.of(new float[]{1, 2});
    var e = fails(() -> Tensor.checkLabel("node 'g' (Gather)", () -> x.gather(0, Tensor.of(new int[]{5}))).realize());
    assertTrue(e.getMessage().startsWith("node 'g' (Gather): gather"), e.getMessage());
  }

  @Test void integerSumsAccumulateInInt64() {
    var a = Tensor.arange(100000);
    assertEquals(DType.INT64, a.sum().dtype());
    assertArrayEquals(new long[]{4999950000L}, a.sum().toLongArray(), "0 + 1 + ... + 99999 past 2^31");
    var bits = Tensor.of(new int[]{1, 0, 1, 1}).cast(DType.BOOL);
    assertEquals(DType.INT64, bits.sum().dtype());
    assertEquals(3, bits.sum().item());
    var bytes = Tensor.of(new int[]{200, 200, 200}).cast(DType.UINT8);
    assertArrayEquals(new long[]{600}, bytes.sum().toLongArray(), "uint8 sums do not wrap at 256");
    var big = Tensor.full(70000, 3).cast(DType.INT32);
    assertArrayEquals(new long[]{343000000000000L}, big.prod(false).toLongArray(), "70000^3 as torch.prod gives it");
    long[] want = LongStream.rangeClosed(1, 5).map(n -> n * 1000000000L).toArray();
    assertArrayEquals(want, Tensor.full(1e9, 5).cast(DType.INT32).cumsum(0).toLongArray(), "cumsum past 2^31");
    assertEquals(DType.INT64, Tensor.of(new int[]{1}).cumsum(0).dtype());
    var m = Tensor.of(new int[]{1, 2, 3, 4}).reshape(2, 2);
    var mm = m.matmul(m);
    assertEquals(DType.INT32, mm.dtype(), "a matmul keeps its integer type, as torch's does");
    assertArrayEquals(new int[]{7, 10, 15, 22}, mm.toIntArray());
  }
}
