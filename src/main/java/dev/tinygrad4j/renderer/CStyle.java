package dev.tinygrad4j.renderer;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.uop.Ops;
import dev.tinygrad4j.uop.UOp;
import dev.tinygrad4j.uop.UOp.AxisType;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Renders a linearized kernel as a C function. The dialect hooks (keywords, prelude, how a kernel is declared) are
 * what OpenCL and CUDA will override; ALU ops, loops, loads and stores are shared. Values follow the interpreter's
 * meaning: float16/bfloat16 are computed in float and rounded after every op, ints wrap (compile with -fwrapv), floats
 * convert to ints saturating like Java, a*b+c is fused only where the graph says MULACC (-ffp-contract=off).
 */
public class CStyle {
  private int vars;

  /** Types as C spells them (half types are held in float and stored as their 16 bits). */
  protected String type(DType dt) {
    return switch (dt) {
      case BOOL -> "bool";
      case INT8 -> "signed char";
      case UINT8 -> "unsigned char";
      case INT16 -> "short";
      case UINT16, FLOAT16, BFLOAT16 -> "unsigned short";
      case INT32 -> "int";
      case UINT32 -> "unsigned int";
      case INT64 -> "long long";
      case UINT64 -> "unsigned long long";
      case FLOAT32 -> "float";
      case FLOAT64 -> "double";
    };
  }

  /** The type a value is computed in. */
  protected String valueType(DType dt) { return dt == DType.FLOAT16 || dt == DType.BFLOAT16 ? "float" : type(dt); }

  /** Helpers every kernel may use. */
  protected String prelude() {
    return """
        #include <math.h>
        #include <stdbool.h>
        #include <string.h>
        static inline float h2f(unsigned short h) {
          unsigned int sign = (unsigned int)(h & 0x8000) << 16, e = (h >> 10) & 0x1F, m = h & 0x3FF, x;
          if (e == 0x1F) x = sign | 0x7F800000u | (m << 13);
          else if (e) x = sign | ((e + 112) << 23) | (m << 13);
          else if (m) { unsigned int k = 113; while (!(m & 0x400)) { m <<= 1; k--; } x = sign | (k << 23) | ((m & 0x3FF) << 13); }
          else x = sign;
          float f; memcpy(&f, &x, 4); return f; }
        static inline unsigned short f2h(float f) {
          unsigned int x; memcpy(&x, &f, 4);
          unsigned int sign = (x >> 16) & 0x8000, m = x & 0x7FFFFF, h, rest, half;
          int e = (int)((x >> 23) & 0xFF) - 112;
          if (e == 143) return (unsigned short)(sign | 0x7C00 | (m ? 0x200 | (m >> 13) : 0));
          if (e >= 31) return (unsigned short)(sign | 0x7C00);
          if (e <= 0) {
            if (e < -10) return (unsigned short)sign;
            int shift = 14 - e; m |= 0x800000;
            h = m >> shift; rest = m & ((1u << shift) - 1); half = 1u << (shift - 1);
          } else { h = ((unsigned int)e << 10) | (m >> 13); rest = m & 0x1FFF; half = 0x1000; }
          if (rest > half || (rest == half && (h & 1))) h++;
          return (unsigned short)(sign | h); }
        static inline long long f2ll(double x) { /* Java's saturating float→long */
          return x != x ? 0 : x >= 9223372036854775807.0 ? 0x7FFFFFFFFFFFFFFFLL : x <= -9223372036854775808.0 ? (-0x7FFFFFFFFFFFFFFFLL - 1) : (long long)x; }
        static inline unsigned long long f2ull(double x) {
          return x >= 9223372036854775808.0 ? (unsigned long long)f2ll(x - 9223372036854775808.0) + 0x8000000000000000ULL : (unsigned long long)f2ll(x); }
        static inline float maxf(float a, float b) { return a != a ? a : b != b ? b : a > b ? a : b > a ? b : signbit(a) ? b : a; }
        static inline double maxd(double a, double b) { return a != a ? a : b != b ? b : a > b ? a : b > a ? b : signbit(a) ? b : a; }
        static inline float b2f(unsigned short b) { unsigned int u = (unsigned int)b << 16; float f; memcpy(&f, &u, 4); return f; }
        static inline unsigned short f2b(float f) { unsigned int u; memcpy(&u, &f, 4);
          return f != f ? (unsigned short)((u >> 16) | 0x40) : (unsigned short)((u + 0x7FFF + ((u >> 16) & 1)) >> 16); }
        """;
  }

  /** The C source of a kernel named name: parameters are its buffers, then start/end of a THREAD range if any. */
  public String render(String name, List<UOp> prog) {
    vars = 0;
    var names = new IdentityHashMap<UOp, String>();
    var body = new StringBuilder();
    var params = new StringBuilder();
    int depth = 1;
    for (var u : prog) {
      if (u.op() == Ops.ENDRANGE) depth--;
      var ind = "  ".repeat(depth);
      String line = switch (u.op()) {
        case CONST -> { names.put(u, literal(u)); yield null; }
        case DEFINE_GLOBAL -> { names.put(u, "data" + u.arg()); yield null; }
        case RANGE -> {
          var r = "r" + u.axisId();
          names.put(u, r);
          boolean split = u.axisType() == AxisType.THREAD;
          yield "for (int " + r + " = " + (split ? "start" : "0") + "; " + r + " < " + (split ? "end" : names.get(u.src(0))) + "; " + r + "++) {";
        }
        case ENDRANGE -> "}";
        case DEFINE_ACC -> {
          var acc = (UOp.Acc) u.arg();
          var n = "acc" + acc.id();
          names.put(u, n);
          yield acc.size() > 1 ? valueType(u.dtype()) + " " + n + "[" + acc.size() + "];"
              : valueType(u.dtype()) + " " + n + " = " + names.get(u.src(0)) + ";";
        }
        case ASSIGN -> names.get(u.src(0)) + " = " + names.get(u.src(1)) + ";";
        case STORE -> {
          var buf = u.src(0);
          var v = names.get(u.src(2));
          var store = names.get(buf) + "[" + names.get(u.src(1)) + "] = " + (buf.op() == Ops.DEFINE_GLOBAL ? toMemory(buf.dtype(), v) : v) + ";";
          yield u.src().size() > 3 ? "if (" + names.get(u.src(3)) + ") " + store : store;
        }
        default -> {
          var n = "v" + (vars++);
          names.put(u, n);
          yield valueType(u.dtype()) + " " + n + " = " + expr(u, names) + ";";
        }
      };
      if (line != null) body.append(ind).append(line).append('\n');
      if (u.op() == Ops.RANGE) depth++;
    }
    prog.stream().filter(u -> u.op() == Ops.DEFINE_GLOBAL).sorted(java.util.Comparator.comparingInt(u -> (Integer) u.arg()))
        .forEach(u -> params.append(params.isEmpty() ? "" : ", ").append(type(u.dtype())).append("* restrict data").append(u.arg()));
    boolean threaded = prog.stream().anyMatch(u -> u.op() == Ops.RANGE && u.axisType() == AxisType.THREAD);
    if (threaded) params.append(", int start, int end");
    return prelude() + "void " + name + "(" + params + ") {\n" + body + "}\n";
  }

  private static String toMemory(DType dt, String v) {
    return dt == DType.FLOAT16 ? "f2h(" + v + ")" : dt == DType.BFLOAT16 ? "f2b(" + v + ")" : v;
  }

  private static String fromMemory(DType dt, String v) {
    return dt == DType.FLOAT16 ? "h2f(" + v + ")" : dt == DType.BFLOAT16 ? "b2f(" + v + ")" : v;
  }

  /** Rounds a float result to float16/bfloat16 precision, as the interpreter does after every op. */
  private static String round(DType dt, String v) {
    return dt == DType.FLOAT16 ? "h2f(f2h(" + v + "))" : dt == DType.BFLOAT16 ? "b2f(f2b(" + v + "))" : v;
  }

  private String expr(UOp u, Map<UOp, String> names) {
    var s = u.src().stream().map(names::get).toList();
    var dt = u.dtype();
    String f = dt == DType.FLOAT32 || dt == DType.FLOAT16 || dt == DType.BFLOAT16 ? "f" : "";
    return switch (u.op()) {
      case LOAD -> {
        var buf = u.src(0);
        var read = buf.op() == Ops.DEFINE_GLOBAL ? fromMemory(dt, s.get(0) + "[" + s.get(1) + "]") : s.get(0) + "[" + s.get(1) + "]";
        yield s.size() > 2 ? "(" + s.get(2) + " ? " + read + " : 0)" : read;
      }
      case CAST -> dt == DType.BOOL ? "(" + s.get(0) + " != 0)"
          : round(dt, u.src(0).dtype().isFloat() && !dt.isFloat()
              ? "(" + valueType(dt) + ")" + (dt == DType.UINT64 ? "f2ull(" : "f2ll(") + s.get(0) + ")" : "(" + valueType(dt) + ")(" + s.get(0) + ")");
      case BITCAST -> "((union { " + valueType(u.src(0).dtype()) + " a; " + valueType(dt) + " b; }){ .a = " + s.get(0) + " }).b";
      case WHERE -> "(" + s.get(0) + " ? " + s.get(1) + " : " + s.get(2) + ")";
      case CMPLT -> "(" + s.get(0) + " < " + s.get(1) + ")";
      case CMPNE -> "(" + s.get(0) + " != " + s.get(1) + ")";
      case CMPEQ -> "(" + s.get(0) + " == " + s.get(1) + ")";
      default -> round(dt, switch (u.op()) {
        case ADD -> "(" + s.get(0) + " + " + s.get(1) + ")";
        case MUL -> "(" + s.get(0) + " * " + s.get(1) + ")";
        case IDIV -> u.src(1).isConst() ? "(" + s.get(0) + " / " + s.get(1) + ")" : "(" + s.get(1) + " ? " + s.get(0) + " / " + s.get(1) + " : 0)";
        case MOD -> u.src(1).isConst() ? "(" + s.get(0) + " % " + s.get(1) + ")" : "(" + s.get(1) + " ? " + s.get(0) + " % " + s.get(1) + " : 0)";
        case MAX -> dt.isFloat() ? (dt == DType.FLOAT64 ? "maxd(" : "maxf(") + s.get(0) + ", " + s.get(1) + ")"
            : "(" + s.get(0) + " > " + s.get(1) + " ? " + s.get(0) + " : " + s.get(1) + ")";
        case AND -> "(" + s.get(0) + " & " + s.get(1) + ")";
        case OR -> "(" + s.get(0) + " | " + s.get(1) + ")";
        case XOR -> "(" + s.get(0) + " ^ " + s.get(1) + ")";
        case SHL -> "(" + s.get(0) + " << " + s.get(1) + ")";
        case SHR -> "(" + s.get(0) + " >> " + s.get(1) + ")";
        case MULACC -> dt.isFloat() ? "fma" + f + "(" + s.get(0) + ", " + s.get(1) + ", " + s.get(2) + ")" : "(" + s.get(0) + " * " + s.get(1) + " + " + s.get(2) + ")";
        case NEG -> "(-" + s.get(0) + ")";
        case EXP2 -> "exp2" + f + "(" + s.get(0) + ")";
        case LOG2 -> "log2" + f + "(" + s.get(0) + ")";
        case SIN -> "sin" + f + "(" + s.get(0) + ")";
        case SQRT -> "sqrt" + f + "(" + s.get(0) + ")";
        case TRUNC -> dt.isFloat() ? "trunc" + f + "(" + s.get(0) + ")" : s.get(0);
        case RECIPROCAL -> "(1.0" + f + " / " + s.get(0) + ")";
        default -> throw new IllegalArgumentException("C renderer: no rendering for " + u.op());
      });
    };
  }

  /** A constant written exactly (hex floats, suffixed ints). */
  protected String literal(UOp c) {
    var dt = c.dtype();
    if (dt.isFloat()) {
      double v = c.asDouble();
      boolean f = dt != DType.FLOAT64;
      if (Double.isNaN(v)) return "NAN";
      if (Double.isInfinite(v)) return (v > 0 ? "" : "-") + "INFINITY";
      return "(" + (f ? Float.toHexString((float) v) + "f" : Double.toHexString(v)) + ")";
    }
    long v = c.asLong();
    return switch (dt) {
      case BOOL -> v != 0 ? "1" : "0";
      case UINT32 -> v + "u";
      case INT64 -> v == Long.MIN_VALUE ? "(-9223372036854775807LL - 1)" : v + "LL";
      case UINT64 -> Long.toUnsignedString(v) + "ULL";
      case INT32 -> v == Integer.MIN_VALUE ? "(-2147483647 - 1)" : Long.toString(v);
      default -> "(" + type(dt) + ")" + v;
    };
  }
}
