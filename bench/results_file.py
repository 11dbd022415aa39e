"""Append a benchmark's figures to its own section of bench/RESULTS.md (shared by the benchmarks)."""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path


def heading() -> str:
    """The date and machine that head a recorded entry: '### YYYY-MM-DD HH:MM UTC, node, N CPUs'."""
    return (f"### {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.node()}, "
            f"{len(os.sched_getaffinity(0))} CPUs")


def record(path, section: str, text: str) -> None:
    """Append ``text`` at the end of ``section`` (a "## ..." heading) of ``path``; make either if missing."""
    path = Path(path)
    content = path.read_text() if path.exists() else "# Benchmark results\n"
    if section not in content:
        content = content.rstrip("\n") + f"\n\n{section}\n"
    head, tail = content.split(section, 1)
    nxt = tail.find("\n## ")
    body, rest = (tail, "") if nxt < 0 else (tail[:nxt], tail[nxt:])
    path.write_text(head + section + body.rstrip("\n") + "\n\n" + text.strip("\n") + "\n" + rest)
