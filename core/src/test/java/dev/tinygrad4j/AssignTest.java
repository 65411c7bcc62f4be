package dev.tinygrad4j;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Assign writes into the tensor's own buffer where nothing still needs the old contents, and never changes what
 * another tensor holds: kernels that read the old value run first, a value that needs both old and new contents (or
 * reads other elements of the tensor) goes to a new buffer, and results computed before stay what they were.
 */
class AssignTest {
  private static Tensor vec(float... v) { return Tensor.of(v).realize(); }

  @Test void updatesInPlace() {
    var w = vec(1, 2, 3);
    var buf = w.uop().buffer();
    for (int i = 0; i < 3; i++) w.assign(w.add(1)).realize();
    assertSame(buf, w.uop().buffer(), "an elementwise update writes the same buffer");
    assertArrayEquals(new float[]{4, 5, 6}, w.toFloatArray());
  }

  @Test void readersOfTheOldValueInTheSameScheduleRunFirst() {
    for (boolean assignFirst : new boolean[]{true, false}) {
      var w = vec(1, 2, 3);
      var old = w.mul(10);
      w.assign(w.add(1));
      if (assignFirst) Tensor.realizeAll(w, old); else Tensor.realizeAll(old, w);
      assertArrayEquals(new float[]{10, 20, 30}, old.toFloatArray(), "computed from the old value");
      assertArrayEquals(new float[]{2, 3, 4}, w.toFloatArray());
    }
  }

  @Test void aValueNeedingOldAndNewContentsGoesToANewBuffer() {
    var w = vec(1, 2, 3);
    var before = w.mul(1);
    w.assign(w.mul(3));
    var diff = w.sub(before); // reads the new value and the old one
    assertArrayEquals(new float[]{2, 4, 6}, diff.toFloatArray());
    assertArrayEquals(new float[]{3, 6, 9}, w.toFloatArray());
    var f = vec(1, 2, 3);
    f.assign(f.flip(0)); // each element reads another one's old value
    assertArrayEquals(new float[]{3, 2, 1}, f.toFloatArray());
  }

  @Test void tensorsGivenTheSameBufferStayApart() {
    var a = Tensor.zeros(3).contiguous().realize();
    var b = Tensor.zeros(3).contiguous().realize(); // the same graph: the same buffer as a
    b.assign(Tensor.ones(3));
    assertArrayEquals(new float[]{1, 1, 1}, b.toFloatArray());
    assertArrayEquals(new float[]{0, 0, 0}, a.toFloatArray(), "assigning b must not change a");
    a.assign(a.add(5));
    assertArrayEquals(new float[]{5, 5, 5}, a.toFloatArray());
    assertArrayEquals(new float[]{1, 1, 1}, b.toFloatArray());
  }

  @Test void graphsKeepTheValueTheyWereBuiltOnOrFailViewsFollow() {
    var w = vec(1, 2);
    var x = w.mul(2).realize();
    var view = w.reshape(2, 1);
    var lazy = w.add(100); // built before the assign, never realized: its input is gone afterwards
    w.assign(w.add(1)).realize();
    assertArrayEquals(new float[]{2, 4}, x.toFloatArray(), "a realized result keeps its value");
    assertArrayEquals(new float[]{4, 6}, w.mul(2).toFloatArray(), "the same expression built again reads the new contents");
    assertArrayEquals(new float[]{2, 3}, view.toFloatArray(), "a view follows its tensor, as in PyTorch");
    assertArrayEquals(new float[]{3, 4}, view.add(1).toFloatArray());
    var e = assertThrows(IllegalStateException.class, lazy::toFloatArray, "no answer computed from contents that are gone");
    assertTrue(e.getMessage().contains("before an assign overwrote them"), e.getMessage());
    assertArrayEquals(new float[]{102, 103}, w.add(100).toFloatArray(), "and the program goes on");
  }

  @Test void randomDrawsDoNotDependOnWhenTheyAreRealized() {
    Tensor.manualSeed(11);
    var a = Tensor.rand(5).toFloatArray();
    var b = Tensor.rand(5).toFloatArray();
    var c = Tensor.rand(5).toFloatArray();
    Tensor.manualSeed(11);
    var r = Tensor.rand(5); var q = Tensor.rand(5);
    var unrelated = vec(1).add(1).realize(); // realizing anything draws the pending numbers
    var s = Tensor.rand(5);
    assertArrayEquals(b, q.toFloatArray());
    assertArrayEquals(c, s.toFloatArray());
    assertArrayEquals(a, r.toFloatArray());
    assertEquals(2, unrelated.item());
  }
}
