"""Print what the spikekit image installs: pyproject.toml's dependencies minus the host-only ones.

    python deploy/container/requirements.py pyproject.toml NAME... > requirements.txt

The image runs the platform's services, PostgreSQL, Redis, the seed and ``spikekit
worker``; the NAMEs given (the report makers: pandas, matplotlib) are needed only where
reports are made, on the host, so they stay out of it. docs/containers.md.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path


def requirement_name(requirement: str) -> str:
    return re.split(r"[\s<>=!~\[;(]", requirement.strip(), maxsplit=1)[0].lower()


def main(pyproject: Path, excluded: set[str]) -> list[str]:
    dependencies: list[str] = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    names = {requirement_name(d) for d in dependencies}
    unknown = excluded - names
    if unknown:
        raise SystemExit(f"requirements.py: not dependencies of {pyproject}: {sorted(unknown)}")
    return [d for d in dependencies if requirement_name(d) not in excluded]


if __name__ == "__main__":
    print("\n".join(main(Path(sys.argv[1]), {n.lower() for n in sys.argv[2:]})))
