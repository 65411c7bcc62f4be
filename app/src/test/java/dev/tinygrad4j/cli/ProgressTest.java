package dev.tinygrad4j.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.*;

class ProgressTest {
  @Test void line() {
    assertEquals("train 42/70 [############........] loss 0.1234  3.1 steps/s  ETA 0:09",
        Progress.line("train", 42, 70, "loss 0.1234", 42 / 3.1));
    assertEquals("  7/100 [#...................]  0.5 steps/s  ETA 3:06", Progress.line("", 7, 100, "", 14));
    assertEquals("0/5 [....................]", Progress.line(null, 0, 5, null, 0)); // no speed before the first step
    assertEquals("5/5 [####################] x  2.5 steps/s  ETA 0:00", Progress.line(null, 5, 5, "x", 2));
    assertEquals("1/2 [##########..........]  20.0 s/step  ETA 0:20", Progress.line(null, 1, 2, "", 20));
  }

  @Test void clock() {
    assertEquals("0:00", Progress.clock(0.2));
    assertEquals("1:05", Progress.clock(65));
    assertEquals("1:02:05", Progress.clock(3725));
  }

  private static String run(boolean terminal, int total, int upTo) {
    var bytes = new ByteArrayOutputStream();
    var p = new Progress("t", total, new PrintStream(bytes, true, StandardCharsets.UTF_8), terminal);
    for (int i = 1; i <= upTo; i++) p.update(i, "");
    p.done();
    return bytes.toString(StandardCharsets.UTF_8);
  }

  @Test void logOutputEveryTenth() {
    var out = run(false, 100, 100);
    assertFalse(out.contains("\r"));
    var lines = out.lines().toList();
    assertEquals(11, lines.size(), out); // step 1, then every 10%
    assertTrue(lines.get(1).startsWith("t  10/100 [##"), lines.get(1));
    assertTrue(lines.getLast().startsWith("t 100/100 [####################]"), lines.getLast());
    var stopped = run(false, 100, 55).lines().toList(); // done() prints the last step when it was not printed
    assertTrue(stopped.getLast().startsWith("t  55/100"), stopped.getLast());
  }

  @Test void terminalRedraws() {
    var out = run(true, 3, 3);
    assertEquals(3, out.chars().filter(c -> c == '\r').count());
    assertTrue(out.endsWith(System.lineSeparator()));
    assertEquals(1, out.chars().filter(c -> c == '\n').count());
  }
}
