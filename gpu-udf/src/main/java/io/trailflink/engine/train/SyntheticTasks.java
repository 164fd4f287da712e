package io.trailflink.engine.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Generated instruction tasks whose answer length depends on the prompt in known ways: exactly (list N items,
 * count down from N, write a word k times, spell a word, letters from x to y) or only in distribution (a short /
 * medium / long story, a description of a given size — sentence counts drawn from a range set by the request).
 * These teach a small CPU-trained model to end its answers at prompt-dependent lengths, with the uncertainty at
 * the start that TRAIL's refinement exists for.
 *
 * <p>Counted answers count <em>down</em> ("5. apple … 1. plum", "3) river 2) river 1) river", "12, 11, … 1."):
 * the first label copies N from the prompt and the answer stops after the label 1, so stopping needs only a copy, a
 * decrement and a fixed token. The first model, trained on counted-up answers ("Count from a to b", "1. … N."),
 * learned the numbering but not to stop at an arbitrary N (Spearman 0.11 with the intended length on held-out
 * prompts after 3,100 steps), because stopping there takes an equality test against a number far back in context.
 *
 * <p>{@link #heldOut(String)} splits the prompt space itself: a fixed tenth of every family's prompts (by a hash of
 * the prompt text) is never generated for training, so held-out prompts of every family exist and are unseen.
 */
public final class SyntheticTasks {
  static final String[][] CATEGORIES = {
    {"fruits", "apple", "banana", "cherry", "grape", "lemon", "mango", "orange", "peach", "pear", "plum", "kiwi",
        "melon", "papaya", "apricot", "fig", "lime", "guava", "coconut", "date", "olive"},
    {"animals", "cat", "dog", "horse", "lion", "tiger", "zebra", "rabbit", "mouse", "eagle", "shark", "whale",
        "wolf", "fox", "bear", "deer", "goat", "sheep", "camel", "otter", "owl"},
    {"colors", "red", "blue", "green", "yellow", "purple", "orange", "pink", "brown", "black", "white", "gray",
        "violet", "indigo", "teal", "gold", "silver", "maroon", "beige", "cyan", "navy"},
    {"countries", "France", "Spain", "Italy", "Japan", "Brazil", "Canada", "Mexico", "India", "China", "Egypt",
        "Kenya", "Peru", "Chile", "Norway", "Sweden", "Greece", "Turkey", "Vietnam", "Ghana", "Poland"},
    {"tools", "hammer", "saw", "drill", "wrench", "chisel", "pliers", "ruler", "level", "file", "clamp", "axe",
        "shovel", "rake", "knife", "screwdriver", "sander", "trowel", "crowbar", "mallet", "tape"},
    {"jobs", "teacher", "doctor", "nurse", "farmer", "baker", "pilot", "lawyer", "chef", "artist", "writer",
        "engineer", "plumber", "driver", "singer", "dentist", "judge", "sailor", "miner", "tailor", "clerk"},
    {"cities", "Paris", "London", "Tokyo", "Rome", "Berlin", "Madrid", "Cairo", "Lima", "Oslo", "Seoul",
        "Dublin", "Vienna", "Prague", "Athens", "Lisbon", "Delhi", "Sydney", "Toronto", "Boston", "Denver"},
    {"sports", "soccer", "tennis", "golf", "rugby", "hockey", "boxing", "cycling", "rowing", "skiing",
        "surfing", "cricket", "baseball", "karate", "judo", "fencing", "archery", "diving", "running", "sailing",
        "climbing"},
  };
  static final String[] WORDS = {"river", "garden", "window", "pencil", "planet", "mirror", "forest", "candle",
      "bridge", "castle", "rocket", "island", "ladder", "jacket", "violin", "pocket", "meadow", "anchor", "basket",
      "thunder", "harbor", "lantern", "marble", "puzzle", "silver", "tunnel", "wagon", "cactus", "dragon", "falcon"};
  static final String[] ADJ = {"quiet", "bright", "old", "small", "brave", "curious", "gentle", "tired", "happy",
      "strange", "clever", "lonely", "busy", "kind", "young", "proud", "calm", "wild", "shy", "lucky"};
  static final String[] VERB = {"walked", "looked", "waited", "listened", "smiled", "searched", "wandered",
      "laughed", "rested", "climbed", "sang", "worked", "danced", "whispered", "hurried", "paused"};
  static final String[] PLACE = {"the river", "the old bridge", "the market", "the forest", "the quiet village",
      "the harbor", "the garden", "the mountain", "the library", "the busy street", "the small house",
      "the meadow", "the castle", "the station"};
  static final String[] TIME = {"In the morning", "At noon", "Later that day", "That evening", "At night",
      "The next day", "Soon after", "Suddenly", "After a while", "Before long"};

  /** Size words for distribution-only tasks and the sentence range each implies. */
  enum Size {
    SHORT("short", 1, 4), MEDIUM("medium-length", 5, 10), LONG("long", 12, 24);
    final String word;
    final int min;
    final int max;

    Size(String word, int min, int max) {
      this.word = word;
      this.min = min;
      this.max = max;
    }
  }

  private final Random rnd;

  public SyntheticTasks(long seed) {
    this.rnd = new Random(seed);
  }

  /** {@code n} examples, families mixed in fixed proportions, prompts from either side of the split. */
  public List<Example> generate(int n) {
    List<Example> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(next());
    }
    return out;
  }

  /** {@code n} examples whose prompts all lie on one side of {@link #heldOut(String)}. */
  public List<Example> generate(int n, boolean heldOutSide) {
    List<Example> out = new ArrayList<>(n);
    while (out.size() < n) {
      Example e = next();
      if (heldOut(e.prompt()) == heldOutSide) {
        out.add(e);
      }
    }
    return out;
  }

  /** Whether a prompt belongs to the held-out tenth of the prompt space (stable across runs and seeds). */
  public static boolean heldOut(String prompt) {
    int h = prompt.hashCode() * 0x9E3779B9;
    return Integer.remainderUnsigned(h ^ (h >>> 16), 10) == 0;
  }

  private Example next() {
    int f = rnd.nextInt(100);
    return f < 22 ? list() : f < 40 ? countDown() : f < 50 ? repeat() : f < 58 ? spell() : f < 64 ? letters()
        : f < 88 ? story() : describe();
  }

  Example list() {
    String[] cat = CATEGORIES[rnd.nextInt(CATEGORIES.length)];
    int n = 1 + rnd.nextInt(40);
    String[] forms = {"List %d %s.", "Name %d %s.", "Give me a list of %d %s.", "Write down %d %s, one per line.",
        "Please list %d %s."};
    String prompt = String.format(Locale.ROOT, forms[rnd.nextInt(forms.length)], n, cat[0]);
    StringBuilder a = new StringBuilder();
    for (int i = n; i >= 1; i--) {
      a.append(i).append(". ").append(cat[1 + rnd.nextInt(cat.length - 1)]);
      if (i > 1) {
        a.append('\n');
      }
    }
    return new Example(prompt, a.toString(), "list", true, n);
  }

  Example countDown() {
    int from = 2 + rnd.nextInt(149);
    String[] forms = {"Count down from %d.", "Count backwards from %d to 1.", "Write a countdown from %d.",
        "Start at %d and count down to 1.", "Count down from %d to one."};
    String prompt = String.format(Locale.ROOT, forms[rnd.nextInt(forms.length)], from);
    StringBuilder a = new StringBuilder();
    for (int i = from; i >= 1; i--) {
      a.append(i).append(i > 1 ? ", " : ".");
    }
    return new Example(prompt, a.toString(), "count", true, from);
  }

  Example repeat() {
    String w = WORDS[rnd.nextInt(WORDS.length)];
    int k = 1 + rnd.nextInt(25);
    String[] forms = {"Write the word \"%s\" %d times.", "Repeat \"%s\" %d times.", "Say \"%s\" %d times."};
    String prompt = String.format(Locale.ROOT, forms[rnd.nextInt(forms.length)], w, k);
    StringBuilder a = new StringBuilder();
    for (int i = k; i >= 1; i--) {
      a.append(i).append(") ").append(w);
      if (i > 1) {
        a.append(' ');
      }
    }
    return new Example(prompt, a.toString(), "repeat", true, k);
  }

  Example spell() {
    String[] pool = rnd.nextBoolean() ? WORDS : CATEGORIES[rnd.nextInt(CATEGORIES.length)];
    String w = pool[rnd.nextInt(pool.length)].toLowerCase(Locale.ROOT);
    String prompt = String.format(Locale.ROOT, rnd.nextBoolean() ? "Spell the word \"%s\"." : "How do you spell %s?", w);
    String a = String.join("-", w.toUpperCase(Locale.ROOT).split(""));
    return new Example(prompt, a, "spell", true, w.length());
  }

  Example letters() {
    int a = rnd.nextInt(20);
    int b = a + rnd.nextInt(26 - a);
    String prompt = String.format(Locale.ROOT, "Write the letters of the alphabet from %c to %c.", 'A' + a, 'A' + b);
    StringBuilder s = new StringBuilder();
    for (int i = a; i <= b; i++) {
      s.append((char) ('A' + i)).append(i < b ? " " : "");
    }
    return new Example(prompt, s.toString(), "letters", true, b - a + 1);
  }

  Example story() {
    Size size = Size.values()[rnd.nextInt(3)];
    String topic = pick(CATEGORIES[rnd.nextInt(CATEGORIES.length)], 1);
    String[] forms = {"Write a %s story about a %s %s.", "Tell me a %s story about a %s %s.",
        "Please write a %s tale about a %s %s."};
    String prompt = String.format(Locale.ROOT, forms[rnd.nextInt(forms.length)], size.word, pick(ADJ, 0), topic);
    int sentences = size.min + rnd.nextInt(size.max - size.min + 1);
    StringBuilder a = new StringBuilder("Once upon a time there was a " + pick(ADJ, 0) + " " + topic + ".");
    for (int i = 1; i < sentences; i++) {
      a.append(' ').append(sentence(topic));
    }
    if (sentences > 1) {
      a.append(" The end.");
    }
    return new Example(prompt, a.toString(), "story", false, sentences);
  }

  Example describe() {
    Size size = Size.values()[rnd.nextInt(3)];
    String thing = pick(WORDS, 0);
    String how = switch (size) {
      case SHORT -> "briefly";
      case MEDIUM -> "in a paragraph";
      case LONG -> "in great detail";
    };
    String[] forms = {"Describe a %s %s %s.", "Tell me about a %s %s %s.", "Explain what a %s %s is like, %s."};
    String prompt = String.format(Locale.ROOT, forms[rnd.nextInt(forms.length)], pick(ADJ, 0), thing, how);
    int sentences = size.min + rnd.nextInt(size.max - size.min + 1);
    StringBuilder a = new StringBuilder("A " + thing + " is " + pick(ADJ, 0) + ".");
    for (int i = 1; i < sentences; i++) {
      a.append(' ').append(switch (rnd.nextInt(3)) {
        case 0 -> "It is often " + pick(ADJ, 0) + " and " + pick(ADJ, 0) + ".";
        case 1 -> "People find it near " + pick(PLACE, 0) + ".";
        default -> "Some say the " + thing + " " + pick(VERB, 0) + " by " + pick(PLACE, 0) + ".";
      });
    }
    return new Example(prompt, a.toString(), "describe", false, sentences);
  }

  private String sentence(String topic) {
    return switch (rnd.nextInt(4)) {
      case 0 -> pick(TIME, 0) + " the " + topic + " " + pick(VERB, 0) + " to " + pick(PLACE, 0) + ".";
      case 1 -> "The " + topic + " felt " + pick(ADJ, 0) + " and " + pick(VERB, 0) + ".";
      case 2 -> "A " + pick(ADJ, 0) + " friend " + pick(VERB, 0) + " near " + pick(PLACE, 0) + ".";
      default -> pick(TIME, 0) + " everyone " + pick(VERB, 0) + " by " + pick(PLACE, 0) + ".";
    };
  }

  private String pick(String[] arr, int from) {
    return arr[from + rnd.nextInt(arr.length - from)];
  }
}
