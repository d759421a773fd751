"""`environments:` — the interpreter, packages, variables and seed that make results reproducible.

The spec states what is *acceptable* (a Python constraint, pins or ranges); the lock written by
`charter env lock NAME` resolves it to exact versions and archive hashes (a PEP 751 pylock.toml) and
records what `charter env check` compares with. Requirements are parsed with `packaging`
(PEP 508), so what the spec accepts is exactly what pip would accept.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from pydantic import AfterValidator, BeforeValidator, Field, field_validator

from charter.core.spec.base import Governed, StrictModel, StrList, _to_list

_VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_BARE_VERSION = re.compile(r"^\d+(\.\d+){0,2}$")

OS_ALIASES: dict[str, str] = {"macos": "darwin", "osx": "darwin", "mac": "darwin", "win": "windows",
                              "win32": "windows", "win64": "windows"}
"""Common spellings of `platform.system()` values, mapped to what Python reports (lower case)."""
ARCH_ALIASES: dict[str, str] = {"amd64": "x86_64", "x64": "x86_64", "arm64": "aarch64"}
"""`platform.machine()` spells the same CPU differently per OS; compare on one spelling."""


def normalise_os(value: str) -> str:
    value = value.strip().lower()
    return OS_ALIASES.get(value, value)


def normalise_arch(value: str) -> str:
    value = value.strip().lower()
    return ARCH_ALIASES.get(value, value)


def python_specifier(constraint: str) -> SpecifierSet:
    """The specifier a `python:` constraint means: `3.11` is any 3.11.x, `3.11.7` exactly that release.

    >>> "3.11.7" in python_specifier("3.11")
    True
    >>> "3.12.0" in python_specifier(">=3.10,<3.12")
    False
    """
    text = constraint.strip()
    if _BARE_VERSION.match(text):
        return SpecifierSet(f"=={text}" if text.count(".") == 2 else f"=={text}.*")
    return SpecifierSet(text)


def _variable_value(value: Any) -> Any:
    # YAML reads `OMP_NUM_THREADS: 1` as an int; the process environment only holds text.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


VariableValue = Annotated[str, BeforeValidator(_variable_value)]


def _requirement(text: str) -> str:
    try:
        Requirement(text)
    except InvalidRequirement as exc:
        first = str(exc).splitlines()[0]
        raise ValueError(f"`{text}` is not a requirement ({first}); write `name==1.2.3` or "
                         "`name>=1.2`") from None
    return text


RequirementText = Annotated[str, AfterValidator(_requirement)]
"""One PEP 508 requirement; validated item by item so that an error points at the item."""


class Platform(StrictModel):
    """Restrict the environment to an OS and/or CPU architecture."""

    os: StrList = Field(default_factory=list)
    """Allowed `platform.system()` values, lower case: `linux`, `darwin`, `windows` (`macos` is accepted)."""
    arch: StrList = Field(default_factory=list)
    """Allowed `platform.machine()` values: `x86_64`, `aarch64` (`amd64` and `arm64` are accepted)."""

    def allows(self, os_name: str, arch: str) -> tuple[bool, bool]:
        """Whether the OS and the architecture are allowed (an empty list allows anything)."""
        os_ok = not self.os or normalise_os(os_name) in {normalise_os(o) for o in self.os}
        arch_ok = not self.arch or normalise_arch(arch) in {normalise_arch(a) for a in self.arch}
        return os_ok, arch_ok


class Environment(Governed):
    """A reproducibility environment. `charter env lock NAME` resolves it and writes its lock next to the spec."""

    KIND: ClassVar[str] = "environment"

    python: str | None = None
    """Python version constraint: `3.11` (any 3.11.x), `>=3.11,<3.13`, `3.11.7` (exactly)."""
    packages: Annotated[list[RequirementText], BeforeValidator(
        _to_list, json_schema_input_type=str | list[str])] = Field(default_factory=list)
    """Requirements in pip syntax (PEP 508): exact pins (`duckdb==1.1.3`) or ranges (`pandas>=2.2`)."""
    variables: dict[str, VariableValue] = Field(default_factory=dict)
    """Environment variables runs depend on (e.g. `TZ: UTC`); `charter env check` reports a difference."""
    seed: int | None = Field(default=None, ge=0)
    """Random seed for anything that samples; recorded in every run manifest."""
    platform: Platform | None = None
    """Allowed operating systems and CPU architectures."""
    lock_file: str | None = None
    """Where the lock is kept, relative to the project root (default: `<spec file stem>.<name>.lock.json`
    next to the spec file); its `pylock.<name>.toml` is written beside it. It must be a `.json` file: YAML
    files are read as specs."""

    @field_validator("packages")
    @classmethod
    def _check_duplicates(cls, packages: list[str]) -> list[str]:
        seen: dict[str, str] = {}
        for req in packages:
            name = Requirement(req).name
            key = canonicalize_name(name)
            if key in seen:
                raise ValueError(f"`{name}` is listed twice (`{seen[key]}` and `{req}`); keep one")
            seen[key] = req
        return packages

    @field_validator("python")
    @classmethod
    def _check_python(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            spec = python_specifier(value)
        except InvalidSpecifier:
            spec = None
        if spec is None or not str(spec):
            raise ValueError(f"`{value}` is not a Python version constraint; write `3.11` or `>=3.11,<3.13`")
        return value

    @field_validator("variables")
    @classmethod
    def _check_variables(cls, variables: dict[str, str]) -> dict[str, str]:
        for name in variables:
            if not _VARIABLE_NAME.match(name):
                raise ValueError(f"`{name}` is not an environment variable name (letters, digits and `_`, "
                                 "not starting with a digit)")
        return variables

    @field_validator("lock_file")
    @classmethod
    def _check_lock_file(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.endswith(".json"):
            raise ValueError(f"`{value}` must be a `.json` file (YAML files in a project are read as specs)")
        parts = value.replace("\\", "/").split("/")
        if value.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", value) or ".." in parts:
            raise ValueError(f"`{value}` must be a path inside the project, relative to its root")
        return value

    def requirements(self) -> list[Requirement]:
        return [Requirement(req) for req in self.packages]

    def python_specifier(self) -> SpecifierSet | None:
        return python_specifier(self.python) if self.python else None
