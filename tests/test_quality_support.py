"""Helpers shared by the quality tests (this module holds no test of its own).

- ``charter(capsys, *args)``: the command line run in-process, exactly as the console script runs it;
- ``copy_example(tmp)``: a private copy of the example project, so that runs never touch
  ``specs/.charter`` and never race other tests for its DuckDB files.
"""

from __future__ import annotations

import gc
import shutil
from pathlib import Path

import pytest

from charter.core.cli import main

SPECS = Path(__file__).resolve().parents[1] / "specs"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "quality"


def charter(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``charter ARGS``."""
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    code = int(exited.value.code or 0)
    del exited  # the exit's chained exception holds the closed engine through its traceback: free it now
    gc.collect()
    out = capsys.readouterr()
    return code, out.out, out.err


def copy_example(folder: Path) -> Path:
    root = folder / "specs"
    shutil.copytree(SPECS, root, ignore=shutil.ignore_patterns(".charter"))
    return root
