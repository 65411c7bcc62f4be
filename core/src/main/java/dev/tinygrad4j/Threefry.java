package dev.tinygrad4j;

import dev.tinygrad4j.uop.Ops;
import dev.tinygrad4j.uop.UOp;

/**
 * The Threefry-2x32 block function (20 rounds; Salmon et al., "Parallel random numbers: as easy as 1, 2, 3") built
 * from primitive ops, so every device computes the same words. {@link Tensor#rand} and its relatives draw from it:
 * block (counter, key) gives two 32-bit words, and a counter-based generator needs nothing but a counter that moves on.
 */
public final class Threefry {
  private Threefry() {}

  private static final int[] ROTATIONS = {13, 15, 26, 6, 17, 29, 16, 24};
  private static final long PARITY = 0x1BD11BDAL; // the key schedule's constant

  /**
   * The two output words of the block at counter (c0, c1) under key (k0, k1): uint32 tensors of one shape (or
   * broadcasting); the known-answer vectors of the paper's reference code are in the tests.
   */
  public static Tensor[] block(Tensor c0, Tensor c1, Tensor k0, Tensor k1) {
    for (var t : new Tensor[]{c0, c1, k0, k1})
      if (t.dtype() != DType.UINT32) throw new IllegalArgumentException("Threefry.block: counter and key words must be uint32, got " + t.dtype().lowerName());
    var s = c0.add(c1).add(k0).add(k1).shape(); // (the broadcast shape)
    var out = block(c0.broadcastTo(s).uop(), c1.broadcastTo(s).uop(), k0.broadcastTo(s).uop(), k1.broadcastTo(s).uop());
    return new Tensor[]{Tensor.ofUOp(out[0], c0.device()), Tensor.ofUOp(out[1], c0.device())};
  }

  /** The block function on uint32 UOps of one shape. */
  static UOp[] block(UOp x0, UOp x1, UOp k0, UOp k1) {
    var shape = x0.shape();
    UOp[] ks = {k0, k1, UOp.alu(Ops.XOR, UOp.alu(Ops.XOR, k0, k1), UOp.full(DType.UINT32, PARITY, shape))};
    x0 = x0.add(k0);
    x1 = x1.add(k1);
    for (int g = 0; g < 5; g++) {
      for (int r = 0; r < 4; r++) {
        x0 = x0.add(x1);
        int k = ROTATIONS[(g % 2) * 4 + r];
        var rotl = UOp.alu(Ops.OR, UOp.alu(Ops.SHL, x1, UOp.full(DType.UINT32, k, shape)), UOp.alu(Ops.SHR, x1, UOp.full(DType.UINT32, 32 - k, shape)));
        x1 = UOp.alu(Ops.XOR, rotl, x0);
      }
      x0 = x0.add(ks[(g + 1) % 3]);
      x1 = x1.add(ks[(g + 2) % 3]).add(UOp.full(DType.UINT32, g + 1, shape));
    }
    return new UOp[]{x0, x1};
  }
}
