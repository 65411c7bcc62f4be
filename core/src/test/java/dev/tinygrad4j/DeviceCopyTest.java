package dev.tinygrad4j;

import dev.tinygrad4j.runtime.Devices;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** Tensors move between every pair of devices, values and gradients intact; mixing devices without to() is an error. */
class DeviceCopyTest {
  @Test void copiesBetweenEveryPairOfDevices() {
    var devs = Devices.available();
    assertTrue(devs.contains("JVM") && devs.contains("INTERP"), devs.toString());
    for (var from : devs) for (var to : devs) {
      Flags.set("DEV", from);
      try {
        var x = Tensor.of(new float[]{1, -2, 3, 4.5f}).reshape(2, 2);
        assertEquals(from, x.device());
        var moved = x.mul(2).to(to);
        assertEquals(to, moved.device());
        assertArrayEquals(new float[]{3, -3, 7, 10}, moved.add(1).toFloatArray(), () -> from + " -> " + to);
        var w = Tensor.of(new float[]{1, 2}).requiresGrad(true);
        w.to(to).square().sum().backward();
        assertArrayEquals(new float[]{2, 4}, w.grad().toFloatArray(), () -> "gradient back from " + to + " to " + from);
        assertEquals(from, w.grad().device());
      } finally {
        Flags.set("DEV", null);
      }
    }
  }

  @Test void mixingDevicesNeedsTo() {
    var a = Tensor.ones(2);
    var other = Devices.available().stream().filter(d -> !d.equals(a.device())).findFirst().orElseThrow();
    var b = Tensor.ones(2).to(other);
    var e = assertThrows(IllegalArgumentException.class, () -> a.add(b));
    assertTrue(e.getMessage().contains(other), e.getMessage());
    assertArrayEquals(new float[]{2, 2}, a.add(b.to(a.device())).toFloatArray());
  }

  @Test void theSameGraphOnTwoDevicesStaysApart() {
    // random numbers and constants make the same nodes on every device: each device keeps its own results
    var devs = Devices.available();
    for (var a : devs) for (var b : devs) {
      try {
        Flags.set("DEV", a);
        Tensor.manualSeed(5);
        var x = Tensor.randn(4, 8).requiresGrad(true).mul(2); // keeps its graph, so results recorded for it stay cached
        var lazy = x.uop();
        var onA = x.toFloatArray();
        Flags.set("DEV", b);
        Tensor.manualSeed(5);
        var y = Tensor.randn(4, 8).mul(2);
        assertEquals(b, y.device());
        assertArrayEquals(onA, y.toFloatArray(), 1e-5f, () -> a + " then " + b);
        assertArrayEquals(onA, y.add(0).toFloatArray(), 1e-5f); // computing on b reads b's buffers only
        assertEquals(b, y.realize().device());
        java.lang.ref.Reference.reachabilityFence(lazy);
      } finally {
        Flags.set("DEV", null);
      }
    }
  }

  @Test void aResultRealizedOnOneDeviceIsNotReadByAnother() {
    try {
      // a graph without buffers is the same node on every device (random numbers read a device's generator state)
      Flags.set("DEV", "CPU");
      var x = Tensor.arange(32).cast(dev.tinygrad4j.DType.FLOAT32).reshape(4, 8).sin().requiresGrad(true).mul(2);
      var lazy = x.uop();
      var onCpu = x.toFloatArray();
      Flags.set("DEV", "JVM");
      var y = Tensor.arange(32).cast(dev.tinygrad4j.DType.FLOAT32).reshape(4, 8).sin().mul(2);
      assertSame(lazy, y.uop(), "the same graph on both devices");
      assertArrayEquals(onCpu, y.toFloatArray(), 1e-5f); // sin/log differ in the last bit between C and Java
      assertArrayEquals(onCpu, y.add(0).toFloatArray(), 1e-5f);
      java.lang.ref.Reference.reachabilityFence(x);
    } finally {
      Flags.set("DEV", null);
    }
  }
}
