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
}
