package io.trailflink.engine.text;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Trains a GPT-2 style byte-level BPE tokenizer and writes it as a Hugging Face {@code tokenizer.json}, so the
 * serving path loads it with DJL's HuggingFace tokenizers exactly like any downloaded checkpoint's tokenizer.
 *
 * <p>Pre-tokenisation is the ByteLevel pre-tokenizer's GPT-2 regex; each piece's UTF-8 bytes are mapped to printable
 * characters (GPT-2's byte-to-unicode table); merges are learned greedily by pair frequency (ties: the
 * lexicographically smaller pair, so training is deterministic). Ids: special tokens first, then the 256 bytes,
 * then merges in order.
 */
public final class ByteLevelBpeTrainer {
  /** GPT-2's pre-tokenisation pattern, as Hugging Face's ByteLevel pre-tokenizer applies it. */
  static final Pattern GPT2_SPLIT = Pattern.compile(
      "'(?:[sdmt]|ll|ve|re)| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");

  private final int vocabSize;
  private final List<String> specialTokens;

  public ByteLevelBpeTrainer(int vocabSize, List<String> specialTokens) {
    if (vocabSize < 256 + specialTokens.size()) {
      throw new IllegalArgumentException("vocab size must cover the 256 bytes and the special tokens");
    }
    this.vocabSize = vocabSize;
    this.specialTokens = List.copyOf(specialTokens);
  }

  /** Learns merges from {@code texts} and writes {@code tokenizer.json} to {@code out}. */
  public void train(Iterable<String> texts, Path out) throws IOException {
    String[] byteChar = bytesToUnicode();
    Map<String, Integer> wordCounts = new HashMap<>();
    for (String text : texts) {
      Matcher m = GPT2_SPLIT.matcher(text);
      while (m.find()) {
        StringBuilder sb = new StringBuilder();
        for (byte b : m.group().getBytes(StandardCharsets.UTF_8)) {
          sb.append(byteChar[b & 0xff]);
        }
        wordCounts.merge(sb.toString(), 1, Integer::sum);
      }
    }
    List<List<String>> words = new ArrayList<>();
    List<Integer> counts = new ArrayList<>();
    for (Map.Entry<String, Integer> e : wordCounts.entrySet()) {
      List<String> symbols = new ArrayList<>();
      e.getKey().codePoints().forEach(cp -> symbols.add(new String(Character.toChars(cp))));
      words.add(symbols);
      counts.add(e.getValue());
    }
    Map<String, Long> pairCounts = new HashMap<>();
    Map<String, Set<Integer>> pairWords = new HashMap<>();
    for (int w = 0; w < words.size(); w++) {
      addPairs(words.get(w), counts.get(w), w, pairCounts, pairWords);
    }
    List<String> merges = new ArrayList<>();
    int target = vocabSize - specialTokens.size() - 256;
    while (merges.size() < target && !pairCounts.isEmpty()) {
      String best = null;
      long bestCount = 0;
      for (Map.Entry<String, Long> e : pairCounts.entrySet()) {
        long c = e.getValue();
        if (c > bestCount || (c == bestCount && best != null && e.getKey().compareTo(best) < 0)) {
          best = e.getKey();
          bestCount = c;
        }
      }
      if (best == null || bestCount < 2) {
        break;
      }
      merges.add(best);
      String[] ab = best.split(" ", 2);
      String merged = ab[0] + ab[1];
      for (int w : List.copyOf(pairWords.getOrDefault(best, Set.of()))) {
        List<String> sym = words.get(w);
        removePairs(sym, counts.get(w), w, pairCounts, pairWords);
        List<String> next = new ArrayList<>(sym.size());
        for (int i = 0; i < sym.size(); i++) {
          if (i + 1 < sym.size() && sym.get(i).equals(ab[0]) && sym.get(i + 1).equals(ab[1])) {
            next.add(merged);
            i++;
          } else {
            next.add(sym.get(i));
          }
        }
        words.set(w, next);
        addPairs(next, counts.get(w), w, pairCounts, pairWords);
      }
    }
    write(out, byteChar, merges);
  }

  private static void addPairs(List<String> sym, int count, int w, Map<String, Long> pc, Map<String, Set<Integer>> pw) {
    for (int i = 0; i + 1 < sym.size(); i++) {
      String p = sym.get(i) + " " + sym.get(i + 1);
      pc.merge(p, (long) count, Long::sum);
      pw.computeIfAbsent(p, k -> new HashSet<>()).add(w);
    }
  }

  private static void removePairs(
      List<String> sym, int count, int w, Map<String, Long> pc, Map<String, Set<Integer>> pw) {
    for (int i = 0; i + 1 < sym.size(); i++) {
      String p = sym.get(i) + " " + sym.get(i + 1);
      long left = pc.merge(p, (long) -count, Long::sum);
      if (left <= 0) {
        pc.remove(p);
      }
      Set<Integer> ws = pw.get(p);
      if (ws != null) {
        ws.remove(w);
        if (ws.isEmpty()) {
          pw.remove(p);
        }
      }
    }
  }

  private void write(Path out, String[] byteChar, List<String> merges) throws IOException {
    Map<String, Integer> vocab = new LinkedHashMap<>();
    for (String s : specialTokens) {
      vocab.put(s, vocab.size());
    }
    for (String c : byteChar) {
      vocab.put(c, vocab.size());
    }
    for (String m : merges) {
      vocab.putIfAbsent(m.replace(" ", ""), vocab.size());
    }
    JsonObject root = new JsonObject();
    root.addProperty("version", "1.0");
    root.add("truncation", JsonNull.INSTANCE);
    root.add("padding", JsonNull.INSTANCE);
    JsonArray added = new JsonArray();
    for (String s : specialTokens) {
      JsonObject t = new JsonObject();
      t.addProperty("id", vocab.get(s));
      t.addProperty("content", s);
      t.addProperty("single_word", false);
      t.addProperty("lstrip", false);
      t.addProperty("rstrip", false);
      t.addProperty("normalized", false);
      t.addProperty("special", true);
      added.add(t);
    }
    root.add("added_tokens", added);
    root.add("normalizer", JsonNull.INSTANCE);
    root.add("pre_tokenizer", byteLevel(false));
    root.add("post_processor", JsonNull.INSTANCE);
    root.add("decoder", byteLevel(true));
    JsonObject model = new JsonObject();
    model.addProperty("type", "BPE");
    model.add("dropout", JsonNull.INSTANCE);
    model.add("unk_token", JsonNull.INSTANCE);
    model.add("continuing_subword_prefix", JsonNull.INSTANCE);
    model.add("end_of_word_suffix", JsonNull.INSTANCE);
    model.addProperty("fuse_unk", false);
    model.addProperty("byte_fallback", false);
    JsonObject v = new JsonObject();
    vocab.forEach(v::addProperty);
    model.add("vocab", v);
    JsonArray m = new JsonArray();
    merges.forEach(m::add);
    model.add("merges", m);
    root.add("model", model);
    Files.createDirectories(out.getParent());
    Files.writeString(out, new GsonBuilder().disableHtmlEscaping().create().toJson(root));
  }

  private static JsonObject byteLevel(boolean decoder) {
    JsonObject o = new JsonObject();
    o.addProperty("type", "ByteLevel");
    o.addProperty("add_prefix_space", false);
    o.addProperty("trim_offsets", true);
    o.addProperty("use_regex", true);
    return o;
  }

  /** GPT-2's reversible map from the 256 byte values to printable unicode characters. */
  static String[] bytesToUnicode() {
    String[] out = new String[256];
    List<Integer> direct = new ArrayList<>();
    for (int b = '!'; b <= '~'; b++) {
      direct.add(b);
    }
    for (int b = 0xA1; b <= 0xAC; b++) {
      direct.add(b);
    }
    for (int b = 0xAE; b <= 0xFF; b++) {
      direct.add(b);
    }
    int n = 0;
    for (int b = 0; b < 256; b++) {
      if (direct.contains(b)) {
        out[b] = new String(Character.toChars(b));
      } else {
        out[b] = new String(Character.toChars(256 + n++));
      }
    }
    return out;
  }
}
