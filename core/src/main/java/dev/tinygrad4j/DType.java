package dev.tinygrad4j;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/** Element types, with numpy-style promotion along tinygrad's lattice. */
public enum DType {
  BOOL(1, 'b'), INT8(1, 'i'), UINT8(1, 'u'), INT16(2, 'i'), UINT16(2, 'u'), INT32(4, 'i'), UINT32(4, 'u'),
  INT64(8, 'i'), UINT64(8, 'u'), FLOAT16(2, 'f'), BFLOAT16(2, 'f'), FLOAT32(4, 'f'), FLOAT64(8, 'f');

  /** Lower-case aliases in tinygrad's spelling ({@code DType.float32}). */
  public static final DType bool = BOOL, int8 = INT8, uint8 = UINT8, int16 = INT16, uint16 = UINT16, int32 = INT32,
      uint32 = UINT32, int64 = INT64, uint64 = UINT64, float16 = FLOAT16, bfloat16 = BFLOAT16, float32 = FLOAT32,
      float64 = FLOAT64;

  private final int itemsize;
  private final char kind;

  DType(int itemsize, char kind) { this.itemsize = itemsize; this.kind = kind; }

  /** Bytes per element. */
  public int itemsize() { return itemsize; }
  /** True for float16, bfloat16, float32, float64. */
  public boolean isFloat() { return kind == 'f'; }
  /** True for signed and unsigned integers (not bool). */
  public boolean isInt() { return kind == 'i' || kind == 'u'; }
  /** True for unsigned integers. */
  public boolean isUnsigned() { return kind == 'u'; }
  /** Number of value bits (bool: 1). */
  public int bits() { return this == BOOL ? 1 : itemsize * 8; }
  /** Lower-case name as numpy/tinygrad print it. */
  public String lowerName() { return name().toLowerCase(); }

  /** The default float type (float32). */
  public static DType defaultFloat() { return FLOAT32; }

  private List<DType> parents() {
    return switch (this) {
      case BOOL -> List.of(INT8, UINT8);
      case INT8 -> List.of(INT16);
      case INT16 -> List.of(INT32);
      case INT32 -> List.of(INT64);
      case INT64, UINT64 -> List.of(FLOAT16, BFLOAT16);
      case UINT8 -> List.of(INT16, UINT16);
      case UINT16 -> List.of(INT32, UINT32);
      case UINT32 -> List.of(INT64, UINT64);
      case FLOAT16, BFLOAT16 -> List.of(FLOAT32);
      case FLOAT32 -> List.of(FLOAT64);
      case FLOAT64 -> List.of();
    };
  }

  private Set<DType> ancestors() {
    var out = EnumSet.of(this);
    for (var p : parents()) out.addAll(p.ancestors());
    return out;
  }

  /** The smallest type both promote to (numpy rules; float16 with bfloat16 gives float32). */
  public static DType promote(DType a, DType b) {
    var common = a.ancestors();
    common.retainAll(b.ancestors());
    // the least upper bound is the lowest common ancestor: the one with the most ancestors of its own
    return common.stream().min(java.util.Comparator.comparingInt((DType d) -> -d.ancestors().size())
        .thenComparingInt(Enum::ordinal)).orElseThrow();
  }
}
