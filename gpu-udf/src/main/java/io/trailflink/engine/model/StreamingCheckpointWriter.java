package io.trailflink.engine.model;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a safetensors checkpoint of any size tensor by tensor, asking a {@link Values} source for one chunk of values
 * at a time: nothing the size of a tensor is ever held (a Llama-3-8B-shaped checkpoint is 16 GB). Tensors are cut into
 * shards of at most {@code maxShardBytes} at tensor boundaries, as Hugging Face does (one {@code model.safetensors}
 * when they fit, else {@code model-0000i-of-0000n.safetensors} and the index).
 */
public final class StreamingCheckpointWriter {
  private static final int CHUNK = 1 << 20; // values per chunk

  /** Supplies a tensor's values, {@code chunk.length} of them from {@code offset} on (row-major). */
  @FunctionalInterface
  public interface Values {
    void fill(String name, long[] shape, float[] chunk, int count, long offset);
  }

  private StreamingCheckpointWriter() {}

  /** Writes {@code shapes} (in order) as {@code dtype} (F32 or BF16) into {@code dir}; returns the bytes of data. */
  public static long write(Path dir, Map<String, long[]> shapes, DType dtype, long maxShardBytes, Values values)
      throws IOException {
    if (dtype == DType.F16) {
      throw new IllegalArgumentException("writing F16 is not supported (write BF16 or F32)");
    }
    Files.createDirectories(dir);
    List<Map<String, long[]>> shards = new ArrayList<>();
    Map<String, long[]> current = new LinkedHashMap<>();
    long currentBytes = 0;
    long total = 0;
    for (Map.Entry<String, long[]> e : shapes.entrySet()) {
      long bytes = count(e.getValue()) * dtype.bytes();
      if (!current.isEmpty() && currentBytes + bytes > maxShardBytes) {
        shards.add(current);
        current = new LinkedHashMap<>();
        currentBytes = 0;
      }
      current.put(e.getKey(), e.getValue());
      currentBytes += bytes;
      total += bytes;
    }
    shards.add(current);
    JsonObject weightMap = new JsonObject();
    for (int s = 0; s < shards.size(); s++) {
      String file = shards.size() == 1 ? SafeTensors.SINGLE_FILE
          : String.format("model-%05d-of-%05d.safetensors", s + 1, shards.size());
      writeShard(dir.resolve(file), shards.get(s), dtype, values);
      for (String name : shards.get(s).keySet()) {
        weightMap.addProperty(name, file);
      }
    }
    if (shards.size() > 1) {
      JsonObject index = new JsonObject();
      JsonObject meta = new JsonObject();
      meta.addProperty("total_size", total);
      index.add("metadata", meta);
      index.add("weight_map", weightMap);
      Files.writeString(dir.resolve(SafeTensors.INDEX_FILE), index.toString());
    }
    return total;
  }

  /** One safetensors file of {@code shapes}, data 8-byte aligned as the reference writer keeps it. */
  static void writeShard(Path file, Map<String, long[]> shapes, DType dtype, Values values) throws IOException {
    if (dtype == DType.F16) {
      throw new IllegalArgumentException("writing F16 is not supported (write BF16 or F32)");
    }
    JsonObject header = new JsonObject();
    JsonObject metadata = new JsonObject();
    metadata.addProperty("format", "pt");
    header.add("__metadata__", metadata);
    long offset = 0;
    for (Map.Entry<String, long[]> e : shapes.entrySet()) {
      JsonObject meta = new JsonObject();
      meta.addProperty("dtype", dtype.name());
      JsonArray shape = new JsonArray();
      for (long d : e.getValue()) {
        shape.add(d);
      }
      meta.add("shape", shape);
      long len = count(e.getValue()) * dtype.bytes();
      JsonArray offs = new JsonArray();
      offs.add(offset);
      offs.add(offset + len);
      meta.add("data_offsets", offs);
      header.add(e.getKey(), meta);
      offset += len;
    }
    byte[] headerBytes = header.toString().getBytes(StandardCharsets.UTF_8);
    int pad = (8 - headerBytes.length % 8) % 8;
    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 20)) {
      out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(headerBytes.length + pad).array());
      out.write(headerBytes);
      out.write(" ".repeat(pad).getBytes(StandardCharsets.US_ASCII));
      float[] chunk = new float[CHUNK];
      ByteBuffer buf = ByteBuffer.allocate(CHUNK * dtype.bytes()).order(ByteOrder.LITTLE_ENDIAN);
      for (Map.Entry<String, long[]> e : shapes.entrySet()) {
        long n = count(e.getValue());
        for (long at = 0; at < n; at += CHUNK) {
          int k = (int) Math.min(CHUNK, n - at);
          values.fill(e.getKey(), e.getValue(), chunk, k, at);
          buf.clear();
          for (int i = 0; i < k; i++) {
            if (dtype == DType.F32) {
              buf.putFloat(chunk[i]);
            } else {
              buf.putShort(DType.floatToBf16(chunk[i]));
            }
          }
          out.write(buf.array(), 0, buf.position());
        }
      }
    }
  }

  private static long count(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }
}
