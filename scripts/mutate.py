#!/usr/bin/env python3
"""Plant each mutation of mutations/ in a temporary copy of the repository and see whether the tests notice.

Every ``mutations/*.patch`` is a small unified diff (``git diff`` output) with a
header of two lines before it::

    Mutation: what the planted bug does
    Kill: tests/test_foo.py -k "bar"       (the pytest arguments that must fail)

For each patch, in order: apply it to a copy of the working tree, run pytest
with the ``Kill`` arguments against the copy, print ``killed`` (the tests
failed) or ``survived`` (they passed), and undo the patch. The closing line is
``N killed, M survived``; the exit status is 0 only when every mutation was
killed. A patch that no longer applies is reported as ``stale`` and fails the
run: regenerate it against the current code.

    python scripts/mutate.py                 every mutation
    python scripts/mutate.py receptive       only those whose file name contains "receptive"
    python scripts/mutate.py --check         only check that every patch still applies
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTATIONS = ROOT / "mutations"


@dataclass(frozen=True)
class Mutation:
    path: Path
    """The patch file."""
    what: str
    """What the planted bug does."""
    kill: list[str]
    """pytest arguments that must fail with the bug in place."""

    @property
    def name(self) -> str:
        return self.path.stem


def read_mutation(path: Path) -> Mutation:
    header = path.read_text(encoding="utf-8").split("\ndiff --git ", 1)[0]
    fields = dict(line.split(": ", 1) for line in header.splitlines() if ": " in line)
    if "Mutation" not in fields or "Kill" not in fields:
        raise SystemExit(f"mutate: {path.name} needs 'Mutation: ...' and 'Kill: ...' lines before the diff")
    return Mutation(path, fields["Mutation"].strip(), shlex.split(fields["Kill"]))


def mutations(names: list[str]) -> list[Mutation]:
    found = [read_mutation(p) for p in sorted(MUTATIONS.glob("*.patch"))]
    return [m for m in found if not names or any(n in m.name for n in names)]


def git_apply(copy: Path, patch: Path, *flags: str) -> bool:
    result = subprocess.run(["git", "apply", *flags, str(patch)], cwd=copy, capture_output=True, text=True, check=False)
    return result.returncode == 0


def copy_of_the_tree(into: Path) -> Path:
    """The working tree's tracked and new files (not the ignored ones), as a git repository to apply patches in."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)
    subprocess.run(["git", "init", "-q"], cwd=into, check=True)
    return into


def run_tests(copy: Path, mutation: Mutation) -> int:
    env = {k: v for k, v in os.environ.items() if k != "UNET_EXPLAIN_ALLOW_SKIP"}
    env |= {"PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *mutation.kill]
    return subprocess.run(command, cwd=copy, env=env, capture_output=True, check=False).returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="only the mutations whose file name contains one of these")
    parser.add_argument("--check", action="store_true", help="only check that every patch still applies")
    args = parser.parse_args()
    chosen = mutations(args.names)
    if not chosen:
        print("mutate: no mutation matches", file=sys.stderr)
        return 2
    killed = survived = stale = 0
    with tempfile.TemporaryDirectory(prefix="unet-mutate-") as tmp:
        copy = copy_of_the_tree(Path(tmp))
        for mutation in chosen:
            if not git_apply(copy, mutation.path, "--check"):
                stale += 1
                print(f"stale     {mutation.name}: the patch no longer applies; regenerate it")
                continue
            if args.check:
                print(f"applies   {mutation.name}")
                continue
            git_apply(copy, mutation.path)
            started = time.monotonic()
            try:
                status = run_tests(copy, mutation)
            finally:
                git_apply(copy, mutation.path, "-R")
            seconds = time.monotonic() - started
            if status == 1:
                killed += 1
                verdict = "killed"
            elif status == 0:
                survived += 1
                verdict = "SURVIVED"
            else:  # collection errors, no tests selected, an interrupted run: the check itself is broken
                stale += 1
                verdict = f"error {status}"
            print(f"{verdict:<9} {mutation.name}: {mutation.what}  ({seconds:.0f} s)", flush=True)
    if args.check:
        print(f"{len(chosen) - stale} apply, {stale} stale")
        return 1 if stale else 0
    print(f"{killed} killed, {survived} survived" + (f", {stale} stale or broken" if stale else ""))
    return 0 if survived == 0 and stale == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
