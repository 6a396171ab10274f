"""A one-line terminal progress bar, redrawn in place."""

from __future__ import annotations

import shutil
from typing import TextIO


def render_bar(label: str, state: dict, width: int | None = None) -> str:
    columns = width or shutil.get_terminal_size((100, 20)).columns
    percent = float(state.get("percent") or 0.0)
    bar_width = 24
    filled = int(bar_width * min(percent, 100.0) / 100)
    bar = "#" * filled + "-" * (bar_width - filled)
    stage = state.get("stage") or state.get("status", "")
    eta = f" ~{int(state['eta_s'])}s left" if state.get("eta_s") and not state.get("finished") else ""
    line = f"{label:<18} [{bar}] {percent:5.1f}% {state.get('status', ''):<9} {stage}{eta}"
    return line[: columns - 1]


class TerminalBars:
    """Draws one line per run; only on a terminal (scripts and CI get the final summary only)."""

    def __init__(self, stream: TextIO):
        self.stream = stream
        self.enabled = stream.isatty()
        self._lines_drawn = 0

    def draw(self, lines: list[str]) -> None:
        if not self.enabled:
            return
        if self._lines_drawn:
            self.stream.write(f"\x1b[{self._lines_drawn}F")
        for line in lines:
            self.stream.write("\x1b[2K" + line + "\n")
        self.stream.flush()
        self._lines_drawn = len(lines)
