/**
 * ONNX models run with the Tensor API: a protobuf reader of untrusted files, the op set ({@code OnnxOps}), the
 * runner, and sentence embeddings (all-MiniLM-L6-v2 with its WordPiece tokenizer) under a JIT.
 */
package dev.tinygrad4j.onnx;
