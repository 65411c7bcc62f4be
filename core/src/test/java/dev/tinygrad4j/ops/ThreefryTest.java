package dev.tinygrad4j.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.Tensor;
import dev.tinygrad4j.Threefry;
import org.junit.jupiter.api.Test;

/**
 * Threefry-2x32 (20 rounds) against the known-answer vectors published with the reference implementation (Random123's
 * kat_vectors, also in JAX's tests): a wrong rotation constant, key-schedule constant or round count fails here.
 */
class ThreefryTest {
  private static Tensor u32(int... v) { return Tensor.of(v).cast(DType.UINT32); }

  @Test void knownAnswers() {
    // counter (c0, c1), key (k0, k1) → (y0, y1), one vector per lane
    var c0 = u32(0, 0xffffffff, 0x243f6a88); var c1 = u32(0, 0xffffffff, 0x85a308d3);
    var k0 = u32(0, 0xffffffff, 0x13198a2e); var k1 = u32(0, 0xffffffff, 0x03707344);
    var y = Threefry.block(c0, c1, k0, k1);
    assertArrayEquals(new long[]{0x6b200159L, 0x1cb996fcL, 0xc4923a9cL}, y[0].cast(DType.INT64).toLongArray());
    assertArrayEquals(new long[]{0x99ba4efeL, 0xbb002be7L, 0x483df7a0L}, y[1].cast(DType.INT64).toLongArray());
  }

  @Test void wordsMustBeUint32() {
    assertThrows(IllegalArgumentException.class, () -> Threefry.block(Tensor.of(new int[]{0}), u32(0), u32(0), u32(0)));
  }
}
