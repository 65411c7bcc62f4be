package dev.tinygrad4j.onnx;

import dev.tinygrad4j.nn.Json;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The BERT WordPiece tokenizer of a HuggingFace tokenizer.json (as shipped with sentence-transformers
 * all-MiniLM-L6-v2), doing what the tokenizers library does: added tokens such as [SEP] are matched in the raw text,
 * the rest goes through BertNormalizer (drop control characters, whitespace to space, spaces around CJK ideographs,
 * strip accents, lowercase), BertPreTokenizer (split on whitespace and around every punctuation character) and
 * greedy longest-match-first WordPiece, and the result is framed as [CLS] ... [SEP]. Instances are immutable.
 */
public final class WordPiece {
  /** A padded batch, one row per text: token ids, 1 for real tokens and 0 for padding, and segment ids (all 0). */
  public record Batch(long[][] inputIds, long[][] attentionMask, long[][] tokenTypeIds) {}

  private final Map<String, Integer> vocab = new HashMap<>(), added = new HashMap<>();
  private final String unk, prefix, clsToken, sepToken;
  private final int maxChars, cls, sep, pad;
  private final boolean cleanText, chineseChars, stripAccents, lowercase;

  private WordPiece(Map<?, ?> root) {
    var model = map(root.get("model"), "model");
    if (!"WordPiece".equals(model.get("type")))
      throw new IllegalArgumentException("tokenizer model type is " + model.get("type") + ", not WordPiece");
    map(model.get("vocab"), "model.vocab").forEach((k, v) -> vocab.put((String) k, id(v, "model.vocab")));
    unk = text(model.get("unk_token"), "model.unk_token");
    prefix = text(model.get("continuing_subword_prefix"), "model.continuing_subword_prefix");
    maxChars = id(model.get("max_input_chars_per_word"), "model.max_input_chars_per_word");
    if (!vocab.containsKey(unk)) throw new IllegalArgumentException("unk token " + unk + " is not in the vocab");
    if (root.get("added_tokens") instanceof List<?> list) for (var t : list) {
      var content = text(map(t, "added token").get("content"), "added token content");
      if (content.isEmpty()) throw new IllegalArgumentException("tokenizer.json: empty added token");
      added.put(content, id(map(t, "added token").get("id"), "added token id"));
    }
    Map<?, ?> norm = root.get("normalizer") == null ? Map.of("type", "BertNormalizer")  // none: every option off
        : map(root.get("normalizer"), "normalizer");
    if (!"BertNormalizer".equals(norm.get("type")))
      throw new IllegalArgumentException("normalizer " + norm.get("type") + " is not supported, only BertNormalizer");
    cleanText = Boolean.TRUE.equals(norm.get("clean_text"));
    chineseChars = Boolean.TRUE.equals(norm.get("handle_chinese_chars"));
    lowercase = Boolean.TRUE.equals(norm.get("lowercase"));
    stripAccents = norm.get("strip_accents") == null ? lowercase : Boolean.TRUE.equals(norm.get("strip_accents"));
    if (!"BertPreTokenizer".equals(map(root.get("pre_tokenizer"), "pre_tokenizer").get("type")))
      throw new IllegalArgumentException("pre_tokenizer must be BertPreTokenizer");
    var post = map(root.get("post_processor"), "post_processor");
    List<?> first, last;  // [name, id] pairs
    if ("BertProcessing".equals(post.get("type"))) {
      first = (List<?>) post.get("cls");
      last = (List<?>) post.get("sep");
    } else if ("TemplateProcessing".equals(post.get("type")) && post.get("single") instanceof List<?> single
        && single.size() == 3 && map(single.get(1), "template").containsKey("Sequence")) {
      var specials = map(post.get("special_tokens"), "post_processor.special_tokens");
      first = special(specials, single.getFirst());
      last = special(specials, single.getLast());
    } else throw new IllegalArgumentException("post_processor must be BertProcessing or a [CLS] $A [SEP] template");
    clsToken = text(first.get(0), "[CLS] token");
    cls = id(first.get(1), "[CLS] id");
    sepToken = text(last.get(0), "[SEP] token");
    sep = id(last.get(1), "[SEP] id");
    // without a padding section, tokenizers' defaults: [PAD] (when the vocab has it), else id 0
    pad = id(root.get("padding") instanceof Map<?, ?> p ? p.get("pad_id") : (long) vocab.getOrDefault("[PAD]", 0),
        "padding.pad_id");
  }

  /** Reads a tokenizer.json document; IllegalArgumentException if it is not a BERT WordPiece tokenizer. */
  public static WordPiece fromJson(String json) {
    if (!(Json.parse(json) instanceof Map<?, ?> root))
      throw new IllegalArgumentException("tokenizer.json is not an object");
    try {
      return new WordPiece(root);
    } catch (ClassCastException | IndexOutOfBoundsException | NullPointerException e) {
      throw new IllegalArgumentException("malformed tokenizer.json: " + e.getMessage(), e);
    }
  }

  /** Reads a tokenizer.json file (UTF-8). */
  public static WordPiece load(Path file) throws IOException { return fromJson(Files.readString(file)); }

  /** Reads a tokenizer.json document (UTF-8) to the end of the stream, leaving it open. */
  public static WordPiece load(InputStream in) throws IOException {
    return fromJson(new String(in.readAllBytes(), StandardCharsets.UTF_8));
  }

  /** The token ids of text framed as [CLS] ... [SEP], without truncation. */
  public int[] encode(String text) {
    var tokens = tokens(text);
    int[] ids = new int[tokens.size()];
    for (int i = 1; i < ids.length - 1; i++) {
      var id = vocab.get(tokens.get(i));  // an added token also in the vocab has its vocab id, as in tokenizers
      ids[i] = id != null ? id : added.get(tokens.get(i));
    }
    ids[0] = cls;
    ids[ids.length - 1] = sep;
    return ids;
  }

  /** Encodes texts, each cut to maxLength tokens (keeping [SEP] last), padded to the longest row. */
  public Batch encode(List<String> texts, int maxLength) { return encode(texts, maxLength, false); }

  /**
   * Encodes texts, each cut to maxLength tokens (keeping [SEP] last), padded with the pad id to maxLength if
   * padToMax, else to the longest row.
   */
  public Batch encode(List<String> texts, int maxLength, boolean padToMax) {
    if (maxLength < 2) throw new IllegalArgumentException("maxLength " + maxLength + " < 2 leaves no room for [SEP]");
    var rows = new int[texts.size()][];
    int width = padToMax ? maxLength : 0;
    for (int i = 0; i < rows.length; i++) {
      rows[i] = encode(texts.get(i));
      if (rows[i].length > maxLength) {
        rows[i] = Arrays.copyOf(rows[i], maxLength);
        rows[i][maxLength - 1] = sep;
      }
      width = Math.max(width, rows[i].length);
    }
    long[][] ids = new long[rows.length][width], mask = new long[rows.length][width];
    for (int i = 0; i < rows.length; i++) {
      Arrays.fill(ids[i], pad);
      for (int j = 0; j < rows[i].length; j++) { ids[i][j] = rows[i][j]; mask[i][j] = 1; }
    }
    return new Batch(ids, mask, new long[rows.length][width]);
  }

  /** The tokens that {@link #encode(String)} gives ids for, [CLS] and [SEP] included (for debugging). */
  public List<String> tokens(String text) {
    var out = new ArrayList<String>();
    out.add(clsToken);
    int from = 0;
    for (int i = 0; i < text.length(); i++) {
      String hit = null;
      for (var t : added.keySet()) if (text.startsWith(t, i) && (hit == null || t.length() > hit.length())) hit = t;
      if (hit == null) continue;
      words(normalize(text.substring(from, i)), out);
      out.add(hit);
      from = i + hit.length();
      i = from - 1;
    }
    words(normalize(text.substring(from)), out);
    out.add(sepToken);
    return out;
  }

  /** The number of token ids: the vocab and the added tokens outside it. */
  public int vocabSize() {
    return vocab.size() + (int) added.keySet().stream().filter(t -> !vocab.containsKey(t)).count();
  }

  private String normalize(String text) {
    var b = new StringBuilder(text.length());
    for (int i = 0, c; i < text.length(); i += Character.charCount(c)) {
      c = text.codePointAt(i);
      if (cleanText && (c == 0 || c == 0xFFFD || isControl(c))) continue;
      if (cleanText && isWhitespace(c)) c = ' ';
      if (chineseChars && isChinese(c)) b.append(' ').appendCodePoint(c).append(' ');
      else b.appendCodePoint(c);
    }
    var s = b.toString();
    if (stripAccents) s = Normalizer.normalize(s, Normalizer.Form.NFD).codePoints()
        .filter(c -> Character.getType(c) != Character.NON_SPACING_MARK)
        .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
    if (!lowercase) return s;
    b.setLength(0);  // per character, as Rust's char::to_lowercase: no final sigma, İ becomes i + combining dot
    s.codePoints().forEach(c -> {
      if (c == 0x130) b.append("i\u0307");
      else b.appendCodePoint(Character.toLowerCase(c));
    });
    return b.toString();
  }

  /** BertPreTokenizer then WordPiece: words split at whitespace (dropped) and punctuation (kept alone). */
  private void words(String s, List<String> out) {
    int start = 0;
    for (int i = 0, c; i < s.length(); i += Character.charCount(c)) {
      c = s.codePointAt(i);
      if (!isWhitespace(c) && !isPunctuation(c)) continue;
      if (start < i) wordPiece(s.substring(start, i), out);
      if (isPunctuation(c)) wordPiece(Character.toString(c), out);
      start = i + Character.charCount(c);
    }
    if (start < s.length()) wordPiece(s.substring(start), out);
  }

  private void wordPiece(String word, List<String> out) {
    if (word.codePointCount(0, word.length()) > maxChars) { out.add(unk); return; }
    int size = out.size();
    for (int start = 0, end; start < word.length(); start = end) {
      for (end = word.length(); end > start; end = word.offsetByCodePoints(end, -1))
        if (vocab.containsKey((start > 0 ? prefix : "") + word.substring(start, end))) break;
      if (end == start) { out.subList(size, out.size()).clear(); out.add(unk); return; }
      out.add((start > 0 ? prefix : "") + word.substring(start, end));
    }
  }

  // Rust's char::is_whitespace (Unicode White_Space); tab, newline, return are whitespace rather than control
  private static boolean isWhitespace(int c) { return Character.isSpaceChar(c) || (c >= 9 && c <= 13) || c == 0x85; }

  private static boolean isControl(int c) {
    if (c == '\t' || c == '\n' || c == '\r') return false;
    return switch (Character.getType(c)) {
      case Character.CONTROL, Character.FORMAT, Character.UNASSIGNED, Character.PRIVATE_USE, Character.SURROGATE ->
          true;
      default -> false;
    };
  }

  private static boolean isPunctuation(int c) {
    if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) return true;
    return switch (Character.getType(c)) {
      case Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.START_PUNCTUATION,
           Character.END_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION, Character.FINAL_QUOTE_PUNCTUATION,
           Character.OTHER_PUNCTUATION -> true;
      default -> false;
    };
  }

  private static boolean isChinese(int c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF)
        || (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF)
        || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
  }

  private static List<?> special(Map<?, ?> specials, Object piece) {
    var name = map(map(piece, "template piece").get("SpecialToken"), "template SpecialToken").get("id");
    var token = map(specials.get(name), "special token " + name);
    return List.of(((List<?>) token.get("tokens")).getFirst(), ((List<?>) token.get("ids")).getFirst());
  }

  private static Map<?, ?> map(Object o, String what) {
    if (o instanceof Map<?, ?> m) return m;
    throw new IllegalArgumentException("tokenizer.json: " + what + " is missing or not an object");
  }

  private static String text(Object o, String what) {
    if (o instanceof String s) return s;
    throw new IllegalArgumentException("tokenizer.json: " + what + " is missing or not a string");
  }

  private static int id(Object o, String what) {
    if (o instanceof Long n && n >= 0 && n <= Integer.MAX_VALUE) return n.intValue();
    throw new IllegalArgumentException("tokenizer.json: " + what + " is missing or not a non-negative integer");
  }
}
