# The training step of tinygrad4j's MNIST CNN in PyTorch, for `tinygrad4j bench mnist`.
# usage: python3 mnist_step.py BATCH WARMUP RUNS  -> prints "seconds MEDIAN threads N torch VERSION"
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

batch, warmup, runs = (int(a) for a in sys.argv[1:4])
torch.manual_seed(0)
model = nn.Sequential(
    nn.Conv2d(1, 32, 5), nn.ReLU(), nn.Conv2d(32, 32, 5), nn.ReLU(), nn.BatchNorm2d(32), nn.MaxPool2d(2),
    nn.Conv2d(32, 64, 3), nn.ReLU(), nn.Conv2d(64, 64, 3), nn.ReLU(), nn.BatchNorm2d(64), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(576, 10))
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
x = torch.rand(batch, 1, 28, 28)
y = torch.randint(0, 10, (batch,))
model.train()
times = []
for i in range(warmup + runs):
    t0 = time.perf_counter()
    opt.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    loss.item()
    if i >= warmup:
        times.append(time.perf_counter() - t0)
times.sort()
print(f"seconds {times[len(times) // 2]:.4f} threads {torch.get_num_threads()} torch {torch.__version__}")
