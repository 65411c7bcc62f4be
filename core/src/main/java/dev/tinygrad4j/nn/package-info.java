/**
 * Layers with PyTorch's initializations, optimizers (SGD, Adam, AdamW, LAMB), learning-rate schedules, gradient
 * clipping, and model state: state dicts, safetensors, npy files.
 */
package dev.tinygrad4j.nn;
