"""Every exception class spikekit defines derives from the one root, SpikekitError.

Read from the source (importing every module would start Locust's gevent patching): a
class whose only bases are built-in exceptions is outside the root.
"""

from __future__ import annotations

import ast
import builtins
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "spikekit"
BUILTIN_EXCEPTIONS = {
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
}
#: Private control-flow signals that never leave their module.
PRIVATE = {
    ("load/http.py", "_ClosedBeforeAnswer"),
    ("reference_platform/payments/adapters/wallet_client.py", "_Retry"),
    ("reference_platform/providers/rounds.py", "_Settled"),
    ("telemetry/prometheus.py", "_Unreadable"),
}
ROOT = ("errors.py", "SpikekitError")


def _outside_the_root(package: Path = PACKAGE) -> list[tuple[str, str]]:
    outside = []
    for path in sorted(package.rglob("*.py")):
        where = path.relative_to(package).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef) or not node.bases:
                continue
            bases = [b.id if isinstance(b, ast.Name) else ast.unparse(b) for b in node.bases]
            if all(b in BUILTIN_EXCEPTIONS for b in bases):
                outside.append((where, node.name))
    return [c for c in outside if c not in PRIVATE and c != ROOT]


def test_every_exception_is_under_the_root() -> None:
    assert _outside_the_root() == []


def test_the_check_finds_a_class_outside(tmp_path: Path) -> None:
    (tmp_path / "mod.py").write_text(
        "class Oops(ValueError):\n    pass\n\n\nclass Fine(SpikekitError, ValueError):\n    pass\n"
    )
    assert _outside_the_root(tmp_path) == [("mod.py", "Oops")]
