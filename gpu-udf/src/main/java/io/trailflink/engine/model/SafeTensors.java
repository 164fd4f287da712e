package io.trailflink.engine.model;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads and writes the safetensors format: an 8-byte little-endian header length, a JSON header mapping each
 * tensor name to {@code {dtype, shape, data_offsets}}, then the raw little-endian data.
 *
 * <p>A checkpoint is either one {@code model.safetensors} or shards listed by {@code model.safetensors.index.json}
 * ({@code weight_map}: tensor name → shard file). {@link #indexCheckpoint} reads only the headers: each tensor is a
 * {@link TensorSlice} of its file, mapped when the engine uploads it; {@link #loadCheckpoint} and
 * {@link #readFile} widen every value to float32 on the heap (training, the predictor, tests).
 */
public final class SafeTensors {
  public static final String SINGLE_FILE = "model.safetensors";
  public static final String INDEX_FILE = "model.safetensors.index.json";
  private static final long MAX_HEADER_BYTES = 100L << 20;

  private SafeTensors() {}

  /** Loads every tensor of the checkpoint in {@code dir}, single-file or sharded, as float32 on the heap. */
  public static Map<String, Tensor> loadCheckpoint(Path dir) {
    return toTensors(indexCheckpoint(dir));
  }

  /** Where every tensor of the checkpoint in {@code dir} lies (headers only; no values are read). */
  public static Map<String, TensorSlice> indexCheckpoint(Path dir) {
    Path index = dir.resolve(INDEX_FILE);
    Path single = dir.resolve(SINGLE_FILE);
    if (Files.isRegularFile(index)) {
      return indexSharded(dir, index);
    }
    if (Files.isRegularFile(single)) {
      return indexFile(single);
    }
    throw new CheckpointException(
        dir + ": no weights (expected " + SINGLE_FILE + " or " + INDEX_FILE + " with its shards)");
  }

  private static Map<String, Tensor> toTensors(Map<String, TensorSlice> slices) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    slices.forEach((name, slice) -> out.put(name, slice.toTensor()));
    return out;
  }

  private static Map<String, TensorSlice> indexSharded(Path dir, Path index) {
    JsonObject weightMap;
    try {
      weightMap = JsonParser.parseString(Files.readString(index)).getAsJsonObject().getAsJsonObject("weight_map");
    } catch (IOException | RuntimeException e) {
      throw new CheckpointException(index + ": unreadable index (" + e.getMessage() + ")", e);
    }
    if (weightMap == null) {
      throw new CheckpointException(index + ": missing 'weight_map'");
    }
    Map<String, TensorSlice> all = new LinkedHashMap<>();
    Map<String, Boolean> shards = new TreeMap<>();
    for (Map.Entry<String, JsonElement> e : weightMap.entrySet()) {
      shards.put(e.getValue().getAsString(), true);
    }
    for (String shard : shards.keySet()) {
      Path file = dir.resolve(shard);
      if (!Files.isRegularFile(file)) {
        throw new CheckpointException(file + ": shard listed in " + INDEX_FILE + " is missing");
      }
      all.putAll(indexFile(file));
    }
    for (String name : weightMap.keySet()) {
      if (!all.containsKey(name)) {
        throw new CheckpointException(
            dir.resolve(weightMap.get(name).getAsString()) + ": does not contain tensor '" + name + "'");
      }
    }
    return all;
  }

  /** Reads one safetensors file, every value widened to float32 on the heap. */
  public static Map<String, Tensor> readFile(Path file) {
    return toTensors(indexFile(file));
  }

  /** Where every tensor of one safetensors file lies (its header only). */
  public static Map<String, TensorSlice> indexFile(Path file) {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size < 8) {
        throw new CheckpointException(file + ": truncated (" + size + " bytes, no header)");
      }
      ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, lenBuf, 0);
      long headerLen = lenBuf.flip().getLong();
      if (headerLen <= 0 || headerLen > MAX_HEADER_BYTES || 8 + headerLen > size) {
        throw new CheckpointException(file + ": corrupt header length " + headerLen);
      }
      ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLen);
      readFully(ch, headerBuf, 8);
      JsonObject header;
      try {
        header = JsonParser.parseString(new String(headerBuf.array(), StandardCharsets.UTF_8)).getAsJsonObject();
      } catch (RuntimeException e) {
        throw new CheckpointException(file + ": corrupt JSON header (" + e.getMessage() + ")", e);
      }
      long dataStart = 8 + headerLen;
      Map<String, TensorSlice> out = new LinkedHashMap<>();
      for (Map.Entry<String, JsonElement> e : header.entrySet()) {
        if (e.getKey().equals("__metadata__")) {
          continue;
        }
        out.put(e.getKey(), slice(file, e.getKey(), e.getValue().getAsJsonObject(), dataStart, size));
      }
      return out;
    } catch (IOException e) {
      throw new CheckpointException(file + ": cannot read (" + e.getMessage() + ")", e);
    }
  }

  private static TensorSlice slice(Path file, String name, JsonObject meta, long dataStart, long fileSize) {
    String dtypeName = meta.get("dtype").getAsString();
    DType dtype;
    try {
      dtype = DType.valueOf(dtypeName);
    } catch (IllegalArgumentException e) {
      throw new CheckpointException(
          file + ": tensor '" + name + "' has dtype " + dtypeName + " (supported: F32, BF16, F16)");
    }
    JsonArray shapeJson = meta.getAsJsonArray("shape");
    long[] shape = new long[shapeJson.size()];
    long count = 1;
    for (int i = 0; i < shape.length; i++) {
      shape[i] = shapeJson.get(i).getAsLong();
      count *= shape[i];
    }
    JsonArray offsets = meta.getAsJsonArray("data_offsets");
    long begin = offsets.get(0).getAsLong();
    long end = offsets.get(1).getAsLong();
    if (begin < 0 || end - begin != count * dtype.bytes() || dataStart + end > fileSize) {
      throw new CheckpointException(file + ": tensor '" + name + "' has inconsistent data_offsets or is truncated");
    }
    if (end - begin > Integer.MAX_VALUE) {
      throw new CheckpointException(file + ": tensor '" + name + "' has " + (end - begin) + " bytes; tensors over "
          + "2 GiB are not supported");
    }
    return new TensorSlice(file, name, dtype, shape, dataStart + begin);
  }

  private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
    long pos = position;
    while (buf.hasRemaining()) {
      int n = ch.read(buf, pos);
      if (n < 0) {
        throw new IOException("unexpected end of file at byte " + pos);
      }
      pos += n;
    }
  }

  /** Writes tensors to one file in the given dtype (F32 or BF16). */
  public static void writeFile(Path file, Map<String, Tensor> tensors, DType dtype) throws IOException {
    Map<String, long[]> shapes = new LinkedHashMap<>();
    tensors.forEach((name, t) -> shapes.put(name, t.shape()));
    StreamingCheckpointWriter.writeShard(file, shapes, dtype,
        (name, shape, chunk, count, offset) -> System.arraycopy(tensors.get(name).data(), (int) offset, chunk, 0, count));
  }

  /**
   * Writes a checkpoint's tensors into {@code dir}: one {@code model.safetensors} when {@code shards == 1},
   * otherwise {@code model-0000i-of-0000n.safetensors} plus {@code model.safetensors.index.json}.
   */
  public static void writeCheckpoint(Path dir, Map<String, Tensor> tensors, DType dtype, int shards)
      throws IOException {
    Files.createDirectories(dir);
    if (shards <= 1) {
      writeFile(dir.resolve(SINGLE_FILE), tensors, dtype);
      return;
    }
    List<String> names = List.copyOf(tensors.keySet());
    JsonObject weightMap = new JsonObject();
    long total = 0;
    for (int s = 0; s < shards; s++) {
      String shardName = String.format("model-%05d-of-%05d.safetensors", s + 1, shards);
      Map<String, Tensor> part = new LinkedHashMap<>();
      for (int i = s; i < names.size(); i += shards) {
        part.put(names.get(i), tensors.get(names.get(i)));
        weightMap.addProperty(names.get(i), shardName);
        total += (long) tensors.get(names.get(i)).data().length * dtype.bytes();
      }
      writeFile(dir.resolve(shardName), part, dtype);
    }
    JsonObject index = new JsonObject();
    JsonObject meta = new JsonObject();
    meta.addProperty("total_size", total);
    index.add("metadata", meta);
    index.add("weight_map", weightMap);
    Files.writeString(dir.resolve(INDEX_FILE), index.toString());
  }
}
