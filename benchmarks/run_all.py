"""``make bench``: runs every benchmark and prints one table — figure, ours, floor, ratio, limit, goal.

Each ``*_bench.py`` prints its own human-readable figures and one ``BENCH {json}`` line per figure
(``benchlib.report``); this collects those lines. Exit 0 even when a figure misses its floor: it
is a measurement, not a test.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/run_all.py [--only NAME ...]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from benchlib import PREFIX

HERE = Path(__file__).resolve().parent
EXTRA_ARGS = {"startup_bench.py": ["--breakdown"]}  # make bench also shows where start-up's time goes


def run(script: Path) -> list[dict[str, object]]:
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    print(f"== {script.name}", flush=True)
    command = [sys.executable, str(script), *EXTRA_ARGS.get(script.name, [])]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1800)
    rows = []
    for line in done.stdout.splitlines():
        if line.startswith(PREFIX):
            rows.append(json.loads(line[len(PREFIX) :]))
        else:
            print("   " + line)
    if done.returncode != 0:
        print(f"   (exit {done.returncode}) {done.stderr[-1500:]}")
    return rows


def fmt(value: object, unit: str = "") -> str:
    if value is None:
        return "–"
    assert isinstance(value, int | float)
    return f"{value:.2f}{unit}" if abs(value) < 100 else f"{value:.0f}{unit}"


def table(rows: list[dict[str, object]]) -> str:
    head = ("figure", "ours", "floor", "ratio/value", "limit", "goal", "")
    lines = [head]
    for r in rows:
        unit = str(r["unit"])
        sign = "≤" if r["better"] == "lower" else "≥"
        kind = "×" if r["kind"] == "ratio" else f" {unit}"
        lines.append(
            (
                str(r["figure"]),
                fmt(r["ours"], f" {unit}"),
                fmt(r["floor"], f" {unit}"),
                fmt(r["value"], kind),
                f"{sign} {fmt(r['limit'], kind)}",
                f"{sign} {fmt(r['goal'], kind)}",
                "meets" if r["meets"] else "MISSES",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    out = []
    for n, line in enumerate(lines):
        out.append("| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)) + " |")
        if n == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="bench names (e.g. startup typing)")
    args = parser.parse_args()
    scripts = sorted(HERE.glob("*_bench.py"))
    if args.only:
        scripts = [s for s in scripts if any(s.name.startswith(n) for n in args.only)]
    rows: list[dict[str, object]] = []
    for script in scripts:
        # Each starts on a settled machine: the previous one's dirty pages (a 200 MB download,
        # a 10,000-job store) written out first, so their writeback lands in nobody's figures.
        os.sync()
        time.sleep(2)
        rows.extend(run(script))
    print()
    print(f"{datetime.date.today().isoformat()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
