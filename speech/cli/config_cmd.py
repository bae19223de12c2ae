"""``speech config get``: print values of a YAML config, for recipes and scripts.

``speech config get --task tts --config conf/train.yaml text.lang text.phonemes`` prints one line
per key: a string as it is, an empty line for null, anything else as JSON (``true``, ``3``,
``[0.9, 1.1]``, a section as an object); a string holding a line break is JSON-quoted, so that
every value stays on one line. With ``--task`` the file is read as ``speech train TASK`` reads it (unknown
keys and bad values are errors; keys the file leaves out have their defaults); without it, as
written, and a key it lacks is an error.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from speech.cli._args import add_set_option
from speech.errors import ConfigError
from speech.tasks import TASKS

# The config dataclass ``speech train TASK`` reads, imported only when asked for (it loads torch).


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``speech config`` and its ``get`` subcommand."""
    parser = sub.add_parser("config", help="read values of a YAML config (for recipes and scripts)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=type(parser))
    actions.required = True
    get = actions.add_parser(
        "get",
        help="print config values, one line per key",
        description="Print the value of each dotted KEY, one line each: a string as it is, an empty "
        "line for null, anything else as JSON (true, 3, a section as an object). With --task the "
        "config is read as 'speech train TASK' reads it: checked, and a key the file leaves out has "
        "its default.",
    )
    get.add_argument("keys", nargs="+", metavar="KEY", help="dotted key, e.g. data.target_lang")
    get.add_argument("--config", required=True, help="YAML config file")
    get.add_argument(
        "--task",
        choices=sorted(TASKS),
        help="read the config as this task's training config (checked, with defaults)",
    )
    add_set_option(get, "overrides applied first, as 'speech train --set' applies them")
    get.set_defaults(func=run_get)


def run_get(args: argparse.Namespace) -> int:
    """Print the values of ``args.keys``."""
    values = config_values(args.config, args.keys, args.task, args.overrides)
    for value in values:
        print(format_value(value))
    return 0


def config_values(
    path: str | Path, keys: list[str], task: str | None = None, overrides: list[str] | None = None
) -> list[Any]:
    """The values of dotted ``keys`` in the config at ``path``.

    Args:
        path: YAML config file.
        keys: Dotted keys, e.g. ``["data.target_lang"]``.
        task: ``asr``, ``st``, ``tts`` or ``lm``: read the file into that task's config dataclass
            (checked, with defaults); None: the YAML as written.
        overrides: ``key.sub=value`` overrides applied before reading.

    Raises:
        ConfigError: The file is missing or invalid, or a key names nothing in it.
    """
    from speech.config import apply_overrides, from_dict, load_config_yaml, to_dict

    data = apply_overrides(load_config_yaml(path), list(overrides or []))
    if task is not None:
        from speech.tasks import task_classes

        cls = task_classes(task)[0]
        data = to_dict(from_dict(cls, data, str(path)))
    return [_lookup(data, key, str(path)) for key in keys]


def format_value(value: Any) -> str:
    """One line: a string as it is (JSON-quoted if it holds a line break), "" for None, else JSON."""
    if value is None:
        return ""
    if isinstance(value, str) and "\n" not in value and "\r" not in value:
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _lookup(data: dict[str, Any], key: str, where: str) -> Any:
    node: Any = data
    parts = key.split(".")
    for depth, part in enumerate(parts):
        if not isinstance(node, dict) or part not in node:
            section = ".".join(parts[:depth]) or "config"
            known = ""
            if isinstance(node, dict):
                known = (
                    f" (known in '{section}': {', '.join(map(str, node))})"
                    if node
                    else f" ('{section}' is empty)"
                )
            raise ConfigError(f"{where}: no key '{key}'{known}")
        node = node[part]
    return node
