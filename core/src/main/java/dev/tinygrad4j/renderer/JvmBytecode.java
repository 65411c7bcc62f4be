package dev.tinygrad4j.renderer;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.codegen.Lanes;
import dev.tinygrad4j.codegen.ProgramSpec;
import dev.tinygrad4j.codegen.Renderer;
import dev.tinygrad4j.codegen.Target;
import dev.tinygrad4j.uop.Ops;
import dev.tinygrad4j.uop.UOp;
import dev.tinygrad4j.uop.UOp.AxisType;

import java.lang.classfile.ClassFile;
import java.lang.classfile.CodeBuilder;
import java.lang.classfile.Label;
import java.lang.classfile.Opcode;
import java.lang.classfile.instruction.OperatorInstruction;
import java.lang.classfile.TypeKind;
import java.lang.constant.ClassDesc;
import java.lang.constant.ConstantDesc;
import java.lang.constant.MethodTypeDesc;
import java.util.ArrayDeque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import static java.lang.constant.ConstantDescs.*;

/**
 * Renders a linearized kernel as JVM bytecode: a class with {@code static void run(Object[] bufs, int start, int end)}
 * looping over Java arrays (the JVM device), which HotSpot's C2 compiles (and vectorizes, for float[] loops), or over
 * native memory segments (the CPU device's first tier, which runs while its C compiles). Values travel as int
 * (bool and ints up to 32 bits, wrapped after each op), long, float (float16/bfloat16 rounded after each op) or double.
 */
public final class JvmBytecode implements Renderer {
  private final boolean segments;

  /** Kernels over Java arrays. */
  public JvmBytecode() { this(Target.Memory.JAVA_ARRAYS); }

  /** Kernels over Java arrays or, for NATIVE memory, over {@link java.lang.foreign.MemorySegment}s. */
  public JvmBytecode(Target.Memory memory) {
    if (memory == Target.Memory.DEVICE) throw new IllegalArgumentException("JVM bytecode cannot address device memory");
    this.segments = memory == Target.Memory.NATIVE;
  }

  private static final ClassDesc HELP = ClassDesc.of("dev.tinygrad4j.renderer.JvmOps");
  private static final ClassDesc MATH = ClassDesc.of("java.lang.Math");

  /** Float lanes per vector loop iteration: the preferred vector width when jdk.incubator.vector is loaded, else 1. */
  static final class Vectors {
    static final int WIDTH = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent() ? Preferred.of() : 1;
  }
  private static final class Preferred { // touches the incubator API only once the module is known to be there
    static int of() { return jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length(); }
  }

  /** The array type that holds a dtype. */
  public static TypeKind arrayKind(DType dt) {
    return switch (dt) {
      case BOOL, INT8, UINT8 -> TypeKind.BYTE;
      case INT16, UINT16, FLOAT16, BFLOAT16 -> TypeKind.SHORT;
      case INT32, UINT32 -> TypeKind.INT;
      case INT64, UINT64 -> TypeKind.LONG;
      case FLOAT32 -> TypeKind.FLOAT;
      case FLOAT64 -> TypeKind.DOUBLE;
    };
  }

  /** The kind a value is computed in. */
  static TypeKind kind(DType dt) {
    return switch (dt) {
      case INT64, UINT64 -> TypeKind.LONG;
      case FLOAT16, BFLOAT16, FLOAT32 -> TypeKind.FLOAT;
      case FLOAT64 -> TypeKind.DOUBLE;
      default -> TypeKind.INT;
    };
  }

  /** Float lanes of the vector loops on this JVM (1: jdk.incubator.vector is not loaded). */
  public static int vectorWidth() { return Vectors.WIDTH; }

  /** The package hidden kernel classes are defined in (the JVM device's). */
  private static final String PACKAGE = "dev.tinygrad4j.runtime.";

  /** The class file of a kernel: a class with the static run method, in the lane plan's form. */
  @Override public ProgramSpec.Source render(String name, List<ProgramSpec.Param> params, Lanes.Plan plan) {
    try {
      return new ProgramSpec.Source.ClassFile(ClassFile.of().build(ClassDesc.of(PACKAGE + name), cb -> cb.withFlags(ClassFile.ACC_PUBLIC | ClassFile.ACC_FINAL)
          .withMethodBody("run", MethodTypeDesc.of(CD_void, CD_Object.arrayType(), CD_int, CD_int),
              ClassFile.ACC_PUBLIC | ClassFile.ACC_STATIC, code -> new Emitter(code, plan, segments).emit())));
    } catch (IllegalArgumentException e) {
      throw new Renderer.TooLarge("JVM: kernel " + name + " passes 64 KB of bytecode", e);
    }
  }

  /** Code that HotSpot compiles: methods above 8000 bytes of bytecode stay in its interpreter. */
  @Override public boolean fits(ProgramSpec.Source source) {
    return source instanceof ProgramSpec.Source.ClassFile(var bytes) && codeLength(bytes) <= HUGE;
  }

  /** HotSpot leaves methods above 8000 bytes of bytecode to the interpreter. */
  private static final int HUGE = 8000;

  static int codeLength(byte[] classFile) {
    return ClassFile.of().parse(classFile).methods().getFirst().findAttribute(java.lang.classfile.Attributes.code())
        .orElseThrow().codeLength();
  }

  private static final class Emitter {
    final CodeBuilder c;
    final Map<UOp, Integer> slot = new IdentityHashMap<>();
    final ArrayDeque<Label[]> loops = new ArrayDeque<>();

    final Lanes.Plan plan;
    final boolean segments; // buffers are MemorySegments, not arrays

    Emitter(CodeBuilder c, Lanes.Plan plan, boolean segments) { this.c = c; this.plan = plan; this.segments = segments; }

    void emit() {
      var prog = plan.linear();
      // buffers and accumulator arrays live in locals from the start
      for (var u : prog) {
        if (u.op() == Ops.DEFINE_GLOBAL) {
          c.aload(0).loadConstant((Integer) u.arg()).aaload().checkcast(segments ? SEGMENT : arrayDesc(u.dtype()));
          c.astore(local(u, TypeKind.REFERENCE));
        } else if (u.op() == Ops.DEFINE_ACC && ((UOp.Acc) u.arg()).size() > 1) {
          c.loadConstant(((UOp.Acc) u.arg()).size()).newarray(kind(u.dtype()));
          c.astore(local(u, TypeKind.REFERENCE));
        }
      }
      var vectorLoops = plan.loops();
      promote();
      for (int pc = 0; pc < prog.size(); pc++) {
        var u = prog.get(pc);
        var varying = vectorLoops.get(u);
        if (varying != null) {
          int end = Lanes.endOf(prog, pc);
          vectorLoop(u, prog.subList(pc + 1, end), varying);
          pc = end;
          continue;
        }
        op(u);
      }
      c.return_();
    }

    // ---- vector loops: an innermost float32 UPCAST loop becomes a loop over jdk.incubator.vector lanes ----
    static final ClassDesc FV = ClassDesc.of("jdk.incubator.vector.FloatVector");
    static final ClassDesc VEC = ClassDesc.of("jdk.incubator.vector.Vector");
    static final ClassDesc SPECIES = ClassDesc.of("jdk.incubator.vector.VectorSpecies");
    static final ClassDesc SEGMENT = ClassDesc.of("java.lang.foreign.MemorySegment");
    static final ClassDesc ORDER = ClassDesc.of("java.nio.ByteOrder");
    static final ClassDesc LAYOUT = ClassDesc.of("java.lang.foreign.ValueLayout");
    final Map<UOp, Integer> vslot = new IdentityHashMap<>();
    String species; // the FloatVector species of the chunk being emitted

    // accumulator arrays whose every access is a vector at a constant offset live in vector locals instead
    final Map<UOp, Map<Long, Integer>> promoted = new IdentityHashMap<>();

    void promote() {
      for (var e : plan.promoted().entrySet()) {
        var slots = new java.util.HashMap<Long, Integer>();
        for (var off : e.getValue().keySet()) {
          int sl = c.allocateLocal(TypeKind.REFERENCE);
          c.aconst_null().astore(sl); // the verifier wants every local assigned on every path
          slots.put(off, sl);
        }
        promoted.put(e.getKey(), slots);
      }
    }

    void vectorLoop(UOp r, List<UOp> body, java.util.Set<UOp> varying) {
      int rs = local(r, TypeKind.INT);
      var layout = plan.layout(r.rangeSize());
      if (layout.loopEnd() > 0) {
        c.iconst_0().istore(rs);
        Label top = c.newBoundLabel(), exit = c.newLabel();
        c.iload(rs).loadConstant(layout.loopEnd()).if_icmpge(exit);
        vectorBody(r, body, varying, -1, layout.step());
        c.iinc(rs, layout.step());
        c.goto_(top);
        c.labelBinding(exit);
      }
      for (var k : layout.chunks()) { // straight-line code, one copy of the body per chunk
        c.loadConstant(k.start()).istore(rs);
        vectorBody(r, body, varying, k.start(), k.width());
      }
      if (layout.tail() == r.rangeSize()) return;
      // the elements past the last full vector, one at a time
      c.loadConstant(layout.tail()).istore(rs);
      Label top = c.newBoundLabel(), exit = c.newLabel();
      c.iload(rs).loadConstant(r.rangeSize()).if_icmpge(exit);
      for (var n : body) op(n);
      c.iinc(rs, 1);
      c.goto_(top);
      c.labelBinding(exit);
    }

    /** The body as vectors of w lanes from element start (-1: inside a loop). */
    void vectorBody(UOp r, List<UOp> body, java.util.Set<UOp> varying, int start, int w) {
      species = "SPECIES_" + 32 * w;
      for (var n : body) {
        if (!varying.contains(n) || n.dtype() == DType.INT32) { op(n); continue; } // scalars, lane-0 indices
        switch (n.op()) {
          case ADD -> vectorOp(n, "add", 1);
          case MUL -> vectorOp(n, "mul", 1);
          case MAX -> vectorOp(n, "max", 1);
          case NEG -> vectorOp(n, "neg", 0);
          case MULACC -> vectorOp(n, "fma", 2);
          case LOAD -> {
            var reg = promoted.get(n.src(0));
            if (reg != null) c.aload(reg.get(Lanes.constOffset(n.src(1), r, start)));
            else if (segments && n.src(0).op() == Ops.DEFINE_GLOBAL) {
              c.getstatic(FV, species, SPECIES);
              load(n.src(0));
              byteOffset(n.src(1));
              c.invokestatic(FV, "fromMemorySegment", MethodTypeDesc.of(FV, SPECIES, SEGMENT, CD_long, ORDER));
            } else {
              c.getstatic(FV, species, SPECIES);
              load(n.src(0));
              load(n.src(1));
              c.invokestatic(FV, "fromArray", MethodTypeDesc.of(FV, SPECIES, CD_float.arrayType(), CD_int));
            }
            c.astore(vlocal(n));
          }
          case STORE -> {
            long stride = Lanes.stride(n.src(1), r);
            if (stride != 1) { // lane by lane
              vector(n.src(2));
              int v = c.allocateLocal(TypeKind.REFERENCE);
              c.astore(v);
              var buf = n.src(0);
              for (int l = 0; l < w; l++) {
                load(buf);
                if (segments) layout(buf.dtype());
                load(n.src(1));
                c.loadConstant((int) (l * stride)).iadd();
                if (segments) c.i2l();
                c.aload(v).loadConstant(l).invokevirtual(FV, "lane", MethodTypeDesc.of(CD_float, CD_int));
                if (segments) segmentAccess("setAtIndex", buf.dtype());
                else c.arrayStore(TypeKind.FLOAT);
              }
              continue;
            }
            vector(n.src(2));
            var reg = promoted.get(n.src(0));
            if (reg != null) c.astore(reg.get(Lanes.constOffset(n.src(1), r, start)));
            else if (segments && n.src(0).op() == Ops.DEFINE_GLOBAL) {
              load(n.src(0));
              byteOffset(n.src(1));
              c.invokevirtual(FV, "intoMemorySegment", MethodTypeDesc.of(CD_void, SEGMENT, CD_long, ORDER));
            } else {
              load(n.src(0));
              load(n.src(1));
              c.invokevirtual(FV, "intoArray", MethodTypeDesc.of(CD_void, CD_float.arrayType(), CD_int));
            }
          }
          default -> throw new IllegalStateException("not a vector op: " + n.op());
        }
      }
    }

    /** Pushes the byte offset of float32 element index, then the platform's byte order (vector access to a segment). */
    void byteOffset(UOp index) {
      load(index);
      c.i2l().ldc(4L).lmul();
      c.invokestatic(ORDER, "nativeOrder", MethodTypeDesc.of(ORDER));
    }

    int vlocal(UOp n) { return vslot.computeIfAbsent(n, k -> c.allocateLocal(TypeKind.REFERENCE)); }

    /** Pushes n as a vector: its lanes, or a scalar broadcast to all lanes. */
    void vector(UOp n) {
      var v = vslot.get(n);
      if (v != null) { c.aload(v); return; }
      c.getstatic(FV, species, SPECIES);
      load(n);
      c.invokestatic(FV, "broadcast", MethodTypeDesc.of(FV, SPECIES, CD_float));
    }

    /** a.method(b[, c]) on FloatVector (MULACC a*b+c is a.fma(b, c)). */
    void vectorOp(UOp n, String method, int args) {
      for (var s : n.src()) vector(s);
      var params = new ClassDesc[args];
      java.util.Arrays.fill(params, VEC);
      c.invokevirtual(FV, method, MethodTypeDesc.of(FV, params));
      c.astore(vlocal(n));
    }

    int local(UOp u, TypeKind k) {
      int s = c.allocateLocal(k);
      slot.put(u, s);
      return s;
    }

    static ClassDesc arrayDesc(DType dt) {
      ClassDesc element = switch (arrayKind(dt)) {
        case BYTE -> CD_byte; case SHORT -> CD_short; case INT -> CD_int; case LONG -> CD_long;
        case FLOAT -> CD_float; default -> CD_double;
      };
      return element.arrayType();
    }

    /** Pushes the value of u. */
    void load(UOp u) {
      if (u.isConst()) {
        var k = kind(u.dtype());
        ConstantDesc v = switch (k) {
          case LONG -> u.asLong();
          case FLOAT -> (float) u.asDouble();
          case DOUBLE -> u.asDouble();
          default -> (int) u.asLong();
        };
        c.loadConstant(v);
      } else if (u.op() == Ops.DEFINE_GLOBAL || u.op() == Ops.DEFINE_ACC && ((UOp.Acc) u.arg()).size() > 1) {
        c.aload(slot.get(u));
      } else {
        c.loadLocal(u.op() == Ops.RANGE ? TypeKind.INT : kind(u.dtype()), slot.get(u));
      }
    }

    void store(UOp u) { c.storeLocal(kind(u.dtype()), slot.computeIfAbsent(u, k -> c.allocateLocal(kind(u.dtype())))); }

    void op(UOp u) {
      switch (u.op()) {
        case CONST, DEFINE_GLOBAL -> { }
        case RANGE -> {
          int r = local(u, TypeKind.INT);
          boolean split = u.axisType() == AxisType.THREAD;
          if (split) c.iload(1); else c.iconst_0();
          c.istore(r);
          Label top = c.newBoundLabel(), exit = c.newLabel();
          c.iload(r);
          if (split) c.iload(2); else load(u.src(0));
          c.if_icmpge(exit);
          loops.push(new Label[]{top, exit});
        }
        case ENDRANGE -> {
          var l = loops.pop();
          c.iinc(slot.get(u.src(0)), 1);
          c.goto_(l[0]);
          c.labelBinding(l[1]);
        }
        case DEFINE_ACC -> {
          if (((UOp.Acc) u.arg()).size() == 1) { load(u.src(0)); store(u); }
        }
        case ASSIGN -> { load(u.src(1)); c.storeLocal(kind(u.dtype()), slot.get(u.src(0))); }
        case STORE -> {
          var buf = u.src(0);
          Label skip = c.newLabel();
          if (u.src().size() > 3) { load(u.src(3)); c.ifeq(skip); }
          load(buf);
          boolean segment = segments && buf.op() == Ops.DEFINE_GLOBAL;
          if (segment) layout(buf.dtype());
          load(u.src(1));
          if (segment) c.i2l();
          load(u.src(2));
          if (buf.op() == Ops.DEFINE_GLOBAL) toMemory(buf.dtype());
          if (segment) segmentAccess("setAtIndex", buf.dtype());
          else c.arrayStore(buf.op() == Ops.DEFINE_GLOBAL ? arrayKind(buf.dtype()) : kind(buf.dtype()));
          c.labelBinding(skip);
        }
        case LOAD -> {
          Label skip = c.newLabel(), done = c.newLabel();
          if (u.src().size() > 2) { load(u.src(2)); c.ifeq(skip); }
          var buf = u.src(0);
          load(buf);
          boolean segment = segments && buf.op() == Ops.DEFINE_GLOBAL;
          if (segment) layout(buf.dtype());
          load(u.src(1));
          if (segment) { c.i2l(); segmentAccess("getAtIndex", buf.dtype()); }
          else c.arrayLoad(buf.op() == Ops.DEFINE_GLOBAL ? arrayKind(buf.dtype()) : kind(buf.dtype()));
          if (buf.op() == Ops.DEFINE_GLOBAL) fromMemory(u.dtype());
          if (u.src().size() > 2) {
            c.goto_(done).labelBinding(skip);
            zero(kind(u.dtype()));
            c.labelBinding(done);
          }
          store(u);
        }
        default -> { alu(u); store(u); }
      }
    }

    /** The memory layout of a dtype's elements in native byte order (no alignment assumed). */
    void layout(DType dt) {
      c.getstatic(LAYOUT, layoutName(dt), layoutType(dt));
    }

    static String layoutName(DType dt) {
      return switch (arrayKind(dt)) {
        case BYTE -> "JAVA_BYTE"; case SHORT -> "JAVA_SHORT_UNALIGNED"; case INT -> "JAVA_INT_UNALIGNED";
        case LONG -> "JAVA_LONG_UNALIGNED"; case FLOAT -> "JAVA_FLOAT_UNALIGNED"; default -> "JAVA_DOUBLE_UNALIGNED";
      };
    }

    static ClassDesc layoutType(DType dt) {
      var k = arrayKind(dt).name();
      return ClassDesc.of("java.lang.foreign.ValueLayout$Of" + k.charAt(0) + k.substring(1).toLowerCase());
    }

    /** MemorySegment.getAtIndex(layout, index) or setAtIndex(layout, index, value) for a dtype's memory kind. */
    void segmentAccess(String method, DType dt) {
      var element = arrayDesc(dt).componentType();
      var type = method.startsWith("get") ? MethodTypeDesc.of(element, layoutType(dt), CD_long)
          : MethodTypeDesc.of(CD_void, layoutType(dt), CD_long, element);
      c.invokeinterface(SEGMENT, method, type);
    }

    void zero(TypeKind k) {
      switch (k) { case LONG -> c.lconst_0(); case FLOAT -> c.fconst_0(); case DOUBLE -> c.dconst_0(); default -> c.iconst_0(); }
    }

    void toMemory(DType dt) {
      switch (dt) {
        case FLOAT16 -> c.invokestatic(CD_Float, "floatToFloat16", MethodTypeDesc.of(CD_short, CD_float));
        case BFLOAT16 -> c.invokestatic(HELP, "f2b", MethodTypeDesc.of(CD_short, CD_float));
        case BOOL, INT8, UINT8 -> c.i2b();
        case INT16, UINT16 -> c.i2s();
        default -> { }
      }
    }

    void fromMemory(DType dt) {
      switch (dt) {
        case FLOAT16 -> c.invokestatic(CD_Float, "float16ToFloat", MethodTypeDesc.of(CD_float, CD_short));
        case BFLOAT16 -> c.invokestatic(HELP, "b2f", MethodTypeDesc.of(CD_float, CD_short));
        case UINT8 -> c.loadConstant(0xFF).iand();
        case UINT16 -> c.loadConstant(0xFFFF).iand();
        default -> { }
      }
    }

    /** Wraps or rounds the value on the stack to its dtype. */
    void fit(DType dt) {
      switch (dt) {
        case INT8 -> c.i2b();
        case INT16 -> c.i2s();
        case UINT8 -> c.loadConstant(0xFF).iand();
        case UINT16 -> c.loadConstant(0xFFFF).iand();
        case BOOL -> { c.iconst_0(); help("ne", TypeKind.INT, TypeKind.INT, TypeKind.INT); } // any nonzero is true
        case FLOAT16 -> c.invokestatic(HELP, "roundHalf", MethodTypeDesc.of(CD_float, CD_float));
        case BFLOAT16 -> c.invokestatic(HELP, "roundBf16", MethodTypeDesc.of(CD_float, CD_float));
        default -> { }
      }
    }

    void help(String name, TypeKind ret, TypeKind... args) {
      var params = new ClassDesc[args.length];
      for (int i = 0; i < args.length; i++) params[i] = args[i].upperBound();
      c.invokestatic(HELP, name, MethodTypeDesc.of(ret.upperBound(), params));
    }

    void math(String name, int args) {
      var params = new ClassDesc[args];
      java.util.Arrays.fill(params, CD_double);
      c.invokestatic(MATH, name, MethodTypeDesc.of(CD_double, params));
    }

    void alu(UOp u) {
      var dt = u.dtype();
      var k = kind(dt);
      var in = u.src(0).dtype();
      var ki = kind(in);
      boolean unsigned = in.isUnsigned() && (in.bits() == 32 || in.bits() == 64);
      switch (u.op()) {
        case CMPLT, CMPNE, CMPEQ -> {
          load(u.src(0)); load(u.src(1));
          String cmp = unsigned ? (ki == TypeKind.LONG ? "ltu64" : "ltu32") : null;
          if (u.op() == Ops.CMPLT && cmp != null) { help(cmp, TypeKind.INT, ki, ki); return; }
          help(u.op().name().toLowerCase(), TypeKind.INT, ki, ki);
        }
        case WHERE -> {
          Label no = c.newLabel(), done = c.newLabel();
          load(u.src(0));
          c.ifeq(no);
          load(u.src(1));
          c.goto_(done).labelBinding(no);
          load(u.src(2));
          c.labelBinding(done);
        }
        case CAST -> { load(u.src(0)); cast(in, dt); }
        case BITCAST -> {
          load(u.src(0));
          switch (in) {
            case FLOAT32 -> c.invokestatic(CD_Float, "floatToRawIntBits", MethodTypeDesc.of(CD_int, CD_float));
            case FLOAT64 -> c.invokestatic(CD_Double, "doubleToRawLongBits", MethodTypeDesc.of(CD_long, CD_double));
            default -> { }
          }
          switch (dt) {
            case FLOAT32 -> c.invokestatic(CD_Float, "intBitsToFloat", MethodTypeDesc.of(CD_float, CD_int));
            case FLOAT64 -> c.invokestatic(CD_Double, "longBitsToDouble", MethodTypeDesc.of(CD_double, CD_long));
            default -> fit(dt);
          }
        }
        default -> {
          for (var s : u.src()) load(s);
          arith(u.op(), dt, k, unsigned || dt.isUnsigned() && dt.bits() >= 32);
          fit(dt);
        }
      }
    }

    /** The arithmetic instruction for an operation on a kind (IADD, LADD, FADD, DADD, ...). */
    void x(String base, TypeKind k) {
      var prefix = switch (k) { case LONG -> "L"; case FLOAT -> "F"; case DOUBLE -> "D"; default -> "I"; };
      c.with(OperatorInstruction.of(Opcode.valueOf(prefix + base)));
    }

    void arith(Ops op, DType dt, TypeKind k, boolean unsigned) {
      switch (op) {
        case ADD -> x("ADD", k);
        case MUL -> x("MUL", k);
        case NEG -> x("NEG", k);
        case IDIV -> { if (unsigned) help(k == TypeKind.LONG ? "divu64" : "divu32", k, k, k); else x("DIV", k); }
        case MOD -> { if (unsigned) help(k == TypeKind.LONG ? "remu64" : "remu32", k, k, k); else x("REM", k); }
        case MAX -> help(unsigned ? (k == TypeKind.LONG ? "maxu64" : "maxu32") : "max", k, k, k);
        case AND -> x("AND", k);
        case OR -> x("OR", k);
        case XOR -> x("XOR", k);
        case SHL -> { if (k == TypeKind.LONG) c.l2i(); x("SHL", k); }
        case SHR -> { if (k == TypeKind.LONG) c.l2i(); x(dt.isUnsigned() ? "USHR" : "SHR", k); }
        case MULACC -> {
          if (k == TypeKind.FLOAT) c.invokestatic(MATH, "fma", MethodTypeDesc.of(CD_float, CD_float, CD_float, CD_float));
          else if (k == TypeKind.DOUBLE) c.invokestatic(MATH, "fma", MethodTypeDesc.of(CD_double, CD_double, CD_double, CD_double));
          else help("mulacc", k, k, k, k);
        }
        case RECIPROCAL -> help("recip", k, k);
        case TRUNC -> { if (k == TypeKind.FLOAT || k == TypeKind.DOUBLE) help("trunc", k, k); }
        case EXP2, LOG2, SIN, SQRT -> {
          if (op == Ops.EXP2 && k == TypeKind.FLOAT) { help("exp2f", k, k); return; } // the C tier's polynomial
          if (k == TypeKind.FLOAT) c.f2d();
          switch (op) {
            case SQRT -> math("sqrt", 1);
            case SIN -> math("sin", 1);
            default -> help(op == Ops.EXP2 ? "exp2" : "log2", TypeKind.DOUBLE, TypeKind.DOUBLE);
          }
          if (k == TypeKind.FLOAT) c.d2f();
        }
        default -> throw new IllegalArgumentException("JVM renderer: no rendering for " + op + " on " + dt.lowerName());
      }
    }

    /** Converts the value on the stack from one dtype to another, with the interpreter's meaning. */
    void cast(DType from, DType to) {
      var kf = kind(from); var kt = kind(to);
      if (to == DType.BOOL) {
        zero(kf);
        help("ne", TypeKind.INT, kf, kf);
        return;
      }
      if (from == DType.UINT32) { c.i2l(); c.loadConstant(0xFFFFFFFFL).land(); kf = TypeKind.LONG; }
      if (from == DType.UINT64 && kt != TypeKind.LONG && kt != TypeKind.INT) { help("u64ToDouble", TypeKind.DOUBLE, TypeKind.LONG); kf = TypeKind.DOUBLE; }
      if (to == DType.UINT64 && (kf == TypeKind.FLOAT || kf == TypeKind.DOUBLE)) {
        if (kf == TypeKind.FLOAT) c.f2d();
        help("doubleToU64", TypeKind.LONG, TypeKind.DOUBLE);
        return;
      }
      if ((kf == TypeKind.FLOAT || kf == TypeKind.DOUBLE) && kt == TypeKind.INT) { // floats truncate through long, then wrap
        c.conversion(kf, TypeKind.LONG);
        kf = TypeKind.LONG;
      }
      if (kf != kt) c.conversion(kf, kt);
      fit(to);
    }
  }
}
