package dev.tinygrad4j.nn;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;

/**
 * The little JSON that safetensors headers and tokenizer files (tokenizer.json) need: {@link #parse} reads a document
 * into plain Java values (LinkedHashMap for objects, ArrayList for arrays, String, Long, BigInteger for integers
 * beyond long, Double, Boolean, and null), {@link #quote} writes a string. Input is untrusted: every problem is an
 * IllegalArgumentException naming the position, duplicate object keys are rejected, and nesting is limited so a
 * deep document cannot overflow the stack.
 */
public final class Json {
  static final int MAX_DEPTH = 64;

  private final String s;
  private int pos;

  private Json(String s) { this.s = s; }

  /** Parses a whole document (surrounding whitespace allowed). */
  public static Object parse(String text) {
    var p = new Json(text);
    p.skipSpace();
    var v = p.value(0);
    p.skipSpace();
    if (p.pos < text.length()) throw p.error("unexpected " + p.describe() + " after the JSON value");
    return v;
  }

  /** The JSON string literal for s, escaped the way serde_json writes it (non-ASCII stays as it is). */
  public static String quote(String s) {
    var b = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        case '\b' -> b.append("\\b");
        case '\f' -> b.append("\\f");
        default -> {
          if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
          else b.append(c);
        }
      }
    }
    return b.append('"').toString();
  }

  private IllegalArgumentException error(String what) {
    return new IllegalArgumentException("invalid JSON at character " + pos + ": " + what);
  }

  private String describe() {
    if (pos >= s.length()) return "end of text";
    char c = s.charAt(pos);
    return c >= 0x20 && c < 0x7f ? "'" + c + "'" : String.format("character U+%04X", (int) c);
  }

  private void skipSpace() {
    while (pos < s.length() && " \t\n\r".indexOf(s.charAt(pos)) >= 0) pos++;
  }

  private void expect(char c) {
    if (pos >= s.length() || s.charAt(pos) != c) throw error("expected '" + c + "', found " + describe());
    pos++;
  }

  private Object value(int depth) {
    if (pos >= s.length()) throw error("expected a value, found end of text");
    char c = s.charAt(pos);
    return switch (c) {
      case '{' -> object(depth + 1);
      case '[' -> array(depth + 1);
      case '"' -> string();
      case 't' -> literal("true", Boolean.TRUE);
      case 'f' -> literal("false", Boolean.FALSE);
      case 'n' -> literal("null", null);
      default -> {
        if (c == '-' || (c >= '0' && c <= '9')) yield number();
        throw error("expected a value, found " + describe());
      }
    };
  }

  private Object literal(String word, Object v) {
    if (!s.startsWith(word, pos)) throw error("expected a value, found " + describe());
    pos += word.length();
    return v;
  }

  private LinkedHashMap<String, Object> object(int depth) {
    if (depth > MAX_DEPTH) throw error("nested deeper than " + MAX_DEPTH + " levels");
    expect('{');
    var out = new LinkedHashMap<String, Object>();
    skipSpace();
    if (pos < s.length() && s.charAt(pos) == '}') { pos++; return out; }
    while (true) {
      skipSpace();
      int at = pos;
      if (pos >= s.length() || s.charAt(pos) != '"') throw error("expected a string key, found " + describe());
      var key = string();
      if (out.containsKey(key)) { pos = at; throw error("duplicate key " + quote(key)); }
      skipSpace();
      expect(':');
      skipSpace();
      out.put(key, value(depth));
      skipSpace();
      if (pos < s.length() && s.charAt(pos) == ',') { pos++; continue; }
      expect('}');
      return out;
    }
  }

  private ArrayList<Object> array(int depth) {
    if (depth > MAX_DEPTH) throw error("nested deeper than " + MAX_DEPTH + " levels");
    expect('[');
    var out = new ArrayList<Object>();
    skipSpace();
    if (pos < s.length() && s.charAt(pos) == ']') { pos++; return out; }
    while (true) {
      skipSpace();
      out.add(value(depth));
      skipSpace();
      if (pos < s.length() && s.charAt(pos) == ',') { pos++; continue; }
      expect(']');
      return out;
    }
  }

  private String string() {
    expect('"');
    var b = new StringBuilder();
    while (true) {
      if (pos >= s.length()) throw error("unterminated string");
      char c = s.charAt(pos++);
      if (c == '"') return b.toString();
      if (c < 0x20) { pos--; throw error("control character U+" + String.format("%04X", (int) c) + " in a string"); }
      if (c != '\\') { b.append(c); continue; }
      if (pos >= s.length()) throw error("unterminated string");
      char e = s.charAt(pos++);
      switch (e) {
        case '"', '\\', '/' -> b.append(e);
        case 'b' -> b.append('\b');
        case 'f' -> b.append('\f');
        case 'n' -> b.append('\n');
        case 'r' -> b.append('\r');
        case 't' -> b.append('\t');
        case 'u' -> {
          int code = 0;
          for (int i = 0; i < 4; i++) {
            int d = pos < s.length() ? Character.digit(s.charAt(pos), 16) : -1;
            if (d < 0) throw error("bad \\u escape");
            code = code * 16 + d;
            pos++;
          }
          b.append((char) code);
        }
        default -> { pos--; throw error("bad escape '\\" + e + "'"); }
      }
    }
  }

  private Object number() {
    int start = pos;
    if (s.charAt(pos) == '-') pos++;
    if (pos < s.length() && s.charAt(pos) == '0') pos++;
    else if (digits() == 0) throw error("bad number");
    boolean integral = true;
    if (pos < s.length() && s.charAt(pos) == '.') {
      pos++;
      integral = false;
      if (digits() == 0) throw error("bad number: no digits after '.'");
    }
    if (pos < s.length() && (s.charAt(pos) == 'e' || s.charAt(pos) == 'E')) {
      pos++;
      integral = false;
      if (pos < s.length() && (s.charAt(pos) == '+' || s.charAt(pos) == '-')) pos++;
      if (digits() == 0) throw error("bad number: no digits in the exponent");
    }
    var text = s.substring(start, pos);
    if (!integral) return Double.parseDouble(text);
    // at most 100 MB of digits reach here; BigInteger of that would be slow, and no valid header needs it
    if (text.length() > 40) throw error("integer with " + text.length() + " digits");
    var big = new BigInteger(text);
    return big.bitLength() < 64 ? (Object) big.longValue() : big;
  }

  private int digits() {
    int n = 0;
    while (pos < s.length() && s.charAt(pos) >= '0' && s.charAt(pos) <= '9') { pos++; n++; }
    return n;
  }
}
