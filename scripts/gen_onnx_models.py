"""
Writes small models exported from PyTorch with torch.onnx.export, each with an input and PyTorch's output, for
TorchExportTest (onnx module):
    /usr/bin/python3 scripts/gen_onnx_models.py   # Debian's python3-torch (PyTorch 1.13)
into onnx/src/test/resources/torch/NAME.onnx, NAME_x.npy, NAME_y.npy.
"""
import os
import torch, numpy as np
OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "onnx", "src", "test", "resources", "torch")
torch.manual_seed(0)
class CNN(torch.nn.Module):
    def __init__(s):
        super().__init__()
        s.c1 = torch.nn.Conv2d(3, 8, 3, padding=1); s.bn = torch.nn.BatchNorm2d(8); s.c2 = torch.nn.Conv2d(8, 16, 3, stride=2, padding=1, groups=2)
        s.fc = torch.nn.Linear(16 * 4 * 4, 10)
    def forward(s, x):
        x = torch.nn.functional.relu(s.bn(s.c1(x))); x = torch.nn.functional.max_pool2d(x, 2); x = torch.nn.functional.gelu(s.c2(x))
        x = torch.nn.functional.adaptive_avg_pool2d(x, 4)
        return torch.softmax(s.fc(x.flatten(1)), -1)
class TF(torch.nn.Module):
    def __init__(s):
        super().__init__()
        s.emb = torch.nn.Embedding(100, 32); s.layer = torch.nn.TransformerEncoderLayer(32, 4, 64, batch_first=True, dropout=0.0); s.ln = torch.nn.LayerNorm(32)
    def forward(s, ids): return s.ln(s.layer(s.emb(ids))).mean(1)
class Misc(torch.nn.Module):
    def forward(s, x):
        y = torch.nn.functional.interpolate(x, scale_factor=2, mode="nearest")
        z = torch.nn.functional.pad(x, (1, 2, 0, 1), mode="reflect")
        return y.sum(dim=(2, 3)) + z.amax(dim=(2, 3)) + torch.cumsum(x, 3)[..., -1].mean(-1) + torch.where(x > 0, x, x * 0.1).std(dim=(2, 3))
class MLP(torch.nn.Module):
    def __init__(s):
        super().__init__()
        s.net = torch.nn.Sequential(torch.nn.Linear(20, 32), torch.nn.SiLU(), torch.nn.Dropout(0.3), torch.nn.Linear(32, 32), torch.nn.Tanh(), torch.nn.Linear(32, 5))
    def forward(s, x): return torch.log_softmax(s.net(x), -1)
class Seq(torch.nn.Module):
    def __init__(s):
        super().__init__()
        s.lstm = torch.nn.LSTM(8, 16, num_layers=2, bidirectional=True, batch_first=True); s.gru = torch.nn.GRU(32, 12); s.rnn = torch.nn.RNN(12, 6, nonlinearity="relu")
    def forward(s, x):
        y, _ = s.lstm(x); y, h = s.gru(y.transpose(0, 1)); y, _ = s.rnn(y)
        return y.sum(0) + h[0].mean(-1, keepdim=True)
MODELS = [("cnn", CNN(), torch.randn(2, 3, 16, 16), 13), ("transformer", TF(), torch.randint(0, 100, (2, 7)), 17),
          ("misc", Misc(), torch.randn(2, 3, 6, 6), 13), ("mlp", MLP(), torch.randn(4, 20), 11),
          ("seq", Seq(), torch.randn(3, 5, 8), 14)]
for name, m, inp, opset in MODELS:
    m.eval()
    with torch.no_grad():
        out = m(inp)
    torch.onnx.export(m, (inp,), os.path.join(OUT, f"{name}.onnx"), opset_version=opset, input_names=["x"], output_names=["y"])
    np.save(os.path.join(OUT, f"{name}_x.npy"), inp.numpy()); np.save(os.path.join(OUT, f"{name}_y.npy"), out.numpy())
    print(name, "exported", tuple(out.shape))
