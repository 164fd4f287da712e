package io.trailflink.engine.train;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads real instruction/answer pairs: Alpaca records ({@code instruction, input, output}) and AlpacaEval model
 * outputs ({@code instruction, output, generator}). The input, when present, is appended to the instruction.
 */
public final class RealPairs {
  private RealPairs() {}

  public static List<Example> read(Path jsonFile) throws IOException {
    List<Example> out = new ArrayList<>();
    for (JsonElement el : JsonParser.parseString(Files.readString(jsonFile)).getAsJsonArray()) {
      JsonObject o = el.getAsJsonObject();
      String instruction = o.get("instruction").getAsString().strip();
      String input = o.has("input") ? o.get("input").getAsString().strip() : "";
      String answer = o.get("output").getAsString().strip();
      if (instruction.isEmpty() || answer.isEmpty()) {
        continue;
      }
      String prompt = input.isEmpty() ? instruction : instruction + "\n" + input;
      out.add(new Example(prompt, answer, "real", false, -1));
    }
    return out;
  }
}
