package dev.tinygrad4j.onnx;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A minimal protobuf wire-format writer for building ONNX models in tests: each call appends one field (its tag,
 * then its value) in the order made, so a test can also write what a well-behaved encoder never would (unpacked
 * repeated fields, odd field orders, lengths that lie).
 */
final class ProtoWriter {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();

  /** A varint field (int32, int64, uint64, enum, bool); negative values take ten bytes, as protobuf writes them. */
  ProtoWriter varint(int field, long value) {
    tag(field, Protobuf.VARINT);
    rawVarint(value);
    return this;
  }

  /** A fixed32 field holding the bits of a float. */
  ProtoWriter float32(int field, float value) {
    tag(field, Protobuf.FIXED32);
    rawFixed32(Float.floatToRawIntBits(value));
    return this;
  }

  /** A fixed64 field holding the bits of a double. */
  ProtoWriter float64(int field, double value) {
    tag(field, Protobuf.FIXED64);
    rawFixed64(Double.doubleToRawLongBits(value));
    return this;
  }

  /** A length-delimited field of raw bytes. */
  ProtoWriter bytes(int field, byte[] value) {
    tag(field, Protobuf.LEN);
    rawVarint(value.length);
    out.writeBytes(value);
    return this;
  }

  /** A length-delimited field of UTF-8 text. */
  ProtoWriter string(int field, String value) { return bytes(field, value.getBytes(StandardCharsets.UTF_8)); }

  /** An embedded message. */
  ProtoWriter message(int field, ProtoWriter message) { return bytes(field, message.toByteArray()); }

  /** A packed repeated varint field. */
  ProtoWriter packedVarints(int field, long... values) {
    var packed = new ProtoWriter();
    for (long v : values) packed.rawVarint(v);
    return bytes(field, packed.toByteArray());
  }

  /** A packed repeated float field. */
  ProtoWriter packedFloats(int field, float... values) {
    var packed = new ProtoWriter();
    for (float v : values) packed.rawFixed32(Float.floatToRawIntBits(v));
    return bytes(field, packed.toByteArray());
  }

  /** A packed repeated double field. */
  ProtoWriter packedDoubles(int field, double... values) {
    var packed = new ProtoWriter();
    for (double v : values) packed.rawFixed64(Double.doubleToRawLongBits(v));
    return bytes(field, packed.toByteArray());
  }

  /** A field's tag alone: its number and wire type. */
  ProtoWriter tag(int field, int wireType) {
    rawVarint((long) field << 3 | wireType);
    return this;
  }

  /** A varint without a tag (for hand-made corrupt input, such as a length that claims too much). */
  ProtoWriter rawVarint(long value) {
    while ((value & ~0x7FL) != 0) {
      out.write((int) (value & 0x7F) | 0x80);
      value >>>= 7;
    }
    out.write((int) value);
    return this;
  }

  /** Bytes appended as they are. */
  ProtoWriter raw(byte... bytes) {
    out.writeBytes(bytes);
    return this;
  }

  private void rawFixed32(int bits) {
    for (int i = 0; i < 4; i++) out.write(bits >>> 8 * i);
  }

  private void rawFixed64(long bits) {
    for (int i = 0; i < 8; i++) out.write((int) (bits >>> 8 * i));
  }

  byte[] toByteArray() { return out.toByteArray(); }
}
