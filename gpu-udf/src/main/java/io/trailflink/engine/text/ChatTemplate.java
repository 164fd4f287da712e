package io.trailflink.engine.text;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A checkpoint's Jinja chat template, rendered as Hugging Face {@code transformers} renders it in
 * {@code apply_chat_template}: blocks trimmed and left-stripped, {@code messages}, {@code bos_token},
 * {@code eos_token} and {@code add_generation_prompt} in scope, {@code raise_exception(msg)} failing the render and
 * {@code strftime_now(fmt)} giving today's date. Rendering uses Jinjava; {@code trim} and the string methods
 * {@code .strip()}, {@code .lstrip()}, {@code .rstrip()} are Python's (Java's strip differs on spaces such as
 * U+00A0; the methods are rewritten to filters before parsing, see {@link #pythonStringMethods}).
 * Golden tests compare its output with Jinja2's on the Llama 2, Llama 3, Mistral and Qwen2 (ChatML) templates.
 * Tool definitions ({@code tools}, {@code tojson}) are not passed: requests carry role/content messages only.
 */
public final class ChatTemplate {
  private static final long MAX_OUTPUT_CHARS = 8L << 20;

  private final String source;
  private final String bosToken;
  private final String eosToken;
  private final Jinjava jinjava;

  /** Thrown when a template does not render: its own {@code raise_exception}, or a Jinja error. */
  public static final class RenderException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public RenderException(String message) {
      super(message);
    }
  }

  public ChatTemplate(String source, String bosToken, String eosToken) {
    this.source = pythonStringMethods(source);
    this.bosToken = bosToken == null ? "" : bosToken;
    this.eosToken = eosToken == null ? "" : eosToken;
    this.jinjava = new Jinjava(JinjavaConfig.newBuilder().withTrimBlocks(true).withLstripBlocks(true)
        .withMaxOutputSize(MAX_OUTPUT_CHARS).build());
    jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception", ChatTemplate.class,
        "raiseException", String.class));
    jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "strftime_now", ChatTemplate.class,
        "strftimeNow", String.class));
    jinjava.getGlobalContext().registerFilter(new PythonStrip("trim", true, true));
    jinjava.getGlobalContext().registerFilter(new PythonStrip("py_lstrip", true, false));
    jinjava.getGlobalContext().registerFilter(new PythonStrip("py_rstrip", false, true));
  }

  private static final Pattern STRIP_METHOD = Pattern.compile("\\.(strip|lstrip|rstrip)\\(\\s*\\)");

  /**
   * Rewrites the argument-less Python string methods {@code x.strip()}, {@code x.lstrip()}, {@code x.rstrip()} to
   * filters with Python's semantics ({@code x|trim}, ...): Jinjava would call Java's {@code String.strip()}. A
   * filter binds to the expression before it as tightly as a method call does.
   */
  static String pythonStringMethods(String source) {
    return STRIP_METHOD.matcher(source).replaceAll(m -> switch (m.group(1)) {
      case "strip" -> "|trim";
      case "lstrip" -> "|py_lstrip";
      default -> "|py_rstrip";
    });
  }

  /** The prompt text for {@code messages}; with {@code addGenerationPrompt}, opened for the assistant's answer. */
  public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
    List<Map<String, Object>> turns = new ArrayList<>(messages.size());
    for (ChatMessage m : messages) {
      turns.add(Map.of("role", m.role(), "content", m.content()));
    }
    Map<String, Object> scope = new HashMap<>();
    scope.put("messages", turns);
    scope.put("bos_token", bosToken);
    scope.put("eos_token", eosToken);
    scope.put("add_generation_prompt", addGenerationPrompt);
    RenderResult r = jinjava.renderForResult(source, scope);
    for (TemplateError e : r.getErrors()) {
      if (e.getSeverity() == TemplateError.ErrorType.FATAL) {
        throw new RenderException("chat template failed: " + describe(e));
      }
    }
    return r.getOutput();
  }

  private static String describe(TemplateError e) {
    Throwable cause = e.getException();
    while (cause != null) {
      if (cause instanceof Raised raised) {
        return raised.getMessage();
      }
      cause = cause.getCause();
    }
    String where = e.getLineno() > 0 ? " (line " + e.getLineno() + ")" : "";
    return e.getMessage() + where;
  }

  /** {@code raise_exception(msg)} in a template. */
  public static String raiseException(String message) {
    throw new Raised(message);
  }

  /** {@code strftime_now(fmt)}: the local date and time in a Python strftime format (common fields). */
  public static String strftimeNow(String format) {
    ZonedDateTime now = ZonedDateTime.now();
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < format.length(); i++) {
      char c = format.charAt(i);
      if (c != '%' || i + 1 == format.length()) {
        out.append(c);
        continue;
      }
      char f = format.charAt(++i);
      String pattern = switch (f) {
        case 'd' -> "dd";
        case 'm' -> "MM";
        case 'Y' -> "yyyy";
        case 'y' -> "yy";
        case 'b' -> "MMM";
        case 'B' -> "MMMM";
        case 'a' -> "EEE";
        case 'A' -> "EEEE";
        case 'H' -> "HH";
        case 'M' -> "mm";
        case 'S' -> "ss";
        case 'j' -> "DDD";
        default -> null;
      };
      out.append(f == '%' ? "%" : pattern == null ? "%" + f
          : DateTimeFormatter.ofPattern(pattern, Locale.ENGLISH).format(now));
    }
    return out.toString();
  }

  private static final class Raised extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Raised(String message) {
      super(message);
    }
  }

  /** Python's {@code str.strip()} (or its left or right half), which also strips spaces such as U+00A0. */
  private record PythonStrip(String name, boolean left, boolean right) implements Filter {
    @Override
    public String getName() {
      return name;
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
      return var == null ? null : PythonText.strip(var.toString(), left, right);
    }
  }
}
