"""Write docs/cli.md, the command-line reference, from the argparse parser of gpbench.cli.

    PYTHONPATH=benchmark:plugins python docs/scripts/cli_reference.py

The page is committed; tests/test_docs.py fails when it differs from what this prints, so a
new or changed option is a one-command regeneration. The layout is built from the parser's
actions (not argparse's help formatter), so it does not change with Python's version or the
terminal's width.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

PAGE = Path(__file__).parents[1] / "cli.md"

HEADER = """# Command-line reference

Every `gpbench` command and option, generated from the parser in `benchmark/gpbench/cli.py` by
`python docs/scripts/cli_reference.py` (a test fails when this page and the parser differ).
What the commands are for: [Running benchmarks](running.md).
"""


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _flag(action: argparse.Action) -> str:
    if not action.option_strings:
        return action.metavar or action.dest.upper()
    name = next((s for s in action.option_strings if s.startswith("--")),
                action.option_strings[0])
    if action.nargs == 0:
        return name
    metavar = action.metavar or ("{" + ",".join(map(str, action.choices)) + "}"
                                 if action.choices else action.dest.upper())
    return f"{name} {metavar}"


def _synopsis(name: str, parser: argparse.ArgumentParser) -> str:
    parts = [f"gpbench {name}"]
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        word = _flag(action)
        if action.nargs == "+":
            word = f"{word} [{word} ...]"
        required = action.required or not action.option_strings
        parts.append(word if required else f"[{word}]")
    return " ".join(parts)


def _default(action: argparse.Action) -> str:
    if action.nargs == 0 or action.default in (None, [], argparse.SUPPRESS):
        return ""
    return f"`{action.default}`"


def _options_table(parser: argparse.ArgumentParser) -> list[str]:
    rows = ["| option | default | what |", "|---|---|---|"]
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        names = ", ".join(f"`{s}`" for s in action.option_strings) or f"`{_flag(action)}`"
        if action.choices:
            names += " (" + " \\| ".join(str(c) for c in action.choices) + ")"
        what = _cell(action.help or "")
        if action.required and action.option_strings:
            what = f"required; {what}"
        rows.append(f"| {names} | {_default(action)} | {what} |")
    return rows


def render(parser: argparse.ArgumentParser) -> str:
    """The reference page of ``parser`` (gpbench's top-level parser), as markdown."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {a.dest: a.help for a in sub._choices_actions}
    lines = [HEADER, "| command | what |", "|---|---|"]
    lines += [f"| [`gpbench {n}`](#gpbench-{n}) | {_cell(helps.get(n) or '')} |"
              for n in sub.choices]
    for name, command in sub.choices.items():
        lines += ["", f"## gpbench {name}", "", _cell(command.description or helps.get(name)
                                                      or ""), "", "```text",
                  _synopsis(name, command), "```", ""]
        if len(command._actions) > 1:
            lines += _options_table(command)
    lines += ["", "## Environment", "", "```text", parser.epilog.strip(), "```"]
    return "\n".join(lines) + "\n"


def main() -> int:
    from gpbench.cli import build_parser

    PAGE.write_text(render(build_parser()))
    print(f"wrote {PAGE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
