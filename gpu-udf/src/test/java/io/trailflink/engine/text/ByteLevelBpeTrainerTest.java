package io.trailflink.engine.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The trained tokenizer loads in DJL's Hugging Face tokenizers, round-trips any text and compresses. */
class ByteLevelBpeTrainerTest {
  @TempDir Path tmp;

  @Test
  void trainedTokenizerRoundTripsAndKeepsSpecialTokensWhole() throws Exception {
    List<String> corpus = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      corpus.add("Count from " + i + " to " + (i + 5) + ". The quick brown fox jumps over the lazy dog, again.");
    }
    Path file = tmp.resolve("tokenizer.json");
    new ByteLevelBpeTrainer(400, List.of("<pad>", "<s>", "</s>", "<|user|>")).train(corpus, file);
    try (TextCodec codec = new TextCodec(file)) {
      String text = "The quick brown fox — naïve café 東京 🙂, twice:  spaces\n\tand tabs.";
      int[] ids = codec.encode(text);
      assertEquals(text, codec.decode(ids));
      int[] special = codec.encode("<|user|>The fox</s>");
      assertEquals(3, special[0], "special token is one id");
      assertEquals(2, special[special.length - 1]);
      String seen = "The quick brown fox jumps over the lazy dog";
      assertTrue(codec.encode(seen).length < seen.length() / 3, "merges compress familiar text");
      assertArrayEquals(codec.encode(seen), codec.encode(seen), "deterministic");
    }
  }
}
