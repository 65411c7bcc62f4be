package dev.tinygrad4j.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The all-MiniLM-L6-v2 tokenizer.json from the langchain4j jar. Expected ids come from its model.vocab by hand
 * (greedy longest match: "unaffable" is una ##ffa ##ble, not un ##aff ##able), and, where the Python tokenizers
 * library is installed, from that library itself.
 */
class WordPieceTest {
  static final String RESOURCE = "/all-minilm-l6-v2-tokenizer.json";
  static String json;
  static WordPiece tok;

  @BeforeAll
  static void load() throws IOException {
    try (var in = WordPieceTest.class.getResourceAsStream(RESOURCE)) {
      json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    tok = WordPiece.fromJson(json);
  }

  static int[] ids(int... inner) {
    var out = new int[inner.length + 2];
    out[0] = 101;
    System.arraycopy(inner, 0, out, 1, inner.length);
    out[out.length - 1] = 102;
    return out;
  }

  @Test
  void reference() throws IOException {
    assertArrayEquals(new int[] {101, 7592, 2088, 102}, tok.encode("hello world"));
    assertEquals(List.of("[CLS]", "hello", "world", "[SEP]"), tok.tokens("hello world"));
    assertArrayEquals(ids(), tok.encode(""));
    assertArrayEquals(ids(), tok.encode(" \t\n "));
    assertEquals(30522, tok.vocabSize());
    try (var in = WordPieceTest.class.getResourceAsStream(RESOURCE)) {
      assertArrayEquals(ids(7592, 2088), WordPiece.load(in).encode("Hello World"));
    }
  }

  @Test
  void punctuation() {
    assertArrayEquals(ids(7592, 1010, 2088, 999), tok.encode("Hello, world!"));
    assertArrayEquals(ids(2123, 1005, 1056), tok.encode("don't"));
    // ASCII symbols that Unicode calls Sc/Sm/Sk are punctuation too; a non-ASCII symbol (€, Sc) is not
    assertArrayEquals(ids(1002, 1019, 1009, 1060, 1064, 1034, 1066, 1036), tok.encode("$5+x|^~`"));
    assertArrayEquals(ids(1019, 30102), tok.encode("5€"));
    assertArrayEquals(ids(7592, 1517, 2088, 1077, 7632, 1090), tok.encode("hello—world«hi»"));
  }

  @Test
  void accentsAndCase() {
    assertArrayEquals(ids(7668), tok.encode("cafe"));
    assertArrayEquals(ids(7668), tok.encode("café"));
    assertArrayEquals(ids(7668), tok.encode("CAFE\u0301"));
    assertArrayEquals(ids(15743), tok.encode("naïve"));
    assertArrayEquals(ids(9960), tok.encode("İstanbul"));  // NFD I + U+0307, the mark stripped
    assertArrayEquals(ids(2358, 27807), tok.encode("Straße"));  // ß has no decomposition and stays
    // lowercase per character as Rust does: a final Σ becomes σ, not ς
    assertArrayEquals(ids(1173, 29730, 29736, 27432, 29733), tok.encode("ΣΟΦΊΑΣ"));
  }

  @Test
  void subwords() {
    assertEquals(List.of("[CLS]", "token", "##ization", "[SEP]"), tok.tokens("tokenization"));
    assertArrayEquals(ids(19204, 3989, 19204, 17629), tok.encode("Tokenization tokenizer"));
    assertArrayEquals(ids(14477, 20961, 3468), tok.encode("unaffable"));
    assertArrayEquals(ids(7861, 8270, 4667, 2015), tok.encode("embeddings"));
    assertArrayEquals(ids(7592, 11108), tok.encode("helloworld"));
    // 100 characters is the limit: aaa ##aa×48 ##a; one more and the whole word is [UNK]
    var hundred = tok.encode("a".repeat(100));
    assertEquals(52, hundred.length);
    assertEquals(List.of(13360, 11057, 2050), List.of(hundred[1], hundred[2], hundred[50]));
    assertArrayEquals(ids(7592, 100, 2088), tok.encode("hello " + "a".repeat(101) + " world"));
  }

  @Test
  void cjkAndOtherScripts() {
    assertArrayEquals(ids(1746, 1799, 1756), tok.encode("中国人"));
    assertArrayEquals(ids(7592, 1864, 1876, 1950, 2088), tok.encode("hello日本語world"));
    assertArrayEquals(ids(100, 100), tok.encode("汉语"));  // each ideograph is its own word, both unknown
    // NFD splits Hangul syllables into jamo, which the vocab has as pieces
    assertArrayEquals(ids(1463, 30006, 30021, 29992, 30010, 30025, 30005, 30006, 29997, 30009, 29999, 30013),
        tok.encode("안녕하세요"));
  }

  @Test
  void unknownAndControl() {
    assertArrayEquals(ids(7592, 100, 2088), tok.encode("hello 😀 world"));
    assertArrayEquals(ids(100), tok.encode("x😀"));  // one unmatched piece makes the whole word [UNK]
    assertArrayEquals(ids(7592), tok.encode("hel\u0000lo\uFFFD\u0007"));
    assertArrayEquals(ids(7592, 11108), tok.encode("hello\u200Bworld"));  // zero-width space is Cf: dropped
    assertArrayEquals(ids(7592, 2088), tok.encode("\thello\u00A0\u3000world\r\n"));
  }

  @Test
  void addedTokens() {
    assertArrayEquals(ids(7592, 103, 2088), tok.encode("hello [MASK] world"));
    assertArrayEquals(ids(7592, 102, 2088), tok.encode("hello[SEP]world"));
    assertArrayEquals(ids(1031, 7308, 1033), tok.encode("[mask]"));  // matched before normalizing, so case counts
    assertEquals(List.of("[CLS]", "[UNK]", "cl", "##s", "[SEP]"), tok.tokens("[UNK]cls"));
  }

  @Test
  void batch() {
    var b = tok.encode(List.of("hello world", "Hello, world!", ""), 16);
    assertArrayEquals(new long[][] {{101, 7592, 2088, 102, 0, 0}, {101, 7592, 1010, 2088, 999, 102}, {101, 102, 0, 0,
        0, 0}}, b.inputIds());
    assertArrayEquals(new long[][] {{1, 1, 1, 1, 0, 0}, {1, 1, 1, 1, 1, 1}, {1, 1, 0, 0, 0, 0}}, b.attentionMask());
    assertArrayEquals(new long[3][6], b.tokenTypeIds());

    var cut = tok.encode(List.of("Hello, world!", "hi"), 4);
    assertArrayEquals(new long[][] {{101, 7592, 1010, 102}, {101, 7632, 102, 0}}, cut.inputIds());
    assertArrayEquals(new long[][] {{1, 1, 1, 1}, {1, 1, 1, 0}}, cut.attentionMask());
    assertArrayEquals(new long[][] {{101, 102}}, tok.encode(List.of("hello world"), 2).inputIds());

    var fixed = tok.encode(List.of("hello world"), 128, true);
    assertEquals(128, fixed.inputIds()[0].length);
    assertEquals(4, Arrays.stream(fixed.attentionMask()[0]).sum());
    assertEquals(0, fixed.inputIds()[0][127]);
    assertEquals(0, tok.encode(List.of(), 8).inputIds().length);
    assertThrows(IllegalArgumentException.class, () -> tok.encode(List.of("x"), 1));
  }

  static String mini(String model, String normalizer, String post) {
    return """
        {"normalizer": %s, "pre_tokenizer": {"type": "BertPreTokenizer"}, "post_processor": %s,
         "model": %s}""".formatted(normalizer, post, model);
  }

  static final String MODEL = """
      {"type": "WordPiece", "unk_token": "<unk>", "continuing_subword_prefix": "@@", "max_input_chars_per_word": 5,
       "vocab": {"<unk>": 0, "<s>": 1, "</s>": 2, "Caf": 3, "@@é": 4, "café": 5, "cafe": 6, "@@e": 7, "<pad>": 8,
       "i": 9, "@@\\u0307": 10}}""";
  static final String BERT_POST = """
      {"type": "BertProcessing", "sep": ["</s>", 2], "cls": ["<s>", 1]}""";

  @Test
  void otherOptions() {
    var keepCase = WordPiece.fromJson(mini(MODEL, """
        {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": false,
         "lowercase": false}""", BERT_POST));
    assertEquals(List.of("<s>", "Caf", "@@é", "café", "café", "@@e", "Caf", "@@e", "<unk>", "<unk>", "</s>"),
        keepCase.tokens("Café café cafée Cafe cafées Cafx"));  // over 5 characters, no @@x
    assertArrayEquals(new int[] {1, 3, 4, 5, 5, 7, 3, 7, 0, 0, 2}, keepCase.encode("Café café cafée Cafe cafées Cafx"));
    assertEquals(11, keepCase.vocabSize());
    var strip = WordPiece.fromJson(mini(MODEL, """
        {"type": "BertNormalizer", "clean_text": false, "handle_chinese_chars": false, "strip_accents": true,
         "lowercase": false}""", BERT_POST));
    assertEquals(List.of("<s>", "cafe", "cafe", "@@e", "<unk>", "</s>"), strip.tokens("café cafée ca\u0000fe"));
    var lower = WordPiece.fromJson(mini(MODEL, """
        {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": false,
         "lowercase": true}""", BERT_POST));
    assertEquals(List.of("<s>", "café", "i", "@@\u0307", "</s>"), lower.tokens("CAFÉ İ"));  // İ lowercases to i + U+0307
    var none = WordPiece.fromJson(mini(MODEL, "null", BERT_POST));
    assertEquals(List.of("<s>", "cafe", "<unk>", "</s>"), none.tokens("cafe CAFE"));
    // no padding section: pad with [PAD] if the vocab has it, else 0
    assertArrayEquals(new long[][] {{1, 6, 2}, {1, 2, 0}}, none.encode(List.of("cafe", ""), 8).inputIds());
  }

  @Test
  void rejectsOddFiles() {
    var bad = List.of(
        json.replace("\"type\": \"WordPiece\"", "\"type\": \"BPE\""),
        json.replaceFirst("\"vocab\":", "\"vocab_gone\":"),
        json.replace("\"unk_token\": \"[UNK]\"", "\"unk_token\": \"<missing>\""),
        json.replace("\"BertPreTokenizer\"", "\"Whitespace\""),
        json.replace("\"BertNormalizer\"", "\"NFC\""),
        mini(MODEL, "null", "null"),
        mini(MODEL, "null", "{\"type\": \"BertProcessing\", \"sep\": [\"</s>\"], \"cls\": [\"<s>\", 1]}"),
        mini(MODEL.replace("\"@@e\": 7", "\"@@e\": -7"), "null", BERT_POST),
        mini(MODEL.replace("\"@@e\": 7", "\"@@e\": 7.5"), "null", BERT_POST),
        "[]", "{\"model\": 3}", "{", "");
    for (var text : bad) assertThrows(IllegalArgumentException.class, () -> WordPiece.fromJson(text), text);
    var e = assertThrows(IllegalArgumentException.class, () -> WordPiece.fromJson(bad.getFirst()));
    assertTrue(e.getMessage().contains("BPE") && e.getMessage().contains("WordPiece"), e.getMessage());
  }

  static final List<String> SENTENCES = List.of("hello world", "Hello, world!",
      "The quick brown fox jumps over the lazy dog.", "café naïve résumé", "İstanbul ΣΟΦΊΑΣ Straße",
      "tokenization unaffable embeddings", "中国人 hello日本語world 汉语", "안녕하세요", "hello 😀 world x😀",
      "hel\u0000lo\uFFFD\u0007 hello\u200Bworld", "\thello\u00A0\u3000world\r\n", "hello [MASK] world [mask] [SEP]",
      "$5+x|^~` 5€ hello—world«hi»", "don't stop", "a".repeat(101) + " " + "a".repeat(100), "", "   ",
      "Numbers 3.14159 and 1,000,000", "e-mail: someone@example.com", "ÀÉÎÕÜ ñ ç ø å æ œ");

  /**
   * Compares with the tokenizers library when /usr/bin/python3 (or -Dtinygrad4j.python) has it; it is not a build
   * requirement.
   */
  @Test
  void matchesHuggingFaceTokenizers(@TempDir Path dir) throws Exception {
    var python = Path.of(System.getProperty("tinygrad4j.python", "/usr/bin/python3"));
    assumeTrue(Files.isExecutable(python), "no " + python + ": comparison with HuggingFace tokenizers skipped");
    assumeTrue(new ProcessBuilder(python.toString(), "-c", "import tokenizers").start().waitFor() == 0,
        python + " has no tokenizers module (pip install tokenizers): comparison with HuggingFace skipped");
    Files.writeString(dir.resolve("tokenizer.json"), json);
    Files.write(dir.resolve("sentences.txt"), SENTENCES.stream().map(s -> s.replace("\n", "\\n").replace("\r", "\\r"))
        .toList());
    var script = """
        import sys, tokenizers
        t = tokenizers.Tokenizer.from_file(sys.argv[1]); t.no_truncation(); t.no_padding()
        for line in open(sys.argv[2], encoding="utf-8", newline="\\n").read().split("\\n")[:-1]:
            print(" ".join(map(str, t.encode(line.replace("\\\\n", "\\n").replace("\\\\r", "\\r")).ids)))
        """;
    var p = new ProcessBuilder(python.toString(), "-c", script, dir.resolve("tokenizer.json").toString(),
        dir.resolve("sentences.txt").toString()).redirectErrorStream(true).start();
    var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).split("\n");
    assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, String.join("\n", out));
    var mismatches = new ArrayList<String>();
    for (int i = 0; i < SENTENCES.size(); i++) {
      var ours = Arrays.stream(tok.encode(SENTENCES.get(i))).mapToObj(String::valueOf).toList();
      if (!String.join(" ", ours).equals(out[i])) mismatches.add(SENTENCES.get(i) + ": ours " + ours + ", HF " + out[i]);
    }
    assertEquals(List.of(), mismatches);
  }
}
