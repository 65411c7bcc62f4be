package dev.tinygrad4j;

import dev.tinygrad4j.engine.Runner;
import dev.tinygrad4j.engine.Schedule;
import dev.tinygrad4j.runtime.Buffer;
import dev.tinygrad4j.uop.Ops;
import dev.tinygrad4j.uop.UOp;
import dev.tinygrad4j.uop.Variable;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Capture and replay, as tinygrad's TinyJit: the first call runs the function normally, the second records the
 * kernels it launches (their programs and buffers), later calls replay them on the new inputs' buffers — no graph
 * building, scheduling or compiling. Assigns inside the function (an optimizer step, batch-norm statistics, the random
 * generator's counter) write their tensors' buffers in place, so a replay updates them again. Outputs are new buffers
 * on every call, so callers may keep them; intermediates share memory where their lifetimes do not overlap.
 * <p>
 * Inputs must keep the shape, dtype and device of the first call, and the function must talk to the world only
 * through its inputs, outputs and assigns. If a tensor the capture read was given a new value in another buffer since
 * (an assign that could not write in place), the next call captures again.
 */
public final class Jit {
  private final Function<Tensor[], Tensor[]> fn;
  private int calls, captures;
  private final java.util.Set<Map<Variable, Integer>> verified = new java.util.HashSet<>(); // sizes the replay serves
  // sizes whose run launched other kernels than the capture (a dim that happens to equal the size, a constant made
  // from it): a capture of their own, the eight most recently used
  private final Map<Map<Variable, Integer>, Replay> own = new java.util.LinkedHashMap<>(16, 0.75f, true) {
    @Override protected boolean removeEldestEntry(Map.Entry<Map<Variable, Integer>, Replay> e) { return size() > 8; }
  };
  private List<String> signature;
  private Replay replay;

  private Jit(Function<Tensor[], Tensor[]> fn) { this.fn = fn; }

  /** A JIT over fn (tensors to tensors). */
  public static Jit of(Function<Tensor[], Tensor[]> fn) { return new Jit(fn); }

  /** A JIT over a function of one tensor to one tensor; call it with {@link #call1}. */
  public static Jit of1(Function<Tensor, Tensor> fn) { return new Jit(in -> new Tensor[]{fn.apply(in[0])}); }

  /** Calls the function of {@link #of1}. */
  public Tensor call1(Tensor input) { return call(input)[0]; }

  /** How many times the function was captured (1 from the second call on, unless a captured tensor moved). */
  public int captures() { return captures; }

  /** Bytes of intermediate buffers the replay keeps, after memory planning (0 before the capture). */
  public long intermediateBytes() { return replay == null ? 0 : replay.intermediateBytes; }

  /**
   * Runs the function (first call), captures it (second), or replays it (later) on these inputs. An input may have
   * dims bound to {@link dev.tinygrad4j.uop.Variable}s ({@link Tensor#bind}): the function gets it bound, and later
   * calls may give another size there — the captured kernels are symbolic in it, replayed at the new values (buffers
   * sized for them). Where a replay cannot serve new values (a size the capture could not express in the variables),
   * the call runs the function instead.
   */
  public synchronized Tensor[] call(Tensor... inputs) {
    var binds = new ArrayList<List<UOp.Bind>>();
    var values = new java.util.TreeMap<Variable, Integer>(java.util.Comparator.comparing(Variable::name).thenComparingInt(Variable::min).thenComparingInt(Variable::max));
    for (var t : inputs) {
      var b = new ArrayList<UOp.Bind>();
      for (var u = t.uop(); u.op() == Ops.BIND; u = u.src(0)) {
        var bind = (UOp.Bind) u.arg();
        b.add(bind);
        var was = values.put(bind.variable(), t.shape()[bind.axis()]);
        if (was != null && was != t.shape()[bind.axis()])
          throw new IllegalArgumentException("Jit: variable " + bind.variable() + " is bound to " + was + " and to " + t.shape()[bind.axis()] + " in one call");
      }
      binds.add(b);
    }
    var sig = new ArrayList<String>();
    for (int i = 0; i < inputs.length; i++) {
      var dims = Arrays.stream(inputs[i].shape()).mapToObj(String::valueOf).toArray(String[]::new);
      for (var b : binds.get(i)) dims[b.axis()] = b.variable().toString();
      sig.add(inputs[i].dtype().lowerName() + " [" + String.join(", ", dims) + "] on " + inputs[i].device());
    }
    if (signature == null) signature = sig;
    if (sig.size() != signature.size())
      throw new IllegalArgumentException("Jit: called with " + sig.size() + " inputs, the function was first called with " + signature.size());
    for (int i = 0; i < sig.size(); i++)
      if (!sig.get(i).equals(signature.get(i)))
        throw new IllegalArgumentException("Jit: input " + i + " is " + sig.get(i) + ", the function was first called with " + signature.get(i));
    var in = new Tensor[inputs.length]; // realized, each a view of a buffer of its own
    var given = new Tensor[inputs.length]; // what the function gets: those, bound as the inputs were
    var seen = Collections.newSetFromMap(new IdentityHashMap<Buffer, Boolean>());
    for (int i = 0; i < inputs.length; i++) {
      in[i] = inputs[i].unbind().realize(); // (a bound view of a buffer needs no schedule)
      if (!Schedule.isView(view(in[i]))) in[i] = in[i].contiguous().realize();
      if (!seen.add(view(in[i]).buffer())) throw new IllegalArgumentException("Jit: input " + i + " is the buffer of another input; pass each tensor once");
      given[i] = in[i];
      for (var b : binds.get(i).reversed()) given[i] = given[i].bind(b.axis(), b.variable());
    }
    if (Flags.getInt("JIT", 1) == 0) return realized(fn.apply(given)); // JIT=0: always run the function itself
    if (replay != null && replay.current()) {
      var mine = values.equals(replay.captured) ? null : own.get(values);
      if (mine != null && mine.current()) {
        var out = Runner.exclusive(() -> mine.run(in, values));
        if (out != null) return out;
      }
      if (!values.equals(replay.captured) && !verified.contains(values)) {
        // first call at these sizes: the function runs, and its launches are compared with the capture's. The
        // kernels are symbolic in the bound sizes, but the function may have turned a size into something else (a
        // constant 1/n, a branch): only if it launched the same kernels on the same buffer pattern is a replay at
        // these sizes what running it gives
        var log = new ArrayList<Runner.Step>();
        var counts = new IdentityHashMap<Buffer, UOp>();
        long firstNew = Buffer.nextId();
        var out = Runner.capture(log, counts, () -> realized(fn.apply(given)));
        var check = Replay.plan(log, counts, firstNew, in, out, values);
        if (replay.sameSteps(check)) {
          if (verified.size() >= 4096) verified.clear();
          verified.add(Map.copyOf(values));
        } else own.put(Map.copyOf(values), check); // other kernels at these sizes: that run is their capture
        return out;
      }
      var out = Runner.exclusive(() -> replay.run(in, values)); // no schedule runs in between
      if (out != null) return out;
      return realized(fn.apply(given)); // values the capture cannot serve
    }
    if (calls++ == 0) return realized(fn.apply(given));
    var log = new ArrayList<Runner.Step>();
    var counts = new IdentityHashMap<Buffer, UOp>();
    long firstNew = Buffer.nextId();
    var out = Runner.capture(log, counts, () -> realized(fn.apply(given)));
    replay = Replay.plan(log, counts, firstNew, in, out, values);
    verified.clear(); // (sizes checked against an earlier capture are checked again)
    own.clear();
    captures++;
    if (Flags.debug() >= 1 && captures > 1) System.out.println("jit: captured again (a tensor it read was given a new buffer)");
    return out;
  }

  private static Tensor[] realized(Tensor[] out) {
    Tensor.realizeAll(out);
    return out;
  }

  /** The buffer view holding a realized tensor's value (a tensor that requires grad keeps its graph). */
  private static dev.tinygrad4j.uop.UOp view(Tensor t) { return Schedule.realized(t.uop(), dev.tinygrad4j.runtime.Devices.get(t.device())); }

  /**
   * A captured step over numbered buffer slots: inputs are bound per call, outputs the capture made are new buffers
   * per call, everything else is fixed — buffers from before the capture (weights, optimizer state, which launches
   * may overwrite in place) and the replay's own intermediates.
   */
  private static final class Replay {
    private final List<Runner.Step> steps;
    private final int[][] stepSlots;
    private final Buffer[] table; // each slot's buffer; null where bound per call
    private final int[] inputSlots, outputSlots;
    private final Buffer[] outputProtos; // per output: the buffer the capture made for it (null: an input or a buffer from before)
    private final int[][] outputShapes;
    private final String[] outputDevices;
    private final List<Buffer> external, overwritten;
    private final List<Runner.Kept> kept = new ArrayList<>();
    private long intermediateBytes;
    // symbolic replay: the values captured, each slot's element count as an expression of the variables (null: fixed),
    // each output's dims likewise, and whether other values can be served at all
    private Map<Variable, Integer> captured = Map.of();
    private UOp[] slotCounts;
    private UOp[][] outputSizes;
    private boolean symbolic;

    private Replay(List<Runner.Step> steps, int[][] stepSlots, Buffer[] table, int[] inputSlots, int[] outputSlots, Buffer[] outputProtos,
                   int[][] outputShapes, String[] outputDevices, List<Buffer> external, List<Buffer> overwritten) {
      this.steps = steps; this.stepSlots = stepSlots; this.table = table; this.inputSlots = inputSlots; this.outputSlots = outputSlots;
      this.outputProtos = outputProtos; this.outputShapes = outputShapes; this.outputDevices = outputDevices; this.external = external;
      this.overwritten = overwritten;
    }

    /**
     * Whether every buffer from before the capture still holds what its tensor holds (none was moved off it) and every
     * copy kept from before is still a copy of its source.
     */
    boolean current() {
      for (var b : external) if (b.superseded()) return false;
      for (var k : kept) if (k.source().version() != k.version() || k.source().superseded()) return false;
      return true;
    }

    /**
     * The outputs of a replay on these inputs at these variable values, or null if the capture cannot serve them (other
     * values, where a size did not come out as an expression of the variables): then nothing ran.
     */
    Tensor[] run(Tensor[] in, Map<Variable, Integer> values) {
      boolean same = values.equals(captured);
      if (!same && !symbolic) return null;
      if (!same) grow(values);
      var bufs = table.clone();
      for (int i = 0; i < in.length; i++) bufs[inputSlots[i]] = view(in[i]).buffer();
      for (int i = 0; i < outputSlots.length; i++) {
        var p = outputProtos[i];
        long size = p == null || same || slotCounts[outputSlots[i]] == null ? (p == null ? 0 : p.size()) : Variable.evaluate(slotCounts[outputSlots[i]], values);
        if (p != null && bufs[outputSlots[i]] == null) bufs[outputSlots[i]] = new Buffer(p.device(), p.dtype(), size);
      }
      var vars = new int[steps.size()][];
      for (int k = 0; k < steps.size(); k++) { // every launch fits its buffers at these values, before anything runs
        if (!(steps.get(k) instanceof Runner.Launch l)) continue;
        var spec = l.kernel().spec();
        vars[k] = l.vars();
        if (same) continue;
        vars[k] = new int[spec.vars().size()];
        for (int j = 0; j < vars[k].length; j++) {
          var v = values.get(spec.vars().get(j));
          if (v == null) return null; // a variable bound inside the function: its new value is unknown
          vars[k][j] = spec.vars().get(j).value(v);
        }
        var needs = l.kernel().needs(vars[k]);
        for (int j = 0; j < stepSlots[k].length; j++) if (bufs[stepSlots[k][j]].size() < needs[j]) return null;
      }
      String failed = null; // a check's error, thrown once the replay's bookkeeping is done
      for (int k = 0; k < steps.size(); k++) {
        var slots = stepSlots[k];
        var bs = new ArrayList<Buffer>(slots.length);
        for (int s : slots) bs.add(bufs[s]);
        switch (steps.get(k)) {
          case Runner.Launch l -> Runner.launch(l.kernel(), bs, vars[k]);
          case Runner.Transfer t -> Runner.transfer(bs.get(0), bs.get(1));
          case Runner.Kept ignored -> { } // checked by current()
          case Runner.Verify v -> { if (failed == null && Runner.flagged(bs.getFirst())) failed = v.message(); }
        }
      }
      for (var b : overwritten) { // assigns wrote these in place again: their tensors move on to the new contents
        b.nextGeneration();
        Tensor.follow(b);
      }
      if (failed != null) throw new IllegalArgumentException(failed);
      var outs = new Tensor[outputSlots.length];
      for (int i = 0; i < outs.length; i++) {
        var shape = outputShapes[i];
        if (!same) shape = Arrays.stream(outputSizes[i]).mapToInt(d -> (int) Variable.evaluate(d, values)).toArray();
        outs[i] = Tensor.ofView(Schedule.view(bufs[outputSlots[i]], shape), outputDevices[i]);
      }
      return outs;
    }

    /**
     * Whether another capture (of the same function at other sizes) launched the same kernels in the same order on
     * the same pattern of buffers (inputs, outputs, the same buffers from before, intermediates alike), with the
     * same copies and checks: then replaying this one at its sizes computes what it computed.
     */
    boolean sameSteps(Replay o) {
      if (!symbolic || !o.symbolic || steps.size() != o.steps.size() || !Arrays.equals(inputSlots, o.inputSlots) || !Arrays.equals(outputSlots, o.outputSlots)
          || !external.equals(o.external) || !overwritten.equals(o.overwritten) || outputSizes == null || o.outputSizes == null) return false;
      for (int i = 0; i < outputProtos.length; i++) if ((outputProtos[i] == null) != (o.outputProtos[i] == null)) return false;
      for (int i = 0; i < outputSizes.length; i++) if (!Arrays.equals(outputSizes[i], o.outputSizes[i])) return false;
      for (int k = 0; k < steps.size(); k++) {
        if (!Arrays.equals(stepSlots[k], o.stepSlots[k])) return false;
        boolean same = switch (steps.get(k)) {
          case Runner.Launch l -> o.steps.get(k) instanceof Runner.Launch m && l.kernel().spec().ast() == m.kernel().spec().ast();
          case Runner.Transfer t -> o.steps.get(k) instanceof Runner.Transfer;
          case Runner.Kept kp -> o.steps.get(k) instanceof Runner.Kept kq && kp.source() == kq.source();
          case Runner.Verify v -> o.steps.get(k) instanceof Runner.Verify w && v.message().equals(w.message());
        };
        if (!same) return false;
      }
      return true;
    }

    /** Intermediates big enough for these values: a buffer several slots share holds the largest (grown once, kept). */
    private void grow(Map<Variable, Integer> values) {
      var need = new IdentityHashMap<Buffer, Long>();
      for (int s = 0; s < table.length; s++)
        if (table[s] != null && slotCounts[s] != null) // (inputs and outputs are not in the table: they are per call)
          need.merge(table[s], Variable.evaluate(slotCounts[s], values), Math::max);
      need.forEach((b, n) -> {
        if (b.size() >= n) return;
        var bigger = new Buffer(b.device(), b.dtype(), n);
        for (int s = 0; s < table.length; s++) if (table[s] == b) table[s] = bigger;
        intermediateBytes += bigger.nbytes() - b.nbytes();
      });
    }

    /**
     * Each output's dims as expressions of the variables: a dim of a bound size is taken as that variable; the
     * guess holds if the product of the dims equals the element count of the buffer the capture wrote it into (an
     * expression of the variables) at other values too. Null if some output's guess does not hold.
     */
    private static UOp[][] outputSizes(Tensor[] out, int[] outputSlots, UOp[] slotCounts, Map<Variable, Integer> values) {
      var sizes = new UOp[out.length][];
      for (int i = 0; i < out.length; i++) {
        var shape = out[i].shape();
        sizes[i] = new UOp[shape.length];
        UOp prod = UOp.idx(1);
        for (int d = 0; d < shape.length; d++) {
          sizes[i][d] = UOp.idx(shape[d]);
          for (var e : values.entrySet()) if (e.getValue() == shape[d] && shape[d] > 1) { sizes[i][d] = e.getKey().size(); break; }
          prod = prod.mul(sizes[i][d]);
        }
        var count = slotCounts[outputSlots[i]];
        if (count == null) count = UOp.idx(UOp.prod(shape)); // a fixed count: every dim must be fixed
        for (int shift : new int[]{1, -1, 2}) {
          var other = new HashMap<Variable, Integer>();
          values.forEach((v, x) -> other.put(v, Math.max(v.min(), Math.min(v.max(), x + shift * v.step())))); // (not checked: any multiple)
          if (Variable.evaluate(prod, other) != Variable.evaluate(count, other)) return null;
        }
      }
      return sizes;
    }

    static Replay plan(List<Runner.Step> log, Map<Buffer, UOp> counts, long firstNew, Tensor[] in, Tensor[] out, Map<Variable, Integer> values) {
      var slotOf = new IdentityHashMap<Buffer, Integer>();
      var buffers = new ArrayList<Buffer>();
      Function<Buffer, Integer> slot = b -> slotOf.computeIfAbsent(b, x -> { buffers.add(x); return buffers.size() - 1; });
      var inputSlots = Arrays.stream(in).mapToInt(t -> slot.apply(view(t).buffer())).toArray();
      var outputSlots = Arrays.stream(out).mapToInt(t -> slot.apply(view(t).buffer())).toArray();
      var stepSlots = log.stream().map(st -> bufsOf(st).stream().mapToInt(slot::apply).toArray()).toArray(int[][]::new);
      var table = buffers.toArray(Buffer[]::new);
      var slotCounts = new UOp[table.length];
      for (int s = 0; s < table.length; s++) if (table[s].id() >= firstNew) slotCounts[s] = counts.get(table[s]);
      var bound = new java.util.HashSet<Integer>();
      for (int s : inputSlots) bound.add(s);
      var outputProtos = new Buffer[out.length];
      for (int i = 0; i < out.length; i++) {
        var b = table[outputSlots[i]];
        if (b.id() >= firstNew && !bound.contains(outputSlots[i])) outputProtos[i] = b;
      }
      for (var p : outputProtos) if (p != null) bound.add(slotOf.get(p));
      var external = new ArrayList<Buffer>(); var overwritten = new ArrayList<Buffer>();
      var intermediates = new ArrayList<Integer>();
      for (int s = 0; s < table.length; s++) {
        if (bound.contains(s)) continue;
        if (table[s].id() < firstNew) external.add(table[s]); else intermediates.add(s);
      }
      for (int k = 0; k < log.size(); k++) {
        if (log.get(k) instanceof Runner.Kept || log.get(k) instanceof Runner.Verify) continue; // they write nothing
        var written = table[stepSlots[k][0]];
        if (written.id() < firstNew && !bound.contains(stepSlots[k][0]) && !overwritten.contains(written)) overwritten.add(written);
      }
      var forget = Collections.newSetFromMap(new IdentityHashMap<Buffer, Boolean>());
      for (int s : intermediates) forget.add(table[s]);
      Schedule.forget(forget); // replays overwrite them: no remembered result may point there
      long before = intermediates.stream().mapToLong(s -> table[s].nbytes()).sum();
      long after = share(intermediates, table, stepSlots).stream().mapToLong(Buffer::nbytes).sum();
      if (Flags.debug() >= 2)
        System.out.printf("jit: captured %d steps; intermediates %d bytes, %d after memory planning%n", log.size(), before, after);
      for (int s : bound) table[s] = null;
      var r = new Replay(List.copyOf(log), stepSlots, table, inputSlots, outputSlots, outputProtos,
          Arrays.stream(out).map(Tensor::shape).toArray(int[][]::new), Arrays.stream(out).map(Tensor::device).toArray(String[]::new),
          external, overwritten);
      r.intermediateBytes = after;
      for (var st : log) if (st instanceof Runner.Kept k) r.kept.add(k);
      r.captured = Map.copyOf(values);
      r.slotCounts = slotCounts;
      r.outputSizes = values.isEmpty() ? null : outputSizes(out, outputSlots, slotCounts, values);
      // a replay gives each launch the values of the inputs' variables: only right if the capture's launches had them
      // (a variable the function binds again to another size, inside, is not)
      boolean inputValues = true;
      for (var st : log)
        if (st instanceof Runner.Launch l)
          for (int j = 0; j < l.kernel().spec().vars().size(); j++) {
            var v = l.kernel().spec().vars().get(j);
            inputValues &= values.containsKey(v) && v.value(values.get(v)) == l.vars()[j];
          }
      r.symbolic = r.outputSizes != null && inputValues && log.stream().noneMatch(st -> st instanceof Runner.Transfer); // copies move whole buffers
      return r;
    }

    /**
     * Gives intermediates whose lifetimes (first to last step using them) do not overlap one buffer (same device and
     * dtype, large enough); returns the buffers kept.
     */
    private static List<Buffer> share(List<Integer> intermediates, Buffer[] table, int[][] stepSlots) {
      var first = new HashMap<Integer, Integer>(); var last = new HashMap<Integer, Integer>();
      for (int k = 0; k < stepSlots.length; k++) for (int s : stepSlots[k]) { first.putIfAbsent(s, k); last.put(s, k); }
      var order = new ArrayList<>(intermediates);
      order.sort(java.util.Comparator.comparingInt(first::get));
      final class Kept { final Buffer buf; int freeAfter; Kept(Buffer b) { buf = b; } }
      var kept = new ArrayList<Kept>();
      for (int s : order) {
        var b = table[s];
        Kept best = null;
        for (var k : kept)
          if (k.freeAfter < first.get(s) && k.buf.device() == b.device() && k.buf.dtype() == b.dtype() && k.buf.size() >= b.size()
              && (best == null || k.buf.size() < best.buf.size())) best = k;
        if (best == null) kept.add(best = new Kept(b));
        table[s] = best.buf;
        best.freeAfter = last.get(s);
      }
      return kept.stream().map(k -> k.buf).toList();
    }

    private static List<Buffer> bufsOf(Runner.Step st) {
      return switch (st) {
        case Runner.Launch l -> l.bufs();
        case Runner.Transfer t -> List.of(t.dst(), t.src());
        case Runner.Kept k -> List.of(k.copy());
        case Runner.Verify v -> List.of(v.flag());
      };
    }
  }
}
