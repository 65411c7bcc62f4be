#!/usr/bin/python3
"""Generate a safetensors file from PyTorch tensors, for tinygrad4j's SafetensorsTest.

Run with the system interpreter that has PyTorch 1.13:

    /usr/bin/python3 scripts/gen_safetensors.py

It writes
    core/src/test/resources/safetensors/torch.safetensors   the tensors below
    core/src/test/resources/safetensors/torch_expected.txt  their dtype, shape, values and raw element bits

The `safetensors` package is not installed on this machine, so the file is written here with struct and json,
laid out as the reference writer lays it out: a compact JSON header with __metadata__ first, tensors ordered
by dtype (the reference's enum order, widest first) and then by name, the header padded with spaces to a
multiple of 8 bytes. The values come from torch (numpy for the unsigned types torch 1.13 lacks).

Expected file format, one record per tensor:
    tensor NAME DTYPE SHAPE        SHAPE is 'd0,d1,...', '_' for a 0-d scalar
    values v0 v1 ...               ints as integers, bool as 0/1, floats as Python repr (nan, inf, -inf)
    bits b0 b1 ...                 each element's little-endian bytes as an unsigned integer
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "core", "src", "test", "resources", "safetensors")

# the reference implementation's dtype enum order (its writer sorts by this, descending, then by name)
ORDER = ["BOOL", "U8", "I8", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64", "I64", "U64"]
ITEMSIZE = {"BOOL": 1, "U8": 1, "I8": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2, "I32": 4, "U32": 4,
            "F32": 4, "F64": 8, "I64": 8, "U64": 8}
TORCH_CODE = {torch.bool: "BOOL", torch.uint8: "U8", torch.int8: "I8", torch.int16: "I16", torch.int32: "I32",
              torch.int64: "I64", torch.float16: "F16", torch.bfloat16: "BF16", torch.float32: "F32",
              torch.float64: "F64"}
NUMPY_CODE = {np.dtype(np.uint16): "U16", np.dtype(np.uint32): "U32", np.dtype(np.uint64): "U64"}


def tensors():
    torch.manual_seed(1234)
    t = {}
    t["weight"] = torch.randn(2, 3)
    t["f32_special"] = torch.tensor([0.0, -0.0, math.inf, -math.inf, math.nan, 1e-45, 3.4028234663852886e38, -1.5])
    t["f64"] = torch.tensor([1 / 3, -1e-310, 1e300, math.pi, -0.0], dtype=torch.float64)
    t["f16"] = torch.tensor([1.0, -2.5, 65504.0, 6e-8, math.inf, math.nan, 0.1], dtype=torch.float16)
    t["bf16"] = torch.tensor([1.0, -2.5, 3.0e38, 1e-40, -math.inf, 0.1], dtype=torch.bfloat16)
    t["i8"] = torch.tensor([-128, 127, 0, -1], dtype=torch.int8)
    t["u8"] = torch.tensor([0, 255, 17], dtype=torch.uint8)
    t["i16"] = torch.tensor([[-32768, 32767], [0, -2]], dtype=torch.int16)
    t["i32"] = torch.arange(-6, 6, dtype=torch.int32).reshape(3, 2, 2)
    t["i64"] = torch.tensor([-2**63, 2**63 - 1, 0, -1, 1 << 40], dtype=torch.int64)
    t["mask"] = torch.tensor([[True], [False], [True]])
    t["scalar"] = torch.tensor(3.5)
    t["empty"] = torch.zeros(0, 3)
    t["block.0.conv.weight"] = torch.randn(2, 1, 2, 2)
    t["u16"] = np.array([0, 65535, 258], dtype=np.uint16)
    t["u32"] = np.array([0, 4294967295, 16909060], dtype=np.uint32)
    t["u64"] = np.array([0, 2**64 - 1, 2**63, 12345678901234567890], dtype=np.uint64)
    return t


def describe(v):
    """(code, shape, raw little-endian bytes, flat python values) of a torch tensor or numpy array."""
    if isinstance(v, np.ndarray):
        code = NUMPY_CODE[v.dtype]
        return code, list(v.shape), np.ascontiguousarray(v).tobytes(), [int(x) for x in v.reshape(-1)]
    v = v.contiguous()
    code = TORCH_CODE[v.dtype]
    raw = v.view(torch.int16).numpy().tobytes() if v.dtype == torch.bfloat16 else v.numpy().tobytes()
    flat = v.reshape(-1).tolist()
    if code == "BOOL":
        flat = [int(x) for x in flat]
    return code, list(v.shape), raw, flat


def fmt(x):
    if isinstance(x, float):
        return "nan" if math.isnan(x) else repr(x)
    return str(x)


def main():
    assert sys.byteorder == "little"
    os.makedirs(OUT, exist_ok=True)
    items = {name: describe(v) for name, v in tensors().items()}
    names = sorted(items, key=lambda n: (-ORDER.index(items[n][0]), n))

    header = {"__metadata__": {"format": "pt", "source": "torch " + torch.__version__}}
    offset = 0
    for n in names:
        code, shape, raw, _ = items[n]
        assert len(raw) == ITEMSIZE[code] * math.prod(shape)
        header[n] = {"dtype": code, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(os.path.join(OUT, "torch.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for n in names:
            f.write(items[n][2])

    with open(os.path.join(OUT, "torch_expected.txt"), "w") as f:
        for n in names:
            code, shape, raw, flat = items[n]
            size = ITEMSIZE[code]
            bits = [int.from_bytes(raw[i:i + size], "little") for i in range(0, len(raw), size)]
            f.write("tensor %s %s %s\n" % (n, code, ",".join(map(str, shape)) if shape else "_"))
            f.write("values" + "".join(" " + fmt(x) for x in flat) + "\n")
            f.write("bits" + "".join(" %d" % b for b in bits) + "\n")
    print("wrote %d tensors, %d data bytes, header %d bytes" % (len(names), offset, len(text)))


if __name__ == "__main__":
    main()
