package dev.tinygrad4j.runtime;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.uop.Alu;

import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicLong;

import static java.lang.foreign.ValueLayout.*;

/** Device memory for {@code size} elements of one dtype; freed when nothing refers to it any more. */
public final class Buffer {
  private static final Cleaner CLEANER = Cleaner.create();
  private static final AtomicLong LIVE = new AtomicLong(), LIVE_BYTES = new AtomicLong(), CREATED = new AtomicLong();

  private final Device device;
  private final DType dtype;
  private final long size;
  private final Object mem;
  private final long id = CREATED.incrementAndGet();
  private volatile long version; // how many times its contents were written
  private volatile int generation; // how many times an assign overwrote it in place
  private volatile int holders; // tensors that were given it as their value
  private volatile boolean superseded; // a tensor that held it was given a new value in another buffer

  // buffers are freed when the garbage collector finds them unreachable, but the Java heap barely grows while
  // device memory does: like the JDK's direct buffers, a collection is asked for once device memory doubles
  private static final long MIN_COLLECT_BYTES = 256L << 20;
  private static long collectAt = MIN_COLLECT_BYTES;

  private static synchronized void reclaim(long bytes) {
    if (LIVE_BYTES.get() + bytes <= collectAt) return;
    collect();
  }

  /**
   * Collects unreachable buffers now and waits (briefly) until the cleaner has returned their memory; a device
   * calls it when fresh memory would otherwise come from the OS.
   */
  public static synchronized void collect() {
    long before = LIVE_BYTES.get();
    System.gc();
    try { // the cleaner frees on its own thread: wait (briefly) until it has started and then stopped returning memory
      long prev = before;
      for (int i = 0; i < 50; i++) {
        Thread.sleep(1);
        long now = LIVE_BYTES.get();
        if (now == prev && (now < before || i >= 10)) break;
        prev = now;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    collectAt = Math.max(MIN_COLLECT_BYTES, 2 * LIVE_BYTES.get());
  }

  /** Allocates memory for size elements of dtype on device. */
  public Buffer(Device device, DType dtype, long size) {
    this.device = device; this.dtype = dtype; this.size = size;
    long bytes = size * dtype.itemsize();
    reclaim(bytes);
    var m = device.alloc(dtype, size);
    this.mem = m;
    LIVE.incrementAndGet();
    LIVE_BYTES.addAndGet(bytes);
    CLEANER.register(this, () -> {
      device.free(m);
      LIVE.decrementAndGet();
      LIVE_BYTES.addAndGet(-bytes);
    });
  }

  /** The device holding the memory. */
  public Device device() { return device; }
  /** The element type. */
  public DType dtype() { return dtype; }
  /** Number of elements. */
  public long size() { return size; }
  /** Size in bytes. */
  public long nbytes() { return size * dtype.itemsize(); }
  /** The device's handle for the memory. */
  public Object mem() { return mem; }
  /** Copies host bytes in. */
  public Buffer copyIn(MemorySegment src) { device.copyIn(mem, src); version++; return this; }
  /** Notes that a kernel wrote the contents. */
  public void written() { version++; }
  /** How many times the contents were written (copies made from it are valid while this stays the same). */
  public long version() { return version; }
  /** How many times an assign overwrote the contents in place. */
  public int generation() { return generation; }
  /** Notes that an assign overwrote the contents in place. */
  public void nextGeneration() { generation++; }
  /** Notes that a tensor was given this buffer as its value. */
  public void hold() { holders++; }
  /** Whether more than one tensor was given this buffer (then an assign to one of them must not overwrite it). */
  public boolean shared() { return holders > 1; }
  /** Creation order: buffers made after a point in time have larger ids. */
  public long id() { return id; }
  /** The id the next buffer will get. */
  public static long nextId() { return CREATED.get() + 1; }
  /** Notes that the tensor holding this buffer was assigned a value in another buffer. */
  public void supersede() { superseded = true; }
  /** Whether a tensor that held this buffer now holds another (what was captured from it is out of date). */
  public boolean superseded() { return superseded; }
  /** Copies the contents out to host bytes. */
  public MemorySegment copyOut(MemorySegment dst) { device.copyOut(dst, mem); return dst; }

  /** Number of buffers not yet freed. */
  public static long liveCount() { return LIVE.get(); }
  /** Bytes held by buffers not yet freed. */
  public static long liveBytes() { return LIVE_BYTES.get(); }

  @Override public String toString() { return "Buffer(" + device.name() + ", " + dtype.lowerName() + ", " + size + ")"; }

  /** Reads element i of a float-typed host segment as double. */
  public static double readFloat(MemorySegment m, DType dt, long i) {
    return switch (dt) {
      case FLOAT32 -> m.getAtIndex(JAVA_FLOAT_UNALIGNED, i);
      case FLOAT64 -> m.getAtIndex(JAVA_DOUBLE_UNALIGNED, i);
      case FLOAT16 -> Float.float16ToFloat(m.getAtIndex(JAVA_SHORT_UNALIGNED, i));
      case BFLOAT16 -> Alu.bf16ToFloat(m.getAtIndex(JAVA_SHORT_UNALIGNED, i));
      default -> Alu.toDouble(dt, readInt(m, dt, i));
    };
  }

  /** Reads element i of an int- or bool-typed host segment as long. */
  public static long readInt(MemorySegment m, DType dt, long i) {
    return switch (dt) {
      case BOOL, INT8, UINT8 -> Alu.wrap(dt, m.get(JAVA_BYTE, i));
      case INT16, UINT16 -> Alu.wrap(dt, m.getAtIndex(JAVA_SHORT_UNALIGNED, i));
      case INT32, UINT32 -> Alu.wrap(dt, m.getAtIndex(JAVA_INT_UNALIGNED, i));
      case INT64, UINT64 -> m.getAtIndex(JAVA_LONG_UNALIGNED, i);
      default -> Alu.fromDouble(dt, readFloat(m, dt, i));
    };
  }

  /** Writes a float value to element i of a float-typed host segment. */
  public static void writeFloat(MemorySegment m, DType dt, long i, double v) {
    switch (dt) {
      case FLOAT32 -> m.setAtIndex(JAVA_FLOAT_UNALIGNED, i, (float) v);
      case FLOAT64 -> m.setAtIndex(JAVA_DOUBLE_UNALIGNED, i, v);
      case FLOAT16 -> m.setAtIndex(JAVA_SHORT_UNALIGNED, i, Float.floatToFloat16((float) v));
      case BFLOAT16 -> m.setAtIndex(JAVA_SHORT_UNALIGNED, i, Alu.floatToBf16((float) v));
      default -> writeInt(m, dt, i, Alu.fromDouble(dt, v));
    }
  }

  /** Writes an int value to element i of an int- or bool-typed host segment. */
  public static void writeInt(MemorySegment m, DType dt, long i, long v) {
    switch (dt) {
      case BOOL, INT8, UINT8 -> m.set(JAVA_BYTE, i, (byte) v);
      case INT16, UINT16 -> m.setAtIndex(JAVA_SHORT_UNALIGNED, i, (short) v);
      case INT32, UINT32 -> m.setAtIndex(JAVA_INT_UNALIGNED, i, (int) v);
      case INT64, UINT64 -> m.setAtIndex(JAVA_LONG_UNALIGNED, i, v);
      default -> writeFloat(m, dt, i, Alu.toDouble(dt, v));
    }
  }
}
