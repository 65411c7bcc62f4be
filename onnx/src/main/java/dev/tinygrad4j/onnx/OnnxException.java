package dev.tinygrad4j.onnx;

/** A model that cannot be read or run: a corrupt file, an unsupported op, a bad input. */
public class OnnxException extends RuntimeException {
  public OnnxException(String message) { super(message); }
  public OnnxException(String message, Throwable cause) { super(message, cause); }
}
