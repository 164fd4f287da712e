package io.trailflink.predictor.data;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Predictor training data collected from the serving model: per request, the prompt-mean hidden state and the
 * state of every generated token, at every layer, with the true remaining length. One directory:
 *
 * <pre>
 *   meta.json        model, layers, hidden, output cap, sample and request counts
 *   requests.jsonl   one line per request: id, kind, split (train|val), prompt/output tokens, finish reason,
 *                    prompt text, first sample index and sample count
 *   samples.bin      per sample three int32 little-endian: request index, tokens generated when the state was
 *                    computed (0 = the prompt mean), true remaining output tokens
 *   layer-L.f16      per sample one row of `hidden` IEEE half floats, little-endian: the residual stream after
 *                    L decoder layers (0 = embeddings); sample order as in samples.bin
 * </pre>
 *
 * A request's samples are contiguous: first the prompt mean (generated 0, remaining = output length), then the
 * newest token's state after 1, 2, … tokens (remaining = output length − generated, never 0).
 */
public final class TapDataset {
  public static final String META = "meta.json";
  public static final String REQUESTS = "requests.jsonl";
  public static final String SAMPLES = "samples.bin";

  /** One collected request. */
  public record RequestRecord(int index, String id, String kind, String split, int promptTokens, int outputTokens,
      String finish, String prompt, int firstSample, int sampleCount) {
    public boolean validation() {
      return "val".equals(split);
    }
  }

  private final Path dir;
  private final JsonObject meta;
  private final List<RequestRecord> requests;
  private final int[] request;
  private final int[] generated;
  private final int[] remaining;
  private final int hidden;

  private TapDataset(Path dir, JsonObject meta, List<RequestRecord> requests, int[] request, int[] generated,
      int[] remaining) {
    this.dir = dir;
    this.meta = meta;
    this.requests = requests;
    this.request = request;
    this.generated = generated;
    this.remaining = remaining;
    this.hidden = meta.get("hidden").getAsInt();
  }

  public static String layerFile(int layer) {
    return "layer-" + layer + ".f16";
  }

  /** Opens a dataset directory; the layer matrices are read on demand ({@link #layer}). */
  public static TapDataset open(Path dir) throws IOException {
    try {
      JsonObject meta = JsonParser.parseString(Files.readString(dir.resolve(META))).getAsJsonObject();
      List<RequestRecord> requests = new ArrayList<>();
      Gson gson = new Gson();
      try (BufferedReader r = Files.newBufferedReader(dir.resolve(REQUESTS))) {
        for (String line = r.readLine(); line != null; line = r.readLine()) {
          if (!line.isBlank()) {
            requests.add(gson.fromJson(line, RequestRecord.class));
          }
        }
      }
      byte[] raw = Files.readAllBytes(dir.resolve(SAMPLES));
      int n = raw.length / 12;
      if (n != meta.get("samples").getAsInt() || raw.length % 12 != 0) {
        throw new IOException(dir.resolve(SAMPLES) + " holds " + raw.length + " bytes; meta.json says "
            + meta.get("samples") + " samples of 12 bytes");
      }
      ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
      int[] req = new int[n];
      int[] gen = new int[n];
      int[] rem = new int[n];
      for (int i = 0; i < n; i++) {
        req[i] = b.getInt();
        gen[i] = b.getInt();
        rem[i] = b.getInt();
      }
      return new TapDataset(dir, meta, requests, req, gen, rem);
    } catch (NoSuchFileException e) {
      throw new IOException("not a tap dataset: " + e.getFile() + " is missing (collect one with ./trail collect-states)");
    }
  }

  /** The whole matrix of one layer as floats, {@code [sample * hidden + i]}. */
  public float[] layer(int layer) throws IOException {
    Path file = dir.resolve(layerFile(layer));
    long expected = (long) size() * hidden * 2;
    if (!Files.isRegularFile(file) || Files.size(file) != expected) {
      throw new IOException(file + (Files.isRegularFile(file) ? " holds " + Files.size(file) + " bytes, expected "
          + expected : " is missing (layers collected: " + meta.get("layers") + ")"));
    }
    float[] out = new float[size() * hidden];
    byte[] buf = new byte[1 << 16];
    try (InputStream in = new DataInputStream(Files.newInputStream(file))) {
      int at = 0;
      int read;
      int carry = 0;
      while ((read = in.read(buf, carry, buf.length - carry)) > 0) {
        int have = carry + read;
        int pairs = have / 2;
        for (int i = 0; i < pairs; i++) {
          out[at++] = Half.toFloat((short) ((buf[2 * i] & 0xff) | (buf[2 * i + 1] << 8)));
        }
        carry = have - pairs * 2;
        if (carry == 1) {
          buf[0] = buf[have - 1];
        }
      }
    }
    return out;
  }

  public int size() {
    return request.length;
  }

  public int hidden() {
    return hidden;
  }

  public int numLayers() {
    return meta.get("num_layers").getAsInt();
  }

  public int cap() {
    return meta.get("max_new_tokens").getAsInt();
  }

  public String model() {
    return meta.get("model").getAsString();
  }

  public JsonObject meta() {
    return meta;
  }

  public List<RequestRecord> requests() {
    return requests;
  }

  public int requestOf(int sample) {
    return request[sample];
  }

  public int generatedAt(int sample) {
    return generated[sample];
  }

  public int remainingAt(int sample) {
    return remaining[sample];
  }
}
