package io.trailflink.engine.model;

import java.util.Arrays;

/**
 * A named float32 tensor in row-major order, as loaded from (or saved to) a checkpoint.
 *
 * @param data values, row-major
 * @param shape dimensions, outermost first
 */
public record Tensor(float[] data, long[] shape) {

  public Tensor {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    if (n != data.length) {
      throw new IllegalArgumentException(
          "tensor of shape " + Arrays.toString(shape) + " needs " + n + " values, got " + data.length);
    }
  }

  public int rows() {
    return (int) shape[0];
  }

  public int cols() {
    return shape.length < 2 ? 1 : (int) shape[1];
  }

  public String shapeString() {
    return Arrays.toString(shape);
  }
}
