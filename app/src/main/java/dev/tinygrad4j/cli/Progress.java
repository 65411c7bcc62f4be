package dev.tinygrad4j.cli;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line progress bar on stdout: {@code train  42/70 [############........] loss 0.1234  3.1 steps/s  ETA 0:09}.
 * On a terminal the line is redrawn in place with '\r'; when stdout is not a terminal (a CI log, a pipe) a full line
 * is printed only about every 10% of the steps, so logs stay readable.
 */
public final class Progress {
  private static final int BAR = 20;
  private final String label;
  private final int total;
  private final PrintStream out;
  private final boolean terminal;
  private final long start = System.nanoTime();
  private int printedTenth = -1, drawnLength;
  private String pending; // non-terminal: the latest line not printed yet

  /** A bar for steps 1..total, printed to stdout. */
  public Progress(String label, int total) { this(label, total, System.out, System.console() != null); }

  Progress(String label, int total, PrintStream out, boolean terminal) {
    this.label = label;
    this.total = total;
    this.out = out;
    this.terminal = terminal;
  }

  /** Shows that step (1..total) is done; extra (e.g. "loss 0.1234") goes after the bar, may be empty. */
  public void update(int step, String extra) {
    var text = line(label, step, total, extra, (System.nanoTime() - start) / 1e9);
    if (terminal) {
      out.print("\r" + text + " ".repeat(Math.max(0, drawnLength - text.length())));
      out.flush();
      drawnLength = text.length();
      return;
    }
    int tenth = total <= 0 ? 10 : (int) Math.min(10, 10L * step / total);
    if (tenth > printedTenth) {
      out.println(text);
      printedTenth = tenth;
      pending = null;
    } else {
      pending = text;
    }
  }

  /** Ends the bar: a newline on a terminal, else the last line if it was not printed yet. */
  public void done() {
    if (terminal) out.println();
    else if (pending != null) out.println(pending);
    pending = null;
  }

  /**
   * The text of the bar after elapsedSeconds: label, step/total, the bar, extra, speed (steps/s, or s/step below
   * 0.1 steps/s) and the estimated time left; speed and ETA are left out while no step is done.
   */
  public static String line(String label, int step, int total, String extra, double elapsedSeconds) {
    int filled = total <= 0 ? BAR : (int) Math.clamp((long) BAR * step / total, 0, BAR);
    var sb = new StringBuilder();
    if (label != null && !label.isEmpty()) sb.append(label).append(' ');
    var count = String.valueOf(total);
    sb.append(" ".repeat(Math.max(0, count.length() - String.valueOf(step).length()))).append(step).append('/').append(count);
    sb.append(" [").append("#".repeat(filled)).append(".".repeat(BAR - filled)).append(']');
    if (extra != null && !extra.isEmpty()) sb.append(' ').append(extra);
    double rate = elapsedSeconds > 0 ? step / elapsedSeconds : 0;
    if (rate > 0) {
      sb.append(rate >= 0.1 ? String.format(Locale.ROOT, "  %.1f steps/s", rate) : String.format(Locale.ROOT, "  %.1f s/step", 1 / rate));
      sb.append("  ETA ").append(clock(Math.max(0, total - step) / rate));
    }
    return sb.toString();
  }

  /** Seconds as m:ss, or h:mm:ss from an hour on. */
  static String clock(double seconds) {
    long s = Math.round(seconds), h = s / 3600, m = s / 60 % 60;
    return h > 0 ? String.format(Locale.ROOT, "%d:%02d:%02d", h, m, s % 60) : String.format(Locale.ROOT, "%d:%02d", m, s % 60);
  }
}
