package dev.tinygrad4j;

import dev.tinygrad4j.engine.Runner;
import dev.tinygrad4j.engine.Schedule;
import dev.tinygrad4j.runtime.Buffer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
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

  /** Runs the function (first call), captures it (second), or replays it (later) on these inputs. */
  public synchronized Tensor[] call(Tensor... inputs) {
    var sig = Arrays.stream(inputs).map(t -> t.dtype().lowerName() + " " + Arrays.toString(t.shape()) + " on " + t.device()).toList();
    if (signature == null) signature = sig;
    if (sig.size() != signature.size())
      throw new IllegalArgumentException("Jit: called with " + sig.size() + " inputs, the function was first called with " + signature.size());
    for (int i = 0; i < sig.size(); i++)
      if (!sig.get(i).equals(signature.get(i)))
        throw new IllegalArgumentException("Jit: input " + i + " is " + sig.get(i) + ", the function was first called with " + signature.get(i));
    var in = new Tensor[inputs.length];
    var seen = Collections.newSetFromMap(new IdentityHashMap<Buffer, Boolean>());
    for (int i = 0; i < inputs.length; i++) {
      in[i] = inputs[i].realize();
      if (!Schedule.isView(view(in[i]))) in[i] = inputs[i].contiguous().realize();
      if (!seen.add(view(in[i]).buffer())) throw new IllegalArgumentException("Jit: input " + i + " is the buffer of another input; pass each tensor once");
    }
    if (Flags.getInt("JIT", 1) == 0) return realized(fn.apply(in)); // JIT=0: always run the function itself
    if (replay != null && replay.current()) return Runner.exclusive(() -> replay.run(in)); // no schedule runs in between
    if (calls++ == 0) return realized(fn.apply(in));
    var log = new ArrayList<Runner.Step>();
    long firstNew = Buffer.nextId();
    var out = Runner.capture(log, () -> realized(fn.apply(in)));
    replay = Replay.plan(log, firstNew, in, out);
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

    Tensor[] run(Tensor[] in) {
      var bufs = table.clone();
      for (int i = 0; i < in.length; i++) bufs[inputSlots[i]] = view(in[i]).buffer();
      for (int i = 0; i < outputSlots.length; i++) {
        var p = outputProtos[i];
        if (p != null && bufs[outputSlots[i]] == null) bufs[outputSlots[i]] = new Buffer(p.device(), p.dtype(), p.size());
      }
      String failed = null; // a check's error, thrown once the replay's bookkeeping is done
      for (int k = 0; k < steps.size(); k++) {
        var slots = stepSlots[k];
        var bs = new ArrayList<Buffer>(slots.length);
        for (int s : slots) bs.add(bufs[s]);
        switch (steps.get(k)) {
          case Runner.Launch l -> Runner.launch(l.kernel(), bs, l.vars());
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
      for (int i = 0; i < outs.length; i++) outs[i] = Tensor.ofView(Schedule.view(bufs[outputSlots[i]], outputShapes[i]), outputDevices[i]);
      return outs;
    }

    static Replay plan(List<Runner.Step> log, long firstNew, Tensor[] in, Tensor[] out) {
      var slotOf = new IdentityHashMap<Buffer, Integer>();
      var buffers = new ArrayList<Buffer>();
      Function<Buffer, Integer> slot = b -> slotOf.computeIfAbsent(b, x -> { buffers.add(x); return buffers.size() - 1; });
      var inputSlots = Arrays.stream(in).mapToInt(t -> slot.apply(view(t).buffer())).toArray();
      var outputSlots = Arrays.stream(out).mapToInt(t -> slot.apply(view(t).buffer())).toArray();
      var stepSlots = log.stream().map(st -> bufsOf(st).stream().mapToInt(slot::apply).toArray()).toArray(int[][]::new);
      var table = buffers.toArray(Buffer[]::new);
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
