#!/usr/bin/python3
"""Generate .npy files with NumPy, for tinygrad4j's NpyTest.

Run with the system interpreter that has NumPy 1.24:

    /usr/bin/python3 scripts/gen_npy.py

It writes core/src/test/resources/npy/NAME.npy for each array below (np.save, or np.lib.format.write_array for
the explicit 2.0 and 3.0 headers) and core/src/test/resources/npy/expected.txt, one record per file:

    array NAME DESCR FORTRAN SHAPE     DESCR as in the header ('<f4', '>i8', '|b1'), FORTRAN 0/1,
                                       SHAPE 'd0,d1,...', '_' for a 0-d array
    values v0 v1 ...                   C order; ints in decimal, bool as 0/1, floats as Python repr (exact)
    bits b0 b1 ...                     C order; each element's value bits in hex (0x3f800000 for 1.0f)
"""
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "core", "src", "test", "resources", "npy")


def arrays():
    rng = np.random.default_rng(1234)
    a = {}
    a["f4"] = np.array([[0.0, -0.0, np.inf, -np.inf], [np.nan, 1e-45, 3.4028234663852886e38, -1.5]], np.float32)
    a["f8"] = np.array([1 / 3, -1e-310, 1e300, np.pi, -0.0], np.float64)
    a["f2"] = np.array([1.0, -2.5, 65504.0, 6e-8, np.inf, np.nan, 0.1], np.float16)
    a["i1"] = np.array([-128, 127, 0, -1], np.int8)
    a["u1"] = np.array([0, 255, 17], np.uint8)
    a["i2"] = np.array([[-32768, 32767], [0, -2]], np.int16)
    a["u2"] = np.array([0, 65535, 258], np.uint16)
    a["i4"] = np.arange(-6, 6, dtype=np.int32).reshape(3, 2, 2)
    a["u4"] = np.array([0, 4294967295, 16909060], np.uint32)
    a["i8"] = np.array([-2**63, 2**63 - 1, 0, -1, 1 << 40], np.int64)
    a["u8"] = np.array([0, 2**64 - 1, 2**63, 12345678901234567890], np.uint64)
    a["b1"] = np.array([[True], [False], [True]])
    a["random_f4"] = rng.standard_normal((3, 4)).astype(np.float32)
    for k in ["f4", "f8", "f2", "i2", "u2", "i4", "u4", "i8", "u8"]:
        a[k + "_be"] = a[k].astype(a[k].dtype.newbyteorder(">"))
    a["f4_fortran"] = np.asfortranarray(np.arange(24, dtype=np.float32).reshape(2, 3, 4))
    a["i2_fortran_be"] = np.asfortranarray((np.arange(6, dtype=np.int16).reshape(2, 3) * -7).astype(">i2"))
    a["scalar_f8"] = np.array(3.5)
    a["scalar_i8"] = np.array(-42, np.int64)
    a["empty_f4"] = np.zeros((0, 3), np.float32)
    a["v2_f4"] = rng.standard_normal((2, 3)).astype(np.float32)
    a["v3_i4"] = np.array([[1, -2], [3, -4]], np.int32)
    return a


def fmt(x):
    if isinstance(x, bool):
        return str(int(x))
    return repr(x)


def main():
    assert sys.byteorder == "little"
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "expected.txt"), "w") as f:
        for name, a in arrays().items():
            path = os.path.join(OUT, name + ".npy")
            with open(path, "wb") as out:
                version = {"v2": (2, 0), "v3": (3, 0)}.get(name[:2])
                np.lib.format.write_array(out, a, version=version)
            with open(path, "rb") as check:
                assert check.read(8)[6:] == bytes([version[0] if version else 1, 0])
            fortran = a.flags.f_contiguous and not a.flags.c_contiguous
            back = np.load(path)
            assert back.dtype == a.dtype and back.shape == a.shape and back.tobytes() == a.tobytes()
            little = np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<"))
            bits = little.reshape(-1).view(np.uint8 if a.dtype.itemsize == 1 else "<u%d" % a.dtype.itemsize)
            f.write("array %s %s %d %s\n" % (name, a.dtype.str, fortran, ",".join(map(str, a.shape)) or "_"))
            f.write("values" + "".join(" " + fmt(x) for x in a.reshape(-1).tolist()) + "\n")
            f.write("bits" + "".join(" 0x%0*x" % (2 * a.dtype.itemsize, int(b)) for b in bits) + "\n")
    print("wrote %d arrays to %s" % (len(arrays()), OUT))


if __name__ == "__main__":
    main()
