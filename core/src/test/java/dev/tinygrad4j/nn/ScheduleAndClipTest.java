package dev.tinygrad4j.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tinygrad4j.Tensor;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Learning-rate schedules and gradient clipping against torch 2.13's values (printed by torch.optim.lr_scheduler
 * StepLR(o, 3, 0.5), CosineAnnealingLR(o, 5, 0.01), LinearLR(o, 0.25, 1.0, 4) on SGD with lr 0.1, eight steps, and by
 * torch.nn.utils.clip_grad_norm_ on the gradients below).
 */
class ScheduleAndClipTest {
  private static double[] rates(Function<Optimizer, LrScheduler> make) {
    var opt = new SGD(List.of(Tensor.zeros(1).requiresGrad(true)), 0.1);
    var s = make.apply(opt);
    var out = new double[8];
    for (int i = 0; i < 8; i++) { out[i] = opt.lr(); s.step(); }
    return out;
  }

  @Test void schedulesFollowTorch() {
    assertArrayEquals(new double[]{0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025}, rates(o -> LrScheduler.stepLr(o, 3, 0.5)), 1e-7);
    assertArrayEquals(new double[]{0.1, 0.09140576474687263, 0.06890576474687263, 0.04109423525312736, 0.018594235253127367, 0.01,
        0.018594235253127367, 0.04109423525312739}, rates(o -> LrScheduler.cosine(o, 5, 0.01)), 1e-7);
    assertArrayEquals(new double[]{0.025, 0.04375, 0.0625, 0.08125, 0.1, 0.1, 0.1, 0.1}, rates(o -> LrScheduler.linearWarmup(o, 4, 0.25)), 1e-7);
    assertThrows(IllegalArgumentException.class, () -> rates(o -> LrScheduler.stepLr(o, 0, 0.5)));
  }

  @Test void clipGradNormFollowsTorch() {
    var a = Tensor.zeros(2).requiresGrad(true); var b = Tensor.zeros(2, 2).requiresGrad(true);
    a.setGrad(Tensor.of(new float[]{3, -4}));
    b.setGrad(Tensor.of(new float[]{1, 2, 2, 0}, 2, 2));
    assertEquals(5.830951690673828, GradClip.clipGradNorm(List.of(a, b), 2.0).item(), 1e-6);
    assertArrayEquals(new float[]{1.028991460800171f, -1.3719885349273682f}, a.grad().toFloatArray(), 1e-6f);
    assertArrayEquals(new float[]{0.34299713373184204f, 0.6859942674636841f, 0.6859942674636841f, 0}, b.grad().toFloatArray(), 1e-6f);
    var c = Tensor.zeros(2).requiresGrad(true);
    c.setGrad(Tensor.of(new float[]{0.3f, 0.4f}));
    assertEquals(0.5, GradClip.clipGradNorm(List.of(c), 2.0).item(), 1e-6);
    assertArrayEquals(new float[]{0.3f, 0.4f}, c.grad().toFloatArray(), 1e-6f, "a norm below the limit leaves the gradients alone");
  }
}
