package dev.tinygrad4j.cli;

import dev.tinygrad4j.Tensor;
import dev.tinygrad4j.nn.BatchNorm;
import dev.tinygrad4j.nn.Conv2d;
import dev.tinygrad4j.nn.Layer;
import dev.tinygrad4j.nn.Linear;

/**
 * The CNN of tinygrad's beautiful_mnist: two 5×5 convolutions (32 channels), batch norm, 2×2 max pool, two 3×3
 * convolutions (64 channels), batch norm, max pool, and a linear layer to 10 classes. Input (N, 1, 28, 28).
 */
public final class MnistCnn implements Layer {
  final Conv2d conv1 = new Conv2d(1, 32, 5), conv2 = new Conv2d(32, 32, 5);
  final BatchNorm bn1 = new BatchNorm(32);
  final Conv2d conv3 = new Conv2d(32, 64, 3), conv4 = new Conv2d(64, 64, 3);
  final BatchNorm bn2 = new BatchNorm(64);
  final Linear fc = new Linear(576, 10);

  @Override public Tensor forward(Tensor x) {
    x = bn1.forward(conv2.forward(conv1.forward(x).relu()).relu()).maxPool2d(2, 2);
    x = bn2.forward(conv4.forward(conv3.forward(x).relu()).relu()).maxPool2d(2, 2);
    return fc.forward(x.reshape(x.shape()[0], -1));
  }
}
