"""Sub-commands ``serve-local`` (the local Kling-compatible server) and ``animatic`` (render a project).

Heavy imports (uvicorn, Starlette, PyAV) happen inside the commands, so the GUI starts fast.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from types import FrameType
from typing import Any

EXIT_OK, EXIT_INVALID, EXIT_UNREADABLE = 0, 1, 2

_FAULTS_HELP = """\
fault SPEC: comma-separated items kind[=value][@route], plus seed=N and retry_after=S
  kind      429 | 500 | 502 | 503   answer that error (429 with Retry-After, default 1 s)
            reset     drop the TCP connection without an answer (the request is processed)
            slow      delay answers by value seconds (every matching request)
            truncate  send Content-Length, then close after half the body
            fail      the created task ends failed         (submit only)
            object    submit answers data as an object      (submit only; default: every submit)
            expire    result links live value seconds (default 1), then 403 "expired" (submit only)
  value     N = the next N matching requests; 0<p<=1 = probability per request (seed=N);
            no value = the next request
  route     submit | status | upload | download | schema
            (default: every route; download for truncate; submit for fail/object/expire)
  example   429=2@submit,500=0.2@status,reset=1@download,truncate=1,fail=0.1,seed=7
"""


def register(sub: Any) -> None:
    serve = sub.add_parser(
        "serve-local",
        help="run the local Kling-compatible server (animatics instead of real videos)",
        description="Serve the APIMart Kling 3.0 Turbo contract locally. Prints the base URL as the "
        "first line of standard output once it accepts connections; stops on Ctrl+C or SIGTERM.",
        epilog=_FAULTS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, loopback only)")
    serve.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one (default)")
    serve.add_argument("--api-key", default=None, help="accept only this key (default: any non-empty Bearer token)")
    serve.add_argument(
        "--task-seconds", type=_non_negative_float, default=3.0, help="how long each task takes (default 3)"
    )
    serve.add_argument("--faults", default="", metavar="SPEC", help="faults to inject (grammar below)")
    serve.add_argument("--data-dir", default=None, help="keep uploads and videos here (default: a temporary folder)")
    serve.add_argument("--fps", type=_positive_int, default=24, help="frame rate of rendered videos (default 24)")
    serve.add_argument(
        "--exit-with-parent",
        action="store_true",
        help="stop when the process that started this one goes away (used by the app's embedded backend)",
    )
    serve.set_defaults(func=run_serve_local)

    animatic = sub.add_parser(
        "animatic",
        help="render a project file as an animatic MP4 (no server, no network)",
        description="Render a *.kling.json storyboard as an H.264 animatic: one card per shot, "
        "exactly the storyboard's seconds, at the project's (or the given) resolution.",
    )
    animatic.add_argument("file", help="a *.kling.json project file")
    animatic.add_argument("-o", "--output", default=None, help="the MP4 to write (default: next to FILE)")
    animatic.add_argument("--resolution", choices=("720p", "1080p"), default=None, help="override the project's")
    animatic.add_argument("--fps", type=_positive_int, default=24, help="frame rate (default 24)")
    animatic.set_defaults(func=run_animatic)


def _non_negative_float(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def run_serve_local(args: argparse.Namespace) -> int:
    import logging

    from kling_studio.localapi.faults import FaultSpec, FaultSpecError
    from kling_studio.localapi.runner import LocalServer
    from kling_studio.localapi.server import LocalServerConfig
    from kling_studio.services.api_guards import is_loopback

    try:
        faults = FaultSpec.parse(args.faults)
    except FaultSpecError as exc:
        print(f"kling-studio serve-local: --faults: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    config = LocalServerConfig(
        api_key=args.api_key, task_seconds=args.task_seconds, faults=faults, data_dir=args.data_dir, fps=args.fps
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    if args.exit_with_parent and hasattr(os, "nice"):
        # The app's embedded preview server renders at low CPU priority (every thread it starts
        # inherits it), so hundreds of renders never starve the app's event loop and window.
        with contextlib.suppress(OSError):
            os.nice(10)
    server = LocalServer(config, host=args.host, port=args.port)
    try:
        try:
            url = server.start()
        except (RuntimeError, OSError) as exc:
            print(f"kling-studio serve-local: {exc}", file=sys.stderr)
            return EXIT_UNREADABLE
        print(url, flush=True)
        if not is_loopback(args.host):
            print(
                f"warning: listening on {args.host}, not loopback: anyone who can reach this machine can use it",
                file=sys.stderr,
                flush=True,
            )
        print(f"serving the local Kling API at {url} (Ctrl+C to stop)", file=sys.stderr, flush=True)
        parent = os.getppid()
        while not stop.wait(0.5):
            # Reparented: the app that owns this server died (even by SIGKILL); do not linger.
            if args.exit_with_parent and os.getppid() != parent:
                break
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return EXIT_OK


def run_animatic(args: argparse.Namespace) -> int:
    from kling_studio.localapi.animatic import render_animatic
    from kling_studio.localapi.project_render import AnimaticError, default_output, plan_project

    try:
        plan = plan_project(args.file, args.resolution)
    except AnimaticError as exc:
        print(f"kling-studio: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE if exc.unreadable else EXIT_INVALID
    for note in plan.notes:
        print(f"note: {note}", file=sys.stderr)
    out = args.output or default_output(args.file)
    try:
        path = render_animatic(
            plan.shots,
            out,
            width=plan.width,
            height=plan.height,
            fps=args.fps,
            first_frame=plan.first_frame,
            title=plan.title,
        )
    except (OSError, ValueError) as exc:
        print(f"kling-studio: cannot render {out}: {exc}", file=sys.stderr)
        return EXIT_INVALID
    seconds = sum(seconds for _, seconds in plan.shots)
    print(path)
    print(f"{len(plan.shots)} shots, {seconds} s, {plan.width}×{plan.height} at {args.fps} fps", file=sys.stderr)
    return EXIT_OK
