package dev.tinygrad4j.ops;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reader for src/test/resources/reference/ops.txt, written by scripts/gen_reference.py.
 *
 * <pre>
 * case NAME
 * in NAME DTYPE grad|nograd SHAPE v0 v1 ...
 * out DTYPE SHAPE v0 v1 ...
 * upstream SHAPE u0 u1 ...
 * grad INPUTNAME SHAPE g0 g1 ...
 * end
 * </pre>
 * SHAPE is "d0,d1,..." or "_" for a 0-d scalar. Lines starting with '#' are comments.
 */
final class ReferenceData {
    static final String RESOURCE = "/reference/ops.txt";

    /** A flat row-major array with its shape and dtype name ("float32", "int32", "bool", "float64", ...). */
    record Arr(String dtype, int[] shape, double[] values) {
        int numel() {
            int n = 1;
            for (int d : shape) n *= d;
            return n;
        }

        float[] floats() {
            float[] f = new float[values.length];
            for (int i = 0; i < f.length; i++) f[i] = (float) values[i];
            return f;
        }

        int[] ints() {
            int[] r = new int[values.length];
            for (int i = 0; i < r.length; i++) r[i] = (int) values[i];
            return r;
        }
    }

    record Input(String name, boolean grad, Arr data) {}

    record Case(String name, List<Input> inputs, Arr out, Arr upstream, Map<String, Arr> grads, int line) {
        boolean hasGrads() {
            return upstream != null && !grads.isEmpty();
        }
    }

    private ReferenceData() {}

    private static List<Case> cached;

    static synchronized List<Case> load() {
        if (cached == null) {
            try (InputStream in = ReferenceData.class.getResourceAsStream(RESOURCE)) {
                if (in == null) throw new IllegalStateException("missing test resource " + RESOURCE
                        + " (regenerate with scripts/gen_reference.py)");
                cached = List.copyOf(parse(new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return cached;
    }

    static List<Case> parse(BufferedReader reader) throws IOException {
        List<Case> cases = new ArrayList<>();
        String name = null;
        int start = 0;
        List<Input> inputs = null;
        Arr out = null, upstream = null;
        Map<String, Arr> grads = null;
        String line;
        int lineNo = 0;
        while ((line = reader.readLine()) != null) {
            lineNo++;
            line = line.strip();
            if (line.isEmpty() || line.startsWith("#")) continue;
            String[] tok = line.split("\\s+");
            try {
                switch (tok[0]) {
                    case "case" -> {
                        if (name != null) throw new IllegalStateException("nested case");
                        name = tok[1];
                        start = lineNo;
                        inputs = new ArrayList<>();
                        out = null;
                        upstream = null;
                        grads = new LinkedHashMap<>();
                    }
                    case "in" -> inputs.add(new Input(tok[1], tok[3].equals("grad"), arr(tok[2], tok, 4)));
                    case "out" -> out = arr(tok[1], tok, 2);
                    case "upstream" -> upstream = arr("float32", tok, 1);
                    case "grad" -> grads.put(tok[1], arr("float32", tok, 2));
                    case "end" -> {
                        if (name == null || out == null) throw new IllegalStateException("incomplete case");
                        cases.add(new Case(name, List.copyOf(inputs), out, upstream, grads, start));
                        name = null;
                    }
                    default -> throw new IllegalStateException("unknown record '" + tok[0] + "'");
                }
            } catch (RuntimeException e) {
                throw new IllegalStateException(RESOURCE + ":" + lineNo + ": " + e.getMessage(), e);
            }
        }
        if (name != null) throw new IllegalStateException(RESOURCE + ": unterminated case " + name);
        return cases;
    }

    /** tok[at] is the shape, tok[at+1..] the values. */
    private static Arr arr(String dtype, String[] tok, int at) {
        int[] shape;
        if (tok[at].equals("_")) {
            shape = new int[0];
        } else {
            String[] dims = tok[at].split(",");
            shape = new int[dims.length];
            for (int i = 0; i < dims.length; i++) shape[i] = Integer.parseInt(dims[i]);
        }
        double[] v = new double[tok.length - at - 1];
        for (int i = 0; i < v.length; i++) v[i] = switch (tok[at + 1 + i]) { // Python spells the non-finite values its own way
            case "nan" -> Double.NaN;
            case "inf" -> Double.POSITIVE_INFINITY;
            case "-inf" -> Double.NEGATIVE_INFINITY;
            default -> Double.parseDouble(tok[at + 1 + i]);
        };
        Arr a = new Arr(dtype, shape, v);
        if (a.numel() != v.length)
            throw new IllegalStateException("shape " + tok[at] + " but " + v.length + " values");
        return a;
    }
}
