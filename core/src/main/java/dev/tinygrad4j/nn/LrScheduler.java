package dev.tinygrad4j.nn;

import java.util.function.IntToDoubleFunction;

/**
 * A learning-rate schedule: the optimizer's rate as its initial rate times a factor of the step count, set by
 * {@link #step} after each optimizer step (as torch's LRScheduler; the rate is a tensor, so no kernel is compiled
 * again). Factories give torch's StepLR, CosineAnnealingLR and LinearLR.
 */
public final class LrScheduler {
  private final Optimizer opt;
  private final double base;
  private final IntToDoubleFunction rate;
  private int steps;

  private LrScheduler(Optimizer opt, IntToDoubleFunction rate) {
    this.opt = opt;
    this.base = opt.lr();
    this.rate = rate;
    opt.setLr(rate.applyAsDouble(0));
  }

  /** The rate at step t is base · factor(t); base is the optimizer's rate now. */
  public static LrScheduler of(Optimizer opt, IntToDoubleFunction factor) {
    double base = opt.lr();
    return new LrScheduler(opt, t -> base * factor.applyAsDouble(t));
  }

  /** The rate times gamma every stepSize steps (torch's StepLR). */
  public static LrScheduler stepLr(Optimizer opt, int stepSize, double gamma) {
    if (stepSize <= 0) throw new IllegalArgumentException("stepLr: stepSize must be positive, got " + stepSize);
    return of(opt, t -> Math.pow(gamma, t / stepSize));
  }

  /** Cosine from the rate down to etaMin over tMax steps, and back up after (torch's CosineAnnealingLR). */
  public static LrScheduler cosine(Optimizer opt, int tMax, double etaMin) {
    if (tMax <= 0) throw new IllegalArgumentException("cosine: tMax must be positive, got " + tMax);
    double base = opt.lr();
    return new LrScheduler(opt, t -> etaMin + (base - etaMin) * (1 + Math.cos(Math.PI * t / tMax)) / 2);
  }

  /** A linear warm-up from startFactor times the rate to the full rate over steps steps (torch's LinearLR). */
  public static LrScheduler linearWarmup(Optimizer opt, int steps, double startFactor) {
    if (steps <= 0 || !(startFactor > 0 && startFactor <= 1))
      throw new IllegalArgumentException("linearWarmup: need steps > 0 and startFactor in (0, 1], got " + steps + ", " + startFactor);
    return of(opt, t -> startFactor + (1 - startFactor) * Math.min(t, steps) / steps);
  }

  /** Moves on one step and sets the optimizer's rate for the next. */
  public void step() { opt.setLr(rate.applyAsDouble(++steps)); }

  /** Steps taken. */
  public int steps() { return steps; }

  /** The rate the schedule started from. */
  public double base() { return base; }
}
