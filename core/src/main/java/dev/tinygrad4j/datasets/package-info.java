/** MNIST and Fashion-MNIST in their IDX files, as tensors. */
package dev.tinygrad4j.datasets;
