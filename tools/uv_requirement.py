"""Print uv's pin from uv.lock as a hash-checked requirement, so pip can bootstrap the locked uv.

`make` runs this with the system Python (standard library only) before any virtual environment
exists: uv.lock stays the one place where versions and hashes are written.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path


def uv_requirement(lock: Path) -> str:
    data = tomllib.loads(lock.read_text(encoding="utf-8"))
    for package in data.get("package", []):
        if package.get("name") == "uv":
            hashes = [artifact["hash"] for artifact in package.get("wheels", []) if "hash" in artifact]
            if "sdist" in package and "hash" in package["sdist"]:
                hashes.append(package["sdist"]["hash"])
            if not hashes:
                break
            lines = [f"uv=={package['version']}"] + [f"--hash={digest}" for digest in hashes]
            return " \\\n    ".join(lines) + "\n"
    raise SystemExit(f"error: {lock} pins no hashed `uv`: run `make lock` (uv must stay a dependency)")


if __name__ == "__main__":
    sys.stdout.write(uv_requirement(Path(sys.argv[1] if len(sys.argv) > 1 else "uv.lock")))
