"""The ``kling-studio`` command: the GUI by default, sub-commands for headless work.

``kling-studio [FILE]`` opens the studio; ``kling-studio compile|submit|jobs|resume|serve-local|animatic``
drive the same domain and services without a window.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from typing import TextIO

from kling_studio import __version__

# Modules that add sub-commands: each has ``register(subparsers)`` which sets ``func``.
_COMMAND_MODULES = (
    "kling_studio.cli_local",
    "kling_studio.cli_jobs",
    "kling_studio.cli_export",
    "kling_studio.cli_sequence",
)
EXIT_OK, EXIT_INVALID, EXIT_UNREADABLE = 0, 1, 2
# Every sub-command's name (tests/test_import_budget.py checks it against the parser): lets
# ``kling-studio [FILE]`` open the window without importing the command modules (asyncio, sqlite).
COMMAND_NAMES = ("compile", "serve-local", "animatic", "submit", "jobs", "resume", "export", "pick", "assemble")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kling-studio",
        description="Kling Studio: storyboard, compile, submit and review Kling 3.0 Turbo videos.",
    )
    parser.add_argument("--version", action="version", version=f"kling-studio {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    compile_p = sub.add_parser("compile", help="print the compiled prompt of a project file")
    compile_p.add_argument("file", help="a *.kling.json project file")
    compile_p.add_argument("--json", action="store_true", help="print one JSON object instead")
    compile_p.set_defaults(func=run_compile)
    for name in _COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def run_compile(args: argparse.Namespace) -> int:
    """Exit 0 compiled, 1 the storyboard breaks a rule, 2 the file cannot be read; never a traceback."""
    from kling_studio.domain.compiler import compile_storyboard
    from kling_studio.domain.project_file import ProjectFileError
    from kling_studio.services.image_prep import read_first_frame
    from kling_studio.services.project_io import ProjectIOError, load_project

    try:
        storyboard = load_project(args.file)
    except (ProjectFileError, ProjectIOError) as exc:
        code = f"project_{exc.kind}" if isinstance(exc, ProjectFileError) else "project_unreadable"
        return _refuse(args, code, str(exc))
    check = None
    if storyboard.first_frame is not None and storyboard.first_frame.path is not None:
        check = read_first_frame(storyboard.first_frame.path)
    compiled = compile_storyboard(storyboard, first_frame_check=check)
    if args.json:
        _out(json.dumps(compiled.to_json(), ensure_ascii=False, indent=2))
    else:
        _out(compiled.text)
        for d in compiled.warnings:
            _out(f"warning: {d.code}: {d.message}", sys.stderr)
        for d in compiled.errors:
            _out(f"error: {d.code}: {d.message}", sys.stderr)
    return EXIT_OK if compiled.ok else EXIT_INVALID


def _refuse(args: argparse.Namespace, code: str, message: str) -> int:
    """An unreadable file: the same JSON shape as a compile with errors when ``--json`` is given."""
    if getattr(args, "json", False):
        error = {"code": code, "shot": None, "message": message}
        _out(json.dumps({"ok": False, "errors": [error]}, ensure_ascii=False, indent=2))
    _out(f"kling-studio: {message}", sys.stderr)
    return EXIT_UNREADABLE


def _out(text: str, stream: TextIO | None = None) -> None:
    """Print without ever failing on text the stream cannot encode (a file name in bad bytes)."""
    stream = stream or sys.stdout
    encoding = getattr(stream, "encoding", None) or "utf-8"
    print(text.encode(encoding, "backslashreplace").decode(encoding), file=stream)


def gui_main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the GUI script: ``kling-studio-gui [FILE] [--smoke]``."""
    args = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="kling-studio", description="Open the Kling Studio window.")
    parser.add_argument("--version", action="version", version=f"kling-studio {__version__}")
    parser.add_argument("file", nargs="?", help="a *.kling.json project file to open")
    parser.add_argument("--smoke", action="store_true", help="open the window, then quit (packaging check)")
    parser.add_argument("--local", action="store_true", help="use the local backend even when a key is set")
    ns = parser.parse_args(args)
    from kling_studio.app import run_gui

    return run_gui(ns.file, smoke=ns.smoke, force_local=ns.local)


def _subcommand_names(parser: argparse.ArgumentParser) -> list[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices)
    return []


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or (args[0] not in COMMAND_NAMES and args[0] not in ("-h", "--help", "--version")):
        return gui_main(args)
    parser = build_parser()
    ns = parser.parse_args(args)
    result: int = ns.func(ns)
    return result


if __name__ == "__main__":
    sys.exit(main())
