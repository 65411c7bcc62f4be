package dev.tinygrad4j.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.LongBuffer;
import java.util.HashMap;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * sentence-transformers all-MiniLM-L6-v2 (BERT, 22.6M parameters, from the langchain4j model jar) run by
 * tinygrad4j against ONNX Runtime 1.22 in the same process: last_hidden_state for several sentences, one by one and
 * as a padded batch, within 1e-4 everywhere; and the embedding's properties.
 */
class MiniLmTest {
  static SentenceEmbedder ours;
  static OrtEnvironment env;
  static OrtSession ort;

  @BeforeAll static void load() throws Exception {
    ours = SentenceEmbedder.allMiniLmL6V2();
    env = OrtEnvironment.getEnvironment();
    var opts = new OrtSession.SessionOptions();
    opts.setIntraOpNumThreads(2);
    ort = env.createSession(SentenceEmbedder.resource(SentenceEmbedder.MINILM_MODEL), opts);
  }

  @AfterAll static void close() throws Exception { ort.close(); }

  /** ONNX Runtime's last_hidden_state for a batch. */
  static float[][][] reference(WordPiece.Batch b) throws Exception {
    int n = b.inputIds().length, t = b.inputIds()[0].length;
    var inputs = new HashMap<String, OnnxTensor>();
    String[] names = {"input_ids", "attention_mask", "token_type_ids"};
    long[][][] values = {b.inputIds(), b.attentionMask(), b.tokenTypeIds()};
    for (int k = 0; k < 3; k++) {
      var flat = new long[n * t];
      for (int i = 0; i < n; i++) System.arraycopy(values[k][i], 0, flat, i * t, t);
      inputs.put(names[k], OnnxTensor.createTensor(env, LongBuffer.wrap(flat), new long[]{n, t}));
    }
    try (var res = ort.run(inputs)) {
      return (float[][][]) res.get(0).getValue();
    } finally {
      for (var v : inputs.values()) v.close();
    }
  }

  /** The largest difference from ONNX Runtime over the tokens (mask 1) and, second, over the padding (mask 0). */
  private static double[] maxError(WordPiece.Batch b) throws Exception {
    var want = reference(b);
    var got = ours.hidden(b);
    int n = want.length, t = want[0].length, h = want[0][0].length;
    assertArrayEquals(new int[]{n, t, h}, got.shape());
    var g = got.toFloatArray();
    double[] worst = new double[2];
    for (int i = 0; i < n; i++) for (int j = 0; j < t; j++) for (int k = 0; k < h; k++) {
      int pad = b.attentionMask()[i][j] == 0 ? 1 : 0;
      worst[pad] = Math.max(worst[pad], Math.abs(want[i][j][k] - g[(i * t + j) * h + k]));
    }
    return worst;
  }

  static final List<String> SENTENCES = List.of(
      "hello world",
      "The quick brown fox jumps over the lazy dog.",
      "tinygrad4j compiles a graph of primitive ops into fused kernels, then runs them on the CPU, the JVM or a GPU.",
      "Café au lait, s'il vous plaît!",
      "A rather longer sentence: sentence embeddings map text to vectors whose cosine similarity tracks meaning, "
          + "so that retrieval, clustering and deduplication can work on numbers instead of strings; this one is long "
          + "enough to need well over sixty tokens once it is split into word pieces by the tokenizer.");

  @Test void lastHiddenStateMatchesOnnxRuntime() throws Exception {
    for (var s : SENTENCES) {
      double err = maxError(ours.tokenizer().encode(List.of(s), 256))[0];
      System.out.printf("MiniLM vs ONNX Runtime: max abs error %.2e (%d tokens)%n", err, ours.tokenizer().encode(s).length);
      assertTrue(err <= 1e-4, "max abs error " + err + " for: " + s);
    }
    // padded to the longest: the tokens must match as closely; the padding's states (which the mask keeps out of
    // every use, values up to ~5) differ by float32 rounding only
    var batch = maxError(ours.tokenizer().encode(SENTENCES, 256));
    System.out.printf("MiniLM vs ONNX Runtime: max abs error %.2e on tokens, %.2e on padding (padded batch of %d)%n", batch[0], batch[1], SENTENCES.size());
    assertTrue(batch[0] <= 1e-4, "max abs error " + batch[0] + " for the padded batch's tokens");
    assertTrue(batch[1] <= 1e-3, "max abs error " + batch[1] + " for the padded batch's padding");
  }

  @Test void matchesTheIssueReferenceValues() {
    var b = new WordPiece.Batch(new long[][]{{101, 7592, 2088, 102, 0, 0, 0, 0}}, new long[][]{{1, 1, 1, 1, 0, 0, 0, 0}}, new long[1][8]);
    var h = ours.hidden(b);
    assertArrayEquals(new int[]{1, 8, 384}, h.shape());
    var v = h.toFloatArray();
    assertEquals(0.176444, v[0], 1e-5);
    assertEquals(0.039366, v[1], 1e-5);
    assertEquals(0.077902, v[2], 1e-5);
  }

  @Test void embeddingsAreUnitVectorsThatTrackMeaning() {
    var e = ours.embed(List.of("A man is eating food.", "A man is eating a piece of bread.", "The stock market fell sharply today.")).toFloatArray();
    assertEquals(3 * 384, e.length);
    double[] norm = new double[3], dot = new double[3];
    for (int k = 0; k < 384; k++) {
      for (int i = 0; i < 3; i++) norm[i] += e[i * 384 + k] * e[i * 384 + k];
      dot[0] += e[k] * e[384 + k];
      dot[1] += e[k] * e[768 + k];
    }
    for (double n : norm) assertEquals(1.0, n, 1e-5);
    assertTrue(dot[0] > 0.6 && dot[1] < 0.2 && dot[0] > dot[1] + 0.4, "similar sentences closer: " + dot[0] + " vs " + dot[1]);
  }

  @Test void embeddingsUnderTheJitEqualThoseOfTheUnpaddedModel() {
    var sentences = List.of("Replays give what the first call gave.", "Padding to a bucket is masked out.");
    var b = ours.tokenizer().encode(sentences, 256);
    var h = ours.hidden(b);
    var mask = dev.tinygrad4j.Tensor.fromBytes(java.lang.foreign.MemorySegment.ofArray(java.util.Arrays.stream(b.attentionMask()).flatMapToLong(java.util.Arrays::stream).toArray()),
        dev.tinygrad4j.DType.INT64, b.attentionMask().length, b.attentionMask()[0].length).cast(dev.tinygrad4j.DType.FLOAT32).unsqueeze(-1);
    var mean = h.mul(mask).sum(1).div(mask.sum(1));
    var want = mean.div(mean.square().sum(-1, true).sqrt()).toFloatArray();
    assertTrue(b.inputIds()[0].length % SentenceEmbedder.BUCKET != 0, "the test needs a batch that gets padded");
    for (int call = 0; call < 4; call++) // run, capture, replay, replay
      assertArrayEquals(want, ours.embed(sentences).toFloatArray(), 1e-6f, "call " + call);
  }

  @Test void aNewSentenceLengthCompilesNoKernel() {
    // the token axis is bound to a Variable: kernels compiled for one padded length serve every other (32, the
    // model's head size, is a length whose kernels differ: there the head dims are symbolic too)
    var words = "the quick brown fox jumps over the lazy dog while a small bird sings in the old oak tree near the quiet river".split(" ");
    java.util.function.IntFunction<String> sentence = n -> java.util.stream.IntStream.range(0, n).mapToObj(i -> words[i % words.length])
        .collect(java.util.stream.Collectors.joining(" "));
    ours.embed(List.of(sentence.apply(5))).toFloatArray();
    for (int n : new int[]{40, 55, 70}) {
      var b = ours.tokenizer().encode(List.of(sentence.apply(n)), 256);
      int bucket = (b.inputIds()[0].length + SentenceEmbedder.BUCKET - 1) / SentenceEmbedder.BUCKET * SentenceEmbedder.BUCKET;
      assertTrue(bucket > 32, "the test needs lengths past 32, got " + bucket);
      long before = dev.tinygrad4j.engine.Runner.kernelsCompiled();
      var got = ours.embed(List.of(sentence.apply(n))).toFloatArray();
      assertEquals(0, dev.tinygrad4j.engine.Runner.kernelsCompiled() - before, "kernels compiled for " + bucket + " tokens");
      var h = ours.hidden(b); // unpadded, under a JIT of its own: the mean of its rows, normalized, is the embedding
      var mean = h.mean(1);
      assertArrayEquals(mean.div(mean.square().sum(-1, true).sqrt()).toFloatArray(), got, 1e-5f, bucket + " tokens");
    }
  }
}
