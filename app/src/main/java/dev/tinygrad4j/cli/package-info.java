/** The command line: the MNIST main job, the ONNX runner, the benchmarks. */
package dev.tinygrad4j.cli;
