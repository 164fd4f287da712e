package io.trailflink.engine.text;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.trailflink.engine.model.CheckpointException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Text ⇄ token ids through DJL's Hugging Face tokenizers, fully offline, with truncation off (DJL's default cuts
 * input at 512 tokens) and no special tokens added implicitly (prompt templates add what they need).
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

  public int[] encode(String text) {
    Encoding enc = tokenizer.encode(text, false, false);
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
