package dev.tinygrad4j.renderer;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.codegen.Lanes;
import dev.tinygrad4j.codegen.ProgramSpec;
import dev.tinygrad4j.codegen.ProgramSpec.Launch;
import dev.tinygrad4j.codegen.Renderer;
import dev.tinygrad4j.uop.Ops;
import dev.tinygrad4j.uop.UOp;
import dev.tinygrad4j.uop.UOp.AxisType;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Renders a linearized kernel as a C function. The dialect hooks (keywords, prelude, how a kernel is declared) are
 * what OpenCL and CUDA override; ALU ops, loops, loads and stores are shared. Values follow the interpreter's
 * meaning: float16/bfloat16 are computed in float and rounded after every op, ints wrap (compile with -fwrapv), floats
 * convert to ints saturating like Java, a*b+c is fused only where the graph says MULACC (-ffp-contract=off). Vector
 * loops and vector accumulators are the ones codegen's lane plan names; the renderer keeps nothing between kernels.
 */
public class CStyle implements Renderer {

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

  /** Helpers every kernel may use, with vector types of these widths. */
  protected String prelude(List<Integer> widths) {
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
        static inline float exp2v(float x) { /* 2^x within 1 ulp, branch-free so loops over it vectorize (libm's exp2f does not) */
          float xc = x < -150.0f ? -150.0f : x; xc = xc > 128.0f ? 128.0f : xc;
          float t = xc + 12582912.0f, n = t - 12582912.0f, f = xc - n; /* 1.5*2^23: t's low mantissa bits hold round(xc) */
          int ti; memcpy(&ti, &t, 4);
          int k = ti - 0x4B400000, a = k >> 1, b = k - a, ia = (a + 127) << 23, ib = (b + 127) << 23;
          float p = 1.535336188319500e-4f; /* Cephes exp2f's polynomial on [-0.5, 0.5] */
          p = p * f + 1.339887440266574e-3f; p = p * f + 9.618437357674640e-3f; p = p * f + 5.550332471162809e-2f;
          p = p * f + 2.402264791363012e-1f; p = p * f + 6.931472028550421e-1f; p = p * f + 1.0f;
          float sa, sb; memcpy(&sa, &ia, 4); memcpy(&sb, &ib, 4); /* 2^k in two halves: k may be -150 or 128 */
          return x != x ? x : p * sa * sb; }
        static inline float b2f(unsigned short b) { unsigned int u = (unsigned int)b << 16; float f; memcpy(&f, &u, 4); return f; }
        static inline unsigned short f2b(float f) { unsigned int u; memcpy(&u, &f, 4);
          return f != f ? (unsigned short)((u >> 16) | 0x40) : (unsigned short)((u + 0x7FFF + ((u >> 16) & 1)) >> 16); }
        """ + vectorPrelude(widths);
  }

  /**
   * Vector types of these widths (f4, f8, f16) with load, store, broadcast and fma: the compiler's FMA builtin where
   * the target has it (not immintrin.h's wrapper: that header alone takes 0.7 s of every compile, the kernel ~0.05 s),
   * else one fmaf per lane: the same single rounding either way.
   */
  protected String vectorPrelude(List<Integer> widths) {
    var out = new StringBuilder(widths.isEmpty() ? "" : "#pragma GCC diagnostic ignored \"-Wpsabi\" /* the vector helpers are static inline */\n");
    for (int n : widths.reversed()) {
      if (n == 1) { // a chunk of one lane: plain floats, masks are C's 0 or 1
        out.append("typedef float f1;\ntypedef int m1;\nstatic inline f1 ld1(const float* p) { return *p; }\nstatic inline void st1(float* p, f1 v) { *p = v; }\n"
            + "static inline f1 bc1(float s) { return s; }\nstatic inline f1 fma1(f1 a, f1 b, f1 c) { return fmaf(a, b, c); }\n"
            + "static inline f1 sel1(m1 m, f1 a, f1 b) { return m ? a : b; }\n");
        continue;
      }
      var fused = switch (n) {
        case 16 -> "__AVX512F__ __builtin_ia32_vfmaddps512_mask(a, b, c, (unsigned short)-1, 4)";
        case 8 -> "__FMA__ __builtin_ia32_vfmaddps256(a, b, c)";
        case 4 -> "__FMA__ __builtin_ia32_vfmaddps(a, b, c)";
        default -> throw new IllegalArgumentException("C renderer: no vector type of " + n + " floats");
      };
      out.append("""
          typedef float f%1$d __attribute__((vector_size(%2$d)));
          typedef int m%1$d __attribute__((vector_size(%2$d))); /* a comparison's lanes: -1 true, 0 false */
          static inline f%1$d sel%1$d(m%1$d m, f%1$d a, f%1$d b) { return (f%1$d)(((m%1$d)a & m) | ((m%1$d)b & ~m)); }
          static inline f%1$d ld%1$d(const float* p) { f%1$d v; memcpy(&v, p, sizeof v); return v; }
          static inline void st%1$d(float* p, f%1$d v) { memcpy(p, &v, sizeof v); }
          static inline f%1$d bc%1$d(float s) { return (f%1$d){%3$s}; }
          #ifdef %4$s
          static inline f%1$d fma%1$d(f%1$d a, f%1$d b, f%1$d c) { return %5$s; }
          #else
          static inline f%1$d fma%1$d(f%1$d a, f%1$d b, f%1$d c) { f%1$d r; for (int i = 0; i < %1$d; i++) r[i] = fmaf(a[i], b[i], c[i]); return r; }
          #endif
          """.formatted(n, 4 * n, String.join(", ", java.util.Collections.nCopies(n, "s")), fused.split(" ")[0], fused.substring(fused.indexOf(' ') + 1)));
    }
    return out.toString();
  }

  // ---- dialect hooks (OpenCL, CUDA override them)
  /** w floats converted from the w integers of C type t at address p (GNU C: a vector of them, converted). */
  protected String vectorConvert(String t, int w, String p) {
    return "({ typedef " + t + " n_t __attribute__((vector_size(" + w + " * sizeof(" + t + ")))); n_t n; memcpy(&n, " + p + ", sizeof n); __builtin_convertvector(n, f" + w + "); })";
  }
  /** The function head of a kernel. */
  protected String kernelHead(String name, String params) { return "void " + name + "(" + params + ")"; }
  /** The parameter for buffer i. */
  protected String bufferParam(DType dt, int i) { return type(dt) + "* restrict data" + i; }
  /** The suffix of float math functions for a type (C: expf; overloaded languages: none). */
  protected String mathSuffix(DType dt) { return dt == DType.FLOAT32 || dt == DType.FLOAT16 || dt == DType.BFLOAT16 ? "f" : ""; }
  /** The suffix of 64-bit integer literals. */
  protected String longSuffix() { return "LL"; }
  /**
   * 2^x, log2(x) or sin(x). C on floats: 2^x by exp2v, a vectorizable polynomial; log2 and sin in double precision,
   * rounded: how the JVM bytecode tier computes them, so both tiers give the same bits. GPUs have their own.
   */
  protected String transcendental(Ops op, DType dt, String x) {
    var name = op.name().toLowerCase(java.util.Locale.ROOT);
    if (dt == DType.FLOAT64) return name + "(" + x + ")";
    return op == Ops.EXP2 ? "exp2v(" + x + ")" : "(float)" + name + "((double)" + x + ")";
  }
  /** The bits of v (of type from) read as type to. */
  protected String bitcast(DType from, DType to, String v) {
    return "((union { " + valueType(from) + " a; " + valueType(to) + " b; }){ .a = " + v + " }).b";
  }

  /** The index of a GPU launch dimension: work-group (GLOBAL) or work-item within it (LOCAL), dimension 0-2. */
  protected String launchIndex(AxisType type, int dim) { throw new IllegalStateException("C renderer: no GPU launch dimensions (" + type + ")"); }
  /** The declaration of an array shared by a work-group. */
  protected String localBuffer(String type, String name, int size) { throw new IllegalStateException("C renderer: no local memory"); }
  /** Waits until every work-item of the group has reached it, with its local memory stores visible. */
  protected String barrier() { throw new IllegalStateException("C renderer: no barriers"); }

  @Override public ProgramSpec.Source render(String name, List<ProgramSpec.Param> params, Lanes.Plan plan) {
    return new ProgramSpec.Source.Text(new Kernel(plan).render(name, params));
  }

  /** The state of rendering one kernel: value names, the lane plan, a counter for fresh names. */
  private final class Kernel {
    private final Lanes.Plan plan;
    private final List<UOp> prog;
    private final Map<UOp, String> names = new IdentityHashMap<>();
    private int vars;

    Kernel(Lanes.Plan plan) { this.plan = plan; this.prog = plan.linear(); }

    /** The C source: parameters are every buffer in number order, then start/end of a THREAD range if any. */
    String render(String name, List<ProgramSpec.Param> params) {
      var body = new StringBuilder();
      int depth = 1;
      for (int pc = 0; pc < prog.size(); pc++) {
        var u = prog.get(pc);
        if (u.op() == Ops.ENDRANGE) depth--;
        var ind = "  ".repeat(depth);
        if (plan.loops().containsKey(u)) {
          int end = Lanes.endOf(prog, pc);
          vectorLoop(u, prog.subList(pc + 1, end), body, ind);
          pc = end;
          continue;
        }
        var line = line(u);
        if (line != null) body.append(ind).append(line).append('\n');
        if (u.op() == Ops.RANGE) depth++;
      }
      var head = new StringBuilder();
      for (var p : params) head.append(head.isEmpty() ? "" : ", ").append(bufferParam(p.dtype(), p.index()));
      boolean threaded = prog.stream().anyMatch(u -> u.op() == Ops.RANGE && u.axisType() == AxisType.THREAD);
      if (threaded) head.append(", int start, int end"); // the chunk [start, end) of a THREAD range a pool thread runs
      return prelude(plan.widths()) + kernelHead(name, head.toString()) + " {\n" + body + "}\n";
    }

    /** One scalar statement (null for nodes that are only names). */
    String line(UOp u) {
      return switch (u.op()) {
        case CONST -> { names.put(u, literal(u)); yield null; }
        case DEFINE_GLOBAL -> { names.put(u, "data" + u.arg()); yield null; }
        case RANGE -> {
          var r = "r" + u.axisId();
          names.put(u, r);
          yield switch (u.axisType()) {
            case THREAD -> "for (int " + r + " = start; " + r + " < end; " + r + "++) {";
            case GLOBAL, LOCAL -> "{ int " + r + " = " + launchIndex(u.axisType(), Launch.dim(prog, u)) + ";";
            default -> "for (int " + r + " = 0; " + r + " < " + name(u.src(0)) + "; " + r + "++) {";
          };
        }
        case DEFINE_LOCAL -> {
          names.put(u, "loc" + ((UOp.Acc) u.arg()).id());
          yield localBuffer(u.dtype() == DType.BOOL ? type(u.dtype()) : valueType(u.dtype()), names.get(u), ((UOp.Acc) u.arg()).size());
        }
        case BARRIER -> {
          names.put(u, names.get(u.src(0).src(0)));
          yield barrier();
        }
        case ENDRANGE -> "}";
        case DEFINE_ACC -> {
          var acc = (UOp.Acc) u.arg();
          var n = "acc" + acc.id();
          names.put(u, n);
          var vec = plan.promoted().get(u);
          if (vec != null) yield String.join(" ", vec.entrySet().stream().map(e -> "f" + e.getValue() + " " + n + "_" + e.getKey() + ";").toList());
          yield acc.size() > 1 ? valueType(u.dtype()) + " " + n + "[" + acc.size() + "];"
              : valueType(u.dtype()) + " " + n + " = " + name(u.src(0)) + ";";
        }
        case ASSIGN -> name(u.src(0)) + " = " + name(u.src(1)) + ";";
        case STORE -> {
          var buf = u.src(0);
          var v = name(u.src(2));
          var store = name(buf) + "[" + name(u.src(1)) + "] = " + (buf.op() == Ops.DEFINE_GLOBAL ? toMemory(buf.dtype(), v) : v) + ";";
          yield u.src().size() > 3 ? "if (" + name(u.src(3)) + ") " + store : store;
        }
        default -> {
          var n = "v" + (vars++);
          names.put(u, n);
          yield valueType(u.dtype()) + " " + n + " = " + expr(u) + ";";
        }
      };
    }

    /**
     * An innermost UPCAST loop as vectors (see {@link Lanes.Layout}): a loop stepping by the widest vector if it is
     * long, straight-line blocks of vectors at constant offsets (so accumulators can be vector variables), then the
     * leftover elements one by one.
     */
    void vectorLoop(UOp r, List<UOp> body, StringBuilder out, String ind) {
      int n = r.rangeSize();
      var layout = plan.layout(n);
      var rv = "r" + r.axisId();
      names.put(r, rv);
      var varying = plan.loops().get(r);
      if (layout.loopEnd() > 0) {
        out.append(ind).append("for (int ").append(rv).append(" = 0; ").append(rv).append(" < ").append(layout.loopEnd()).append("; ").append(rv).append(" += ").append(layout.step()).append(") {\n");
        vectorBody(r, -1, layout.step(), body, varying, out, ind + "  ");
        out.append(ind).append("}\n");
      }
      boolean addressed = addressing(body).contains(r);
      for (var c : layout.chunks()) {
        out.append(ind).append(addressed ? "{ int " + rv + " = " + c.start() + ";\n" : "{\n");
        vectorBody(r, c.start(), c.width(), body, varying, out, ind + "  ");
        out.append(ind).append("}\n");
      }
      if (layout.tail() == n) return;
      out.append(ind).append("for (int ").append(rv).append(" = ").append(layout.tail()).append("; ").append(rv).append(" < ").append(n).append("; ").append(rv).append("++) {\n");
      for (var u : body) {
        var line = line(u);
        if (line != null) out.append(ind).append("  ").append(line).append('\n');
      }
      out.append(ind).append("}\n");
    }

    /** The nodes the addresses of a vector loop body's memory accesses use (a promoted accumulator's are constants). */
    java.util.Set<UOp> addressing(List<UOp> body) {
      var out = java.util.Collections.newSetFromMap(new IdentityHashMap<UOp, Boolean>());
      for (var u : body.reversed()) {
        if ((u.op() == Ops.LOAD || u.op() == Ops.STORE) && !plan.promoted().containsKey(u.src(0))) out.add(u.src(1));
        if (out.contains(u)) out.addAll(u.src());
      }
      return out;
    }

    /** The body of a vector loop as vectors of w lanes from element start (-1: inside a loop, offsets not constant). */
    void vectorBody(UOp r, int start, int w, List<UOp> body, java.util.Set<UOp> varying, StringBuilder out, String ind) {
      var vec = new IdentityHashMap<UOp, String>(); // varying float nodes → their vector names
      var at = new IdentityHashMap<UOp, String>(); // integer loads → their address (a cast to float reads them)
      java.util.function.Function<UOp, String> v = s -> vec.containsKey(s) ? vec.get(s)
          : s.dtype() == DType.BOOL ? "(bc" + w + "(0.0f) < bc" + w + "(" + name(s) + " ? 1.0f : 0.0f))" : "bc" + w + "(" + name(s) + ")";
      var addressing = addressing(body);
      for (var u : body) {
        String line;
        if (u.op() == Ops.LOAD && varying.contains(u) && u.dtype() != DType.FLOAT32) { at.put(u, "&" + name(u.src(0)) + "[" + name(u.src(1)) + "]"); continue; }
        if (varying.contains(u) && u.dtype() == DType.INT32 && !addressing.contains(u)) continue; // a promoted accumulator's offset: constant
        if (!varying.contains(u) || u.dtype() == DType.INT32) line = line(u); // scalars, lane-0 indices
        else {
          var n = "v" + (vars++);
          var acc = plan.promoted().get(u.src(0));
          String val = switch (u.op()) {
            case ADD -> v.apply(u.src(0)) + " + " + v.apply(u.src(1));
            case MUL -> v.apply(u.src(0)) + " * " + v.apply(u.src(1));
            case NEG -> "-" + v.apply(u.src(0));
            case CAST -> u.src(0).dtype() == DType.BOOL ? "sel" + w + "(" + v.apply(u.src(0)) + ", bc" + w + "(1.0f), bc" + w + "(0.0f))"
                : w == 1 ? "(float)*" + at.get(u.src(0)) : vectorConvert(type(u.src(0).dtype()), w, at.get(u.src(0)));
            case CMPLT -> v.apply(u.src(0)) + " < " + v.apply(u.src(1));
            case CMPEQ -> v.apply(u.src(0)) + " == " + v.apply(u.src(1));
            case CMPNE -> v.apply(u.src(0)) + " != " + v.apply(u.src(1));
            case OR -> v.apply(u.src(0)) + " | " + v.apply(u.src(1));
            case AND -> v.apply(u.src(0)) + " & " + v.apply(u.src(1));
            case XOR -> v.apply(u.src(0)) + " ^ " + v.apply(u.src(1));
            case WHERE -> "sel" + w + "(" + v.apply(u.src(0)) + ", " + v.apply(u.src(1)) + ", " + v.apply(u.src(2)) + ")";
            case MULACC -> "fma" + w + "(" + v.apply(u.src(0)) + ", " + v.apply(u.src(1)) + ", " + v.apply(u.src(2)) + ")";
            case LOAD -> acc != null ? name(u.src(0)) + "_" + Lanes.constOffset(u.src(1), r, start)
                : "ld" + w + "(&" + name(u.src(0)) + "[" + name(u.src(1)) + "])";
            case STORE -> null;
            default -> throw new IllegalStateException("not a vector op: " + u.op());
          };
          if (val != null) {
            vec.put(u, n);
            line = (u.dtype() == DType.BOOL ? "m" : "f") + w + " " + n + " = " + val + ";";
          } else {
            long stride = Lanes.stride(u.src(1), r);
            line = acc != null ? name(u.src(0)) + "_" + Lanes.constOffset(u.src(1), r, start) + " = " + v.apply(u.src(2)) + ";"
                : stride == 1 ? "st" + w + "(&" + name(u.src(0)) + "[" + name(u.src(1)) + "], " + v.apply(u.src(2)) + ");"
                : w == 1 ? name(u.src(0)) + "[" + name(u.src(1)) + "] = " + v.apply(u.src(2)) + ";"
                : "{ float s[" + w + "]; st" + w + "(s, " + v.apply(u.src(2)) + "); for (int l = 0; l < " + w + "; l++) " + name(u.src(0)) + "[" + name(u.src(1)) + " + l * " + stride + "] = s[l]; }";
          }
        }
        if (line != null) out.append(ind).append(line).append('\n');
      }
    }

    /** A node's C name; constants made when tiles were unrolled are not in the program, so they are written out. */
    String name(UOp u) {
      var n = names.get(u);
      return n != null || !u.isConst() ? n : literal(u);
    }

    /**
     * a / b or a % b with Java's meaning and no trap: by zero 0 (the tensor ops never divide by zero), and for
     * signed types MIN / -1 = MIN (a wrapping negation) and MIN % -1 = 0, where x86's division would raise SIGFPE.
     */
    String divide(UOp u, String a, String b) {
      boolean div = u.op() == Ops.IDIV, signed = !u.dtype().isUnsigned();
      var d = u.src(1);
      if (d.isConst()) return signed && d.asLong() == -1 ? (div ? "(-" + a + ")" : "0") : "(" + a + (div ? " / " : " % ") + b + ")";
      var plain = "(" + b + " ? " + a + (div ? " / " : " % ") + b + " : 0)";
      return signed ? "(" + b + " == -1 ? " + (div ? "-" + a : "0") + " : " + plain + ")" : plain;
    }

    String expr(UOp u) {
      var s = u.src().stream().map(this::name).toList();
      var dt = u.dtype();
      String f = mathSuffix(dt);
      return switch (u.op()) {
        case LOAD -> {
          var buf = u.src(0);
          var read = buf.op() == Ops.DEFINE_GLOBAL ? fromMemory(dt, s.get(0) + "[" + s.get(1) + "]") : s.get(0) + "[" + s.get(1) + "]";
          yield s.size() > 2 ? "(" + s.get(2) + " ? " + read + " : 0)" : read;
        }
        case CAST -> dt == DType.BOOL ? "(" + s.get(0) + " != 0)"
            : round(dt, u.src(0).dtype().isFloat() && !dt.isFloat()
                ? "(" + valueType(dt) + ")" + (dt == DType.UINT64 ? "f2ull(" : "f2ll(") + s.get(0) + ")" : "(" + valueType(dt) + ")(" + s.get(0) + ")");
        case BITCAST -> bitcast(u.src(0).dtype(), dt, s.get(0));
        case WHERE -> "(" + s.get(0) + " ? " + s.get(1) + " : " + s.get(2) + ")";
        case CMPLT -> "(" + s.get(0) + " < " + s.get(1) + ")";
        case CMPNE -> "(" + s.get(0) + " != " + s.get(1) + ")";
        case CMPEQ -> "(" + s.get(0) + " == " + s.get(1) + ")";
        default -> round(dt, switch (u.op()) {
          case ADD -> "(" + s.get(0) + " + " + s.get(1) + ")";
          case MUL -> "(" + s.get(0) + " * " + s.get(1) + ")";
          case IDIV, MOD -> divide(u, s.get(0), s.get(1));
          case MAX -> dt.isFloat() ? (dt == DType.FLOAT64 ? "maxd(" : "maxf(") + s.get(0) + ", " + s.get(1) + ")"
              : "(" + s.get(0) + " > " + s.get(1) + " ? " + s.get(0) + " : " + s.get(1) + ")";
          case AND -> "(" + s.get(0) + " & " + s.get(1) + ")";
          case OR -> "(" + s.get(0) + " | " + s.get(1) + ")";
          case XOR -> "(" + s.get(0) + " ^ " + s.get(1) + ")";
          case SHL -> "(" + s.get(0) + " << " + s.get(1) + ")";
          case SHR -> "(" + s.get(0) + " >> " + s.get(1) + ")";
          case MULACC -> dt.isFloat() ? "fma" + f + "(" + s.get(0) + ", " + s.get(1) + ", " + s.get(2) + ")" : "(" + s.get(0) + " * " + s.get(1) + " + " + s.get(2) + ")";
          case NEG -> "(-" + s.get(0) + ")";
          case EXP2, LOG2, SIN -> transcendental(u.op(), dt, s.get(0));
          case SQRT -> "sqrt" + f + "(" + s.get(0) + ")";
          case TRUNC -> dt.isFloat() ? "trunc" + f + "(" + s.get(0) + ")" : s.get(0);
          case RECIPROCAL -> "(" + (dt == DType.FLOAT64 ? "1.0" : "1.0f") + " / " + s.get(0) + ")";
          default -> throw new IllegalArgumentException("C renderer: no rendering for " + u.op());
        });
      };
    }
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
      case INT64 -> v == Long.MIN_VALUE ? "(-9223372036854775807" + longSuffix() + " - 1)" : v + longSuffix();
      case UINT64 -> Long.toUnsignedString(v) + "U" + longSuffix();
      case INT32 -> v == Integer.MIN_VALUE ? "(-2147483647 - 1)" : Long.toString(v);
      default -> "(" + type(dt) + ")" + v;
    };
  }
}
