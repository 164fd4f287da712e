#!/usr/bin/env python3
"""Renders the chat templates in gpu-udf/src/test/resources/chat-templates with Jinja2, configured as Hugging Face
transformers configures it in apply_chat_template (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks,
loopcontrols, raise_exception), and writes goldens.json beside them: what ChatTemplateTest expects the Java renderer
to produce. Needs python3 with jinja2 (Debian: python3-jinja2). Run from the repository root."""
import json
import pathlib
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

DIR = pathlib.Path("gpu-udf/src/test/resources/chat-templates")
TOKENS = {"llama2": ("<s>", "</s>"), "mistral": ("<s>", "</s>"), "llama3": ("<|begin_of_text|>", "<|eot_id|>"),
          "qwen2": ("", "<|im_end|>"), "trail-tiny": ("<s>", "</s>")}
CONVERSATIONS = {
    "one-user-turn": [{"role": "user", "content": "List 3 fruits."}],
    "system-and-user": [{"role": "system", "content": "Be brief. "}, {"role": "user", "content": " Hi there\n"}],
    "multi-turn": [{"role": "user", "content": "Name a colour."}, {"role": "assistant", "content": " Blue. "},
                   {"role": "user", "content": "Another one, in French: é, ü, 日本\u00a0"}],
    "system-multi-turn": [{"role": "system", "content": "You answer in one word."},
                          {"role": "user", "content": "Capital of France?"},
                          {"role": "assistant", "content": "Paris"}, {"role": "user", "content": "Of Italy?"}],
    "two-users-in-a-row": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}],
}


def raise_exception(message):
    raise ValueError(message)


env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
env.globals["raise_exception"] = raise_exception
goldens = {}
for name, (bos, eos) in TOKENS.items():
    template = env.from_string((DIR / f"{name}.jinja").read_text())
    for conv, messages in CONVERSATIONS.items():
        try:
            out = {"text": template.render(messages=messages, bos_token=bos, eos_token=eos, add_generation_prompt=True)}
        except ValueError as e:
            out = {"error": str(e)}
        goldens[f"{name}/{conv}"] = {"template": name, "bos_token": bos, "eos_token": eos, "messages": messages, **out}
(DIR / "goldens.json").write_text(json.dumps(goldens, indent=1, ensure_ascii=False) + "\n")
print(f"{len(goldens)} goldens written to {DIR / 'goldens.json'}")
