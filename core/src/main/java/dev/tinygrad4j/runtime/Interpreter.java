package dev.tinygrad4j.runtime;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.codegen.Linearizer;
import dev.tinygrad4j.codegen.Lanes;
import dev.tinygrad4j.codegen.ProgramSpec;
import dev.tinygrad4j.codegen.Target;
import dev.tinygrad4j.uop.Alu;
import dev.tinygrad4j.uop.Ops;
import dev.tinygrad4j.uop.UOp;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;

/** INTERP: runs linearized UOps directly in Java. It defines what every op means; other devices are tested against it. */
public final class Interpreter implements Device {
  @Override public String name() { return "INTERP"; }
  @Override public String describe() { return "the reference interpreter (Java, one thread)"; }
  /** The interpreter runs the linearized program itself: its "source" is the program's listing. */
  private static final Target TARGET = new Target("INTERP", java.util.EnumSet.allOf(Ops.class), List.of(), java.util.Set.of(), 0, 1, Target.Memory.JAVA_ARRAYS,
      (String name, List<ProgramSpec.Param> params, Lanes.Plan plan) -> new ProgramSpec.Source.Text(Linearizer.format(name, plan.linear())));

  @Override public Target target() { return TARGET; }
  @Override public Object alloc(DType dtype, long size) { return MemorySegment.ofArray(new byte[Math.toIntExact(size * dtype.itemsize())]); }
  @Override public void copyIn(Object mem, MemorySegment src) { ((MemorySegment) mem).copyFrom(src); }
  @Override public void copyOut(MemorySegment dst, Object mem) { dst.copyFrom((MemorySegment) mem); }

  @Override public Program compile(ProgramSpec spec) {
    var linear = spec.linear();
    int n = linear.size();
    var pos = new IdentityHashMap<UOp, Integer>();
    var ops = new Ops[n];
    var dts = new DType[n];
    var srcs = new int[n][];
    var args = new Object[n];
    var jump = new int[n]; // RANGE: index of its ENDRANGE; ENDRANGE: index of its RANGE
    var locals = new ArrayList<Integer>(); // bytes of each accumulator array
    for (int i = 0; i < n; i++) {
      var u = linear.get(i);
      ops[i] = u.op(); dts[i] = u.dtype(); args[i] = u.arg();
      srcs[i] = u.src().stream().mapToInt(s -> {
        var p = pos.get(s);
        if (p == null) throw new IllegalStateException("INTERP: " + u.op() + " uses " + s.op() + " before it is defined");
        return p;
      }).toArray();
      if (u.op() == Ops.ENDRANGE) { jump[i] = srcs[i][0]; jump[srcs[i][0]] = i; }
      if (u.arg() instanceof UOp.Acc acc && acc.size() > 1) { jump[i] = locals.size(); locals.add(acc.size() * u.dtype().itemsize()); }
      pos.put(u, i);
    }
    return mems -> {
      var all = Arrays.copyOf(mems, mems.length + locals.size());
      for (int k = 0; k < locals.size(); k++) all[mems.length + k] = MemorySegment.ofArray(new byte[locals.get(k)]);
      run(ops, dts, srcs, args, jump, all, mems.length);
    };
  }

  private static void run(Ops[] ops, DType[] dts, int[][] srcs, Object[] args, int[] jump, Object[] mems, int localBase) {
    int n = ops.length;
    var L = new long[n];
    var F = new double[n];
    for (int pc = 0; pc < n; pc++) {
      var s = srcs[pc];
      var dt = dts[pc];
      switch (ops[pc]) {
        case CONST -> { if (dt.isFloat()) F[pc] = (Double) args[pc]; else L[pc] = (Long) args[pc]; }
        case DEFINE_GLOBAL -> L[pc] = (Integer) args[pc];
        case RANGE -> { L[pc] = 0; if (L[s[0]] <= 0) pc = jump[pc]; }
        case ENDRANGE -> { if (++L[s[0]] < L[srcs[s[0]][0]]) pc = s[0]; }
        case DEFINE_ACC -> {
          if (((UOp.Acc) args[pc]).size() > 1) L[pc] = localBase + jump[pc]; // an array: its memory slot
          else { L[pc] = L[s[0]]; F[pc] = F[s[0]]; }
        }
        case ASSIGN -> {
          L[s[0]] = L[s[1]]; F[s[0]] = F[s[1]];
        }
        case LOAD -> {
          if (s.length > 2 && L[s[2]] == 0) { L[pc] = 0; F[pc] = 0; break; }
          var m = (MemorySegment) mems[(int) L[s[0]]];
          if (dt.isFloat()) F[pc] = Buffer.readFloat(m, dt, L[s[1]]); else L[pc] = Buffer.readInt(m, dt, L[s[1]]);
        }
        case STORE -> {
          if (s.length > 3 && L[s[3]] == 0) break;
          var m = (MemorySegment) mems[(int) L[s[0]]];
          var vdt = dts[s[2]];
          if (vdt.isFloat()) Buffer.writeFloat(m, vdt, L[s[1]], F[s[2]]); else Buffer.writeInt(m, vdt, L[s[1]], L[s[2]]);
        }
        case WHERE -> { L[pc] = L[s[0]] != 0 ? L[s[1]] : L[s[2]]; F[pc] = L[s[0]] != 0 ? F[s[1]] : F[s[2]]; }
        case CMPLT, CMPNE, CMPEQ -> L[pc] = Alu.compare(ops[pc], dts[s[0]], F[s[0]], F[s[1]], L[s[0]], L[s[1]]);
        case CAST -> {
          var from = dts[s[0]];
          if (dt.isFloat()) F[pc] = from.isFloat() ? Alu.roundFloat(dt, F[s[0]]) : Alu.intToFloat(from, dt, L[s[0]]);
          else L[pc] = from.isFloat() ? Alu.fromDouble(dt, F[s[0]]) : Alu.wrap(dt, L[s[0]]);
        }
        case BITCAST -> {
          var v = Alu.bitcast(dts[s[0]], dt, F[s[0]], L[s[0]]);
          if (v instanceof Double d) F[pc] = d; else L[pc] = (Long) v;
        }
        default -> {
          if (dt.isFloat()) F[pc] = Alu.floatOp(ops[pc], dt, F[s[0]], s.length > 1 ? F[s[1]] : 0, s.length > 2 ? F[s[2]] : 0);
          else L[pc] = Alu.intOp(ops[pc], dt, L[s[0]], s.length > 1 ? L[s[1]] : 0, s.length > 2 ? L[s[2]] : 0);
        }
      }
    }
  }
}
