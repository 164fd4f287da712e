package io.trailflink.predictor.data;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import java.io.BufferedOutputStream;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes a {@link TapDataset} directory one request at a time; {@link #close} writes meta.json last. */
public final class TapDatasetWriter implements AutoCloseable {
  private final Path dir;
  private final JsonObject meta;
  private final int numLayers;
  private final int hidden;
  private final OutputStream samples;
  private final OutputStream[] layers;
  private final BufferedWriter requests;
  private final Gson gson = new Gson();
  private int sampleCount;
  private int requestCount;

  /** @param meta model description to record; layers, hidden and counts are added here */
  public TapDatasetWriter(Path dir, JsonObject meta, int numLayers, int hidden) throws IOException {
    Files.createDirectories(dir);
    this.dir = dir;
    this.meta = meta;
    this.numLayers = numLayers;
    this.hidden = hidden;
    samples = new BufferedOutputStream(Files.newOutputStream(dir.resolve(TapDataset.SAMPLES)), 1 << 16);
    layers = new OutputStream[numLayers + 1];
    for (int l = 0; l <= numLayers; l++) {
      layers[l] = new BufferedOutputStream(Files.newOutputStream(dir.resolve(TapDataset.layerFile(l))), 1 << 16);
    }
    requests = Files.newBufferedWriter(dir.resolve(TapDataset.REQUESTS));
  }

  /**
   * Appends one request.
   *
   * @param states every layer's states at every position of prompt + output ({@code [layer][pos * hidden + i]})
   * @param promptTokens prompt length (tokens)
   * @param outputTokens generated tokens, the last one included (EOS when the model stopped)
   */
  public void add(String id, String kind, String split, String finish, String prompt, float[][] states,
      int promptTokens, int outputTokens) throws IOException {
    int first = sampleCount;
    ByteBuffer rows = ByteBuffer.allocate(outputTokens * 12).order(ByteOrder.LITTLE_ENDIAN);
    // generated 0: the prompt mean; generated g >= 1: the state at generated token g-1's position
    rows.putInt(requestCount).putInt(0).putInt(outputTokens);
    for (int g = 1; g < outputTokens; g++) {
      rows.putInt(requestCount).putInt(g).putInt(outputTokens - g);
    }
    samples.write(rows.array(), 0, rows.position());
    for (int l = 0; l <= numLayers; l++) {
      ByteBuffer b = ByteBuffer.allocate(outputTokens * hidden * 2).order(ByteOrder.LITTLE_ENDIAN);
      float[] s = states[l];
      for (int i = 0; i < hidden; i++) {
        double mean = 0;
        for (int p = 0; p < promptTokens; p++) {
          mean += s[p * hidden + i];
        }
        b.putShort(Half.fromFloat((float) (mean / promptTokens)));
      }
      for (int g = 1; g < outputTokens; g++) {
        int pos = promptTokens + g - 1;
        for (int i = 0; i < hidden; i++) {
          b.putShort(Half.fromFloat(s[pos * hidden + i]));
        }
      }
      layers[l].write(b.array(), 0, b.position());
    }
    requests.write(gson.toJson(new TapDataset.RequestRecord(requestCount, id, kind, split, promptTokens, outputTokens,
        finish, prompt, first, outputTokens)));
    requests.newLine();
    sampleCount += outputTokens;
    requestCount++;
  }

  public int requests() {
    return requestCount;
  }

  public int samples() {
    return sampleCount;
  }

  @Override
  public void close() throws IOException {
    samples.close();
    for (OutputStream o : layers) {
      o.close();
    }
    requests.close();
    meta.addProperty("num_layers", numLayers);
    meta.addProperty("hidden", hidden);
    meta.addProperty("samples", sampleCount);
    meta.addProperty("requests", requestCount);
    meta.addProperty("dtype", "f16");
    com.google.gson.JsonArray ls = new com.google.gson.JsonArray();
    for (int l = 0; l <= numLayers; l++) {
      ls.add(l);
    }
    meta.add("layers", ls);
    Gson pretty = new GsonBuilder().setPrettyPrinting().create();
    Files.writeString(dir.resolve(TapDataset.META), pretty.toJson(meta));
  }
}
