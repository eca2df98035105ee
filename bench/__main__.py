"""``python -m bench``: run the benchmarks and write ``bench/RESULTS.md``.

    .venv/bin/python -m bench                       # all of them (make bench)
    .venv/bin/python -m bench --only loadgen --only wallet
    .venv/bin/python -m bench --quick               # fewer and shorter repetitions
    .venv/bin/python -m bench --only platform --baseline-tree /tmp/base  # vs an older tree

Each benchmark's section is written as soon as it is done; with ``--only`` the other
sections of an existing RESULTS.md are kept.
"""

from __future__ import annotations

import argparse
import functools
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench import capacity, chaos, loadgen, plan_check, platform_knee, reports, scaling, wallet
from bench.harness import RESULTS, Config, Row, Section, command_line, write_results

BENCHMARKS: dict[str, tuple[str, Callable[[Config], Section]]] = {
    "loadgen": ("1. Load generator", loadgen.run),
    "capacity": ("2. Player capacity", capacity.run),
    "wallet": ("3. Wallet", wallet.run),
    "reports": ("4. Reports", reports.run),
    "chaos": ("5. Chaos timing", chaos.run),
    "platform": ("6. Platform knee", platform_knee.run),
    "scaling": ("7. Scaling out", scaling.run),
    "plan-check": ("8. Capacity model check", plan_check.run),
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--only", action="append", choices=sorted(BENCHMARKS), help="Run this one (repeatable)."
    )
    parser.add_argument("--quick", action="store_true", help="Fewer and shorter repetitions.")
    parser.add_argument("--repeats", type=int, default=None, help="Repetitions (default 3).")
    parser.add_argument("--results", type=Path, default=RESULTS, help="Where to write.")
    parser.add_argument(
        "--keep", action="store_true", help="Keep the work files (logs, run folders) in /tmp."
    )
    parser.add_argument(
        "--baseline-tree",
        type=Path,
        default=None,
        help="platform: also measure the spikekit of this source tree (e.g. `git archive "
        "COMMIT | tar -x -C DIR`), in the same invocation, and give the ratio.",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 3)
    work_dir = Path(tempfile.mkdtemp(prefix="spikekit-bench-"))
    config = Config(repeats=repeats, quick=args.quick, work_dir=work_dir)
    command = command_line(argv)
    names = args.only or list(BENCHMARKS)
    began = time.monotonic()
    failed = []
    for name in names:
        title, benchmark = BENCHMARKS[name]
        if name == "platform":
            benchmark = functools.partial(
                platform_knee.run, baseline_tree=args.baseline_tree, results=args.results
            )
        print(f"== {title} ({name}), {repeats} run(s)", flush=True)
        started = time.monotonic()
        date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        try:
            section = benchmark(config)
        except Exception as error:  # a broken benchmark is reported, the others still run
            traceback.print_exc()
            failed.append(name)
            section = Section(key=name, title=title, command="", rows=[Row("failed", str(error))])
        section.command = command
        section.date = date
        section.seconds = time.monotonic() - started
        write_results([section], args.results)
        for row in section.rows:
            print(f"  {row.name}: {row.value}  {row.ratio}  {row.target}", flush=True)
        print(f"  ({section.seconds:.0f} s)", flush=True)
    print(f"wrote {args.results} in {time.monotonic() - began:.0f} s")
    if args.keep or failed:
        print(f"work files (logs, run folders): {work_dir}")
    else:
        shutil.rmtree(work_dir, ignore_errors=True)  # run folders and databases: GBs
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
