package io.trailflink.engine.text;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.trailflink.engine.model.CheckpointException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Text ⇄ token ids through DJL's Hugging Face tokenizers (the Rust {@code tokenizers} library), fully offline, with
 * truncation off (DJL's default cuts input at 512 tokens). {@link #encode(String)} adds no special tokens (chat
 * templates write what they need); {@link #encode(String, boolean)} can apply the tokenizer's post-processor, which
 * adds BOS/EOS as {@code tokenizer.json} says. {@link PromptEncoder} decides which a prompt gets.
 */
public final class TextCodec implements AutoCloseable {
  private final HuggingFaceTokenizer tokenizer;

  public TextCodec(Path tokenizerJson) {
    try {
      tokenizer = HuggingFaceTokenizer.newInstance(tokenizerJson,
          Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false"));
    } catch (IOException | RuntimeException e) {
      throw new CheckpointException(tokenizerJson + ": not a usable tokenizer (" + e.getMessage() + ")", e);
    }
  }

  /** Token ids of {@code text}, no special tokens added. */
  public int[] encode(String text) {
    return encode(text, false);
  }

  /** Token ids of {@code text}; {@code addSpecialTokens}: through the post-processor (BOS/EOS per tokenizer.json). */
  public int[] encode(String text, boolean addSpecialTokens) {
    Encoding enc = tokenizer.encode(text, addSpecialTokens, false);
    long[] ids = enc.getIds();
    int[] out = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = (int) ids[i];
    }
    return out;
  }

  /** Decodes ids to text, dropping special tokens. */
  public String decode(int[] ids) {
    long[] l = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      l[i] = ids[i];
    }
    return tokenizer.decode(l, true);
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
