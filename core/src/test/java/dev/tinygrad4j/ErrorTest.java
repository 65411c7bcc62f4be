package dev.tinygrad4j;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import static org.junit.jupiter.api.Assertions.*;

/** Bad input throws a clear exception naming the op and the shapes, and leaves the program usable. */
class ErrorTest {
  private static void fails(Class<? extends Throwable> type, Executable e, String... mustMention) {
    var ex = assertThrows(type, e);
    for (var m : mustMention) assertTrue(ex.getMessage().contains(m), () -> "message '" + ex.getMessage() + "' should mention " + m);
    // still usable afterwards
    assertArrayEquals(new float[]{2, 4}, Tensor.of(new float[]{1, 2}).mul(2).toFloatArray());
  }

  private final Tensor a = Tensor.ones(2, 3), b = Tensor.ones(4, 5);

  @Test void reshapeToAnotherSize() { fails(IllegalArgumentException.class, () -> a.reshape(4, 2), "reshape", "[2, 3]", "[4, 2]"); }
  @Test void reshapeTwoInferred() { fails(IllegalArgumentException.class, () -> a.reshape(-1, -1), "reshape"); }
  @Test void broadcastMismatch() { fails(IllegalArgumentException.class, () -> a.add(b), "add", "[2, 3]", "[4, 5]"); }
  @Test void mulMismatch() { fails(IllegalArgumentException.class, () -> a.mul(Tensor.ones(3, 2)), "mul", "[2, 3]", "[3, 2]"); }
  @Test void matmulNotAligned() { fails(IllegalArgumentException.class, () -> a.matmul(b), "matmul", "[2, 3]", "[4, 5]"); }
  @Test void badAxis() {
    fails(IllegalArgumentException.class, () -> a.sum(2), "sum", "axis 2", "[2, 3]");
    fails(IllegalArgumentException.class, () -> a.softmax(-3), "axis -3", "[2, 3]");
  }
  @Test void badPermute() { fails(IllegalArgumentException.class, () -> a.permute(0, 0), "permute", "[2, 3]"); }
  @Test void badExpand() { fails(IllegalArgumentException.class, () -> a.expand(4, 3), "expand", "[2, 3]", "[4, 3]"); }
  @Test void badShrink() { fails(IllegalArgumentException.class, () -> a.shrink(new int[][]{{0, 3}, {0, 3}}), "shrink", "[2, 3]"); }
  @Test void badPad() { fails(IllegalArgumentException.class, () -> a.pad(new int[][]{{1, 1}}), "pad", "[2, 3]"); }
  @Test void catShapes() { fails(IllegalArgumentException.class, () -> Tensor.cat(0, a, b), "cat", "[2, 3]", "[4, 5]"); }
  @Test void stackShapes() { fails(IllegalArgumentException.class, () -> Tensor.stack(0, a, b), "stack", "[2, 3]", "[4, 5]"); }
  @Test void conv2dChannels() {
    fails(IllegalArgumentException.class, () -> Tensor.ones(1, 3, 5, 5).conv2d(Tensor.ones(2, 4, 3, 3), null, 1, 0, 1, 1),
        "conv2d", "[1, 3, 5, 5]", "[2, 4, 3, 3]");
  }
  @Test void crossEntropyShapes() {
    fails(IllegalArgumentException.class, () -> a.crossEntropy(Tensor.of(new int[]{0, 1, 2})), "crossEntropy", "[2, 3]", "[3]");
  }
  @Test void backwardOnNonScalar() {
    var x = Tensor.ones(2, 3).requiresGrad(true);
    fails(IllegalStateException.class, () -> x.mul(2).backward(), "backward", "[2, 3]");
  }
  @Test void backwardWithoutGrad() { fails(IllegalStateException.class, () -> a.sum().backward(), "backward"); }
  @Test void itemOnNonScalar() { fails(IllegalStateException.class, a::item, "item", "[2, 3]"); }
  @Test void unknownDevice() { fails(IllegalArgumentException.class, () -> a.to("NOPE"), "NOPE"); }
  @Test void raggedMatrix() { fails(IllegalArgumentException.class, () -> Tensor.of(new float[][]{{1, 2}, {3}}), "of", "row 1"); }
  @Test void negativeShape() { fails(IllegalArgumentException.class, () -> Tensor.zeros(2, -1), "[2, -1]"); }
}
