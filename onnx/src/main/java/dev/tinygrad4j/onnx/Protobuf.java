package dev.tinygrad4j.onnx;

/**
 * A reader of the protobuf wire format over a byte range: fields are read in order, each as its number and wire
 * type, then its value. Every read is checked against the range, so a truncated or corrupt message ends in an
 * OnnxException naming what was being read, never in an out-of-bounds access or a huge allocation.
 */
final class Protobuf {
  static final int VARINT = 0, FIXED64 = 1, LEN = 2, FIXED32 = 5;
  /** How deep messages may nest (as protobuf's own parsers allow): deeper input is corrupt, not a stack overflow. */
  static final int MAX_DEPTH = 100;

  private final byte[] buf;
  private final String what;
  private int pos;
  private final int end;
  private final int depth;
  private int tag;

  Protobuf(byte[] buf, String what) { this(buf, 0, buf.length, what, 0); }

  private Protobuf(byte[] buf, int pos, int end, String what, int depth) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
    this.what = what;
    this.depth = depth;
  }

  /** Advances to the next field; false at the end of the message. */
  boolean next() {
    if (pos >= end) return false;
    long t = varint();
    if (t >>> 3 == 0 || t >>> 32 != 0) throw corrupt("field tag " + t);
    tag = (int) t;
    return true;
  }

  int field() { return tag >>> 3; }
  int wire() { return tag & 7; }

  long varint() {
    long v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= end) throw corrupt("a varint runs past the end");
      byte b = buf[pos++];
      v |= (long) (b & 0x7F) << shift;
      if (b >= 0) return v;
    }
    throw corrupt("a varint longer than 10 bytes");
  }

  int fixed32() {
    need(4);
    int v = (buf[pos] & 0xFF) | (buf[pos + 1] & 0xFF) << 8 | (buf[pos + 2] & 0xFF) << 16 | (buf[pos + 3] & 0xFF) << 24;
    pos += 4;
    return v;
  }

  long fixed64() {
    long lo = fixed32() & 0xFFFFFFFFL;
    return lo | (long) fixed32() << 32;
  }

  /** The start and length of a length-delimited field's bytes (checked); the reader moves past them. */
  int[] span() {
    long n = varint();
    if (n < 0 || n > end - pos) throw corrupt("a field of " + n + " bytes where " + (end - pos) + " remain");
    int start = pos;
    pos += (int) n;
    return new int[]{start, (int) n};
  }

  byte[] bytes() {
    var s = span();
    return java.util.Arrays.copyOfRange(buf, s[0], s[0] + s[1]);
  }

  String string() {
    var s = span();
    return new String(buf, s[0], s[1], java.nio.charset.StandardCharsets.UTF_8);
  }

  /** A reader over an embedded message. */
  Protobuf message(String name) {
    if (depth >= MAX_DEPTH) throw corrupt(name + " nested more than " + MAX_DEPTH + " messages deep");
    var s = span();
    return new Protobuf(buf, s[0], s[0] + s[1], what + "/" + name, depth + 1);
  }

  /** The underlying bytes (for raw tensor data read in place). */
  byte[] buffer() { return buf; }

  /** Skips the current field's value. */
  void skip() {
    switch (wire()) {
      case VARINT -> varint();
      case FIXED64 -> { need(8); pos += 8; }
      case LEN -> span();
      case FIXED32 -> { need(4); pos += 4; }
      default -> throw corrupt("wire type " + wire() + " of field " + field());
    }
  }

  /** The values of a repeated integer field: packed (one length-delimited run) or a single varint. */
  void longs(java.util.function.LongConsumer out) {
    if (wire() == VARINT) { out.accept(varint()); return; }
    if (wire() != LEN) throw corrupt("field " + field() + " should hold integers, has wire type " + wire());
    var s = span();
    var packed = new Protobuf(buf, s[0], s[0] + s[1], what, depth);
    while (packed.pos < packed.end) out.accept(packed.varint());
  }

  /** The bits of a repeated float (4 bytes, sign-extended) or double (8 bytes) field, packed or single. */
  void fixed(int bytes, java.util.function.LongConsumer bits) {
    var kind = bytes == 4 ? "floats" : "doubles";
    if (wire() == (bytes == 4 ? FIXED32 : FIXED64)) { bits.accept(bytes == 4 ? fixed32() : fixed64()); return; }
    if (wire() != LEN) throw corrupt("field " + field() + " should hold " + kind + ", has wire type " + wire());
    var s = span();
    if (s[1] % bytes != 0) throw corrupt("packed " + kind + " of " + s[1] + " bytes");
    var packed = new Protobuf(buf, s[0], s[0] + s[1], what, depth);
    while (packed.pos < packed.end) bits.accept(bytes == 4 ? packed.fixed32() : packed.fixed64());
  }

  /** Checks the current field has the wire type expected. */
  Protobuf expect(int wire) {
    if (wire() != wire) throw corrupt("field " + field() + " has wire type " + wire() + ", expected " + wire);
    return this;
  }

  private void need(int n) {
    if (end - pos < n) throw corrupt(n + " bytes needed, " + (end - pos) + " remain");
  }

  OnnxException corrupt(String why) {
    return new OnnxException(what + ": truncated or corrupt protobuf at byte " + pos + ": " + why);
  }
}
