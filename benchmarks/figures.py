"""Write a benchmark's figures into its own section of benchmarks/README.md, leaving the others alone."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent / "README.md"


def write_figures(name: str, section: str, text: str) -> None:
    """Replace the block between ``<!-- name:begin -->`` and ``<!-- name:end -->`` with ``text`` (shown as a
    code block); on first use, append ``section`` (its heading and explanation) followed by the block."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    block = f"{begin}\n```\n{text}\n```\n{end}"
    current = README.read_text(encoding="utf-8") if README.exists() else "# Benchmarks\n"
    if begin in current and end in current:
        current = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block, current, flags=re.S)
    else:
        current = current.rstrip("\n") + "\n\n" + section + block + "\n"
    README.write_text(current, encoding="utf-8")
