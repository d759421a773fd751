"""`environments:` — the interpreter, packages, variables and seed that make results reproducible."""

from __future__ import annotations

import re
from typing import ClassVar

from pydantic import Field, field_validator

from charter.core.spec.base import Governed, StrictModel, StrList

_REQUIREMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]*(\[[A-Za-z0-9_,\- ]+\])?\s*((==|>=|<=|~=|!=|>|<|===)\s*[^\s,;]+"
                          r"(\s*,\s*(==|>=|<=|~=|!=|>|<)\s*[^\s,;]+)*)?$")


class Platform(StrictModel):
    """Restrict the environment to an OS and/or CPU architecture."""

    os: StrList = []
    """Allowed `platform.system()` values in lower case: `linux`, `darwin`, `windows`."""
    arch: StrList = []
    """Allowed `platform.machine()` values: `x86_64`, `arm64`, `aarch64`."""


class Environment(Governed):
    """A reproducibility environment. `charter env lock NAME` records the running one next to the spec."""

    KIND: ClassVar[str] = "environment"

    python: str | None = None
    """Python version constraint: `3.11` (any 3.11.x), `>=3.11,<3.13`, `3.11.7`."""
    packages: StrList = []
    """Requirements in pip syntax: exact pins (`duckdb==1.1.3`) or ranges (`pandas>=2.2`)."""
    variables: dict[str, str] = {}
    """Environment variables set for runs (e.g. `TZ: UTC`)."""
    seed: int | None = Field(default=None, ge=0)
    """Random seed for anything that samples."""
    platform: Platform | None = None
    lock_file: str | None = None
    """Where the lock is kept (default: `<spec file stem>.<name>.lock.json` next to the spec)."""

    @field_validator("packages")
    @classmethod
    def _check_requirements(cls, packages: list[str]) -> list[str]:
        for req in packages:
            if not _REQUIREMENT.match(req.strip()):
                raise ValueError(f"`{req}` is not a requirement; write `name==1.2.3` or `name>=1.2`")
        return packages

    @field_validator("python")
    @classmethod
    def _check_python(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^(\d+(\.\d+){0,2}|((==|>=|<=|~=|!=|>|<)\s*\d+(\.\d+){0,2}"
                                              r"(\s*,\s*(==|>=|<=|~=|!=|>|<)\s*\d+(\.\d+){0,2})*))$",
                                              value.strip()):
            raise ValueError(f"`{value}` is not a Python version constraint; write `3.11` or `>=3.11,<3.13`")
        return value
