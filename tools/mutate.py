"""Mutation testing of the driver's safety-critical modules: `make mutate`, or `make mutate MODULE=release/state/record.py`.

Each module is mutated by mutmut (3.x) against the fast tests that run its code (its folder, `tests/release/<room>`,
and the files elsewhere that reach it; never the `rehearsal` and `registry` tiers), so a run stays practical on a
small machine: mutmut first runs that selection once to learn which tests reach which function, then runs, for each
mutant, only the tests that reach the mutated function, stopping at the first failure (mutmut's README, "How it works": a trampoline in
every function, `MUTANT_UNDER_TEST`, tests per function from the stats run).

Every module has its own workspace, `.release/mutate/<module>/`: a copy of the project's files with a
`[tool.mutmut]` section for that module, and mutmut's own `mutants/` directory inside it. A workspace is reused
while its module is unchanged (the rest of the project copied in afresh), so an interrupted run carries on where it
stopped; when anything else in the project changed since its last run started, the survivors are tested again.
`--fresh` starts again. After each module the summary (killed, survived, equivalent, timeout, no tests, score)
and each survivor's diff are written to `.release/mutate/report.json` and `.release/mutate/report.md`, beside
the results of the modules measured earlier, each with the commit it measured.

A survivor judged equivalent (nothing a caller can see changes) is written down in `tools/equivalent_mutants.toml`
with its change and the reason; the report counts it as equivalent only while mutmut still makes that very change
under that name, so an edit of the module that renumbers its mutants cannot hide a new survivor behind an old reason.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess  # noqa: S404 - git and mutmut, run with argument lists
import sys
import tomllib
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, TypeVar

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / ".release" / "mutate"
EQUIVALENT = Path(__file__).resolve().parent / "equivalent_mutants.toml"

# The safety-critical modules, in the order a run takes them (those guarding the record and the stores first),
# each with the fast tests it is mutated against: its own folder, and where that folder reaches it only in part,
# the fast test files elsewhere that exercise it. Those files were found by coverage's per-test contexts over the
# fast tier of `tests/release`, `tests/bench` and `tests/rehearsal` (`dynamic_context = test_function`): for
# example the executor's abort and promote are run by the rollback, race and command tests, not by its folder's.
# The analysis takes only the files whose subject is a verdict (bakes, environment signals, the bench, the
# world's percentiles, the panel): every release test judges, and with them all its first 20 mutants took 20 minutes.
STATE, ROLLBACK, STRATEGIES, JUDGEMENT = (f"tests/release/{room}" for room in ("state", "rollback", "strategies", "judgement"))
RACES = ("tests/release/state/test_races.py", "tests/release/state/test_driver_races.py", "tests/release/state/test_marked_records.py")
COMMANDS = ("tests/release/commands/test_rollback.py", "tests/release/commands/test_faults.py", "tests/release/commands/test_driver.py")
MODULES: dict[str, tuple[str, ...]] = {
    "release/state/record.py": (STATE,),
    "release/state/store.py": (STATE,),
    "release/state/file.py": (STATE,),
    "release/rollback/common.py": (ROLLBACK,),
    "release/judgement/staging_gate.py": (JUDGEMENT,),
    "release/strategies/decommission.py": (STRATEGIES,),
    "release/state/esc.py": (STATE,),
    "release/strategies/executor.py": (STRATEGIES, ROLLBACK, *RACES, *COMMANDS, "tests/release/judgement/test_staging_gate.py"),
    "release/strategies/steps.py": (STRATEGIES, ROLLBACK, *RACES, *COMMANDS, "tests/release/output/test_panel_report.py"),
    "release/strategies/runner.py": (STRATEGIES, ROLLBACK, *RACES, *COMMANDS, "tests/release/judgement/test_staging_gate.py"),
    "release/strategies/rolling.py": (STRATEGIES, ROLLBACK, *RACES, *COMMANDS),
    "release/strategies/canary.py": (STRATEGIES, ROLLBACK, *RACES, *COMMANDS, "tests/release/judgement/test_staging_gate.py"),
    "release/rollback/fast.py": (ROLLBACK, "tests/release/strategies/test_decommission.py", *RACES, *COMMANDS),
    "release/rollback/rolling.py": (ROLLBACK,),
    "release/rollback/to_version.py": (ROLLBACK, *COMMANDS),
    "release/rollback/resume.py": (ROLLBACK, *RACES, *COMMANDS, "tests/release/strategies/test_rolling.py"),
    "release/rollback/migrate.py": (ROLLBACK, *COMMANDS, "tests/release/strategies/test_safety_checks.py"),
    "release/judgement/analysis.py": (
        JUDGEMENT, "tests/release/strategies/test_bake.py", "tests/release/strategies/test_environment.py",
        "tests/release/output/test_panel_report.py", "tests/bench/test_canary.py", "tests/rehearsal/world/test_percentiles.py",
    ),
}

# What the tests of those folders read besides `release/` (mutmut copies `tests/` and `pyproject.toml` itself).
ALSO_COPY = [
    "components", "offline", "rehearsal", "policy", "tools", "bench", "environments", "schemas", "docs",
    "__main__.py", "Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.production.yaml", "README.md",
]

# One test process (no xdist workers), no rehearsals: the focused, fast selection.
PYTEST_ARGS = ["-p", "no:xdist", "-p", "no:cacheprovider", "-m", "not rehearsal and not registry"]

# mutmut's exit codes per mutant, grouped as the report counts them (mutmut/stats.py, `status_by_exit_code`).
KILLED = {1, 3, 37}
SURVIVED = {0}
TIMEOUT = {36, -24, 24, 152, 255}
NO_TESTS = {5, 33}


# mutmut's record of its stats run, in the folder it runs the tests from (`mutants/`): each test's duration, by node id.
STATS = "mutmut-stats.json"


class Ordered(Protocol):
    """What ordering needs of a collected test."""

    @property
    def nodeid(self) -> str:
        """The test's id, as pytest gives it and mutmut records it."""


Test = TypeVar("Test", bound=Ordered)


def quickest_first(items: list[Test], mutant: str, stats: Path) -> bool:
    """Under mutmut's run of one mutant, sort the tests quickest first by the durations its stats run recorded.

    mutmut stops a mutant's tests at the first failure (`-x`) and hands them over in no set order, so a mutant the
    quickest test kills can wait behind minutes of others. The order changes no verdict: a survivor still runs every
    test. Only a mutant's run is reordered (mutmut names it ``<module>.x_<function>__mutmut_<n>`` in
    `MUTANT_UNDER_TEST`; the clean and stats runs keep the suite's own order); False when it was not one.
    """
    if "__mutmut_" not in mutant or not stats.is_file():
        return False
    try:
        took: dict[str, float] = json.loads(stats.read_text())["duration_by_test"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    unknown = max(took.values(), default=0.0)  # a test the stats run did not see: weighed as the slowest
    items.sort(key=lambda item: took.get(item.nodeid, unknown))
    return True


class MutateError(Exception):
    """Bad input or a failed run, said in one line."""


@dataclass
class ModuleResult:
    """One module's measurement: the counts, the score, and what survived."""

    module: str
    tests: str
    commit: str
    measured: str
    killed: int = 0
    survived: int = 0
    timeout: int = 0
    no_tests: int = 0
    other: int = 0
    not_checked: int = 0
    survivors: dict[str, str] = field(default_factory=dict)
    equivalent: dict[str, str] = field(default_factory=dict)
    """Survivors written down as equivalent: name -> the reason."""

    @property
    def total(self) -> int:
        """Every mutant mutmut made of the module."""
        return self.killed + self.survived + len(self.equivalent) + self.timeout + self.no_tests + self.other + self.not_checked

    @property
    def checked(self) -> int:
        """Every mutant a test run gave a verdict."""
        return self.total - self.not_checked

    @property
    def score(self) -> float | None:
        """Detected over checked: a timeout counts as detected, a mutant no test reaches as missed."""
        return (self.killed + self.timeout) / self.checked if self.checked else None

    @property
    def explained(self) -> float | None:
        """Detected or written down as equivalent, over checked: 100% leaves no unexplained survivor."""
        return (self.killed + self.timeout + len(self.equivalent)) / self.checked if self.checked else None


def slug(module: str) -> str:
    """The workspace's folder name for a module."""
    return module.removesuffix(".py").replace("/", "-")


def mutmut_section(module: str, tests: tuple[str, ...]) -> str:
    """The `[tool.mutmut]` section a module's workspace runs with."""

    def array(items: list[str]) -> str:
        return "[" + ", ".join(json.dumps(item) for item in items) + "]"

    return (
        "\n[tool.mutmut]\n"
        'source_paths = ["release"]\n'
        f"only_mutate = {array([module])}\n"
        f"also_copy = {array(ALSO_COPY)}\n"
        f"pytest_add_cli_args = {array(PYTEST_ARGS)}\n"
        f"pytest_add_cli_args_test_selection = {array(list(tests))}\n"
    )


def git(*args: str) -> str:
    """A git command's output in the project."""
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True)  # noqa: S603, S607
    return done.stdout.strip()


def project_files() -> list[str]:
    """The project's files as they are now (tracked or new, not ignored)."""
    return [f for f in git("ls-files", "-co", "--exclude-standard").splitlines() if (ROOT / f).is_file()]


def digest(names: list[str]) -> str:
    """The files' names and text, hashed."""
    hashed = hashlib.sha256()
    for name in sorted(names):
        hashed.update(name.encode() + b"\0" + (ROOT / name).read_bytes())
    return hashed.hexdigest()


def rest_of(module: str) -> list[str]:
    """The project's files other than the module: what a reused workspace takes afresh."""
    return [name for name in project_files() if name != module]


def prepare(module: str, tests: tuple[str, ...], fresh: bool, met: str) -> tuple[Path, bool]:
    """The module's workspace, and whether the rest of the project (``met``, its digest now) changed since the last run.

    Reused while the module is unchanged, with the rest of the project copied in again (mutmut finds new tests
    itself) and the module's `[tool.mutmut]` section added to the fresh `pyproject.toml`; copied afresh when the
    module changed, since every mutant is then another.
    """
    work = OUT / slug(module)
    stamp, rest_stamp = work / ".module", work / ".rest"
    if not fresh and stamp.is_file() and stamp.read_text() == digest([module]):
        # Everything but the module is brought up to date, in the workspace and in mutmut's copy of it: a test
        # written since may need code written since, and the mutants of an unchanged module stay the same mutants.
        others = rest_of(module)
        for base in (work, work / "mutants"):
            if base.is_dir():
                for name in others:
                    target = base / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(ROOT / name, target)
                with (base / "pyproject.toml").open("a") as pyproject:
                    pyproject.write(mutmut_section(module, tests))
        if not (work / "mutants").is_dir():
            # Never run (prepared, then stopped before mutmut began): no verdict yet, so no survivor to test again.
            return work, False
        # Unknown (a run stopped before its end): the survivors so far meet the project as it is now.
        return work, not rest_stamp.is_file() or rest_stamp.read_text() != met
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    for name in project_files():
        target = work / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    with (work / "pyproject.toml").open("a") as pyproject:
        pyproject.write(mutmut_section(module, tests))
    stamp.write_text(digest([module]))
    (work / ".commit").write_text(measured_commit(module))
    return work, False


def measured_commit(module: str) -> str:
    """The commit a workspace is made from, marked when the module differs from it."""
    head = git("rev-parse", "--short=12", "HEAD")
    return head + ("+changes" if git("status", "--porcelain", "--", module) else "")


def change_of(diff: str) -> str:
    """A mutant's change: the removed and added lines of its diff, stripped, without the file headers."""
    lines = [line for line in diff.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    return "\n".join(line[0] + line[1:].strip() for line in lines)


@dataclass(frozen=True)
class Equivalent:
    """A survivor judged equivalent: the change mutmut made, and why no caller can tell."""

    change: str
    why: str


def equivalents(path: Path = EQUIVALENT) -> dict[str, dict[str, Equivalent]]:
    """The survivors written down as equivalent, by module, then mutant name."""
    try:
        entries = tomllib.loads(path.read_text()).get("equivalent", [])
    except (OSError, tomllib.TOMLDecodeError) as exc:
        msg = f"{path.name}: {exc}"
        raise MutateError(msg) from exc
    found: dict[str, dict[str, Equivalent]] = {}
    for number, entry in enumerate(entries, 1):
        missing = [key for key in ("module", "mutant", "change", "why") if not str(entry.get(key, "")).strip()]
        if missing or entry["module"] not in MODULES:
            problem = f"needs {', '.join(missing)}" if missing else f"module {entry['module']!r} is not a mutated module"
            msg = f"{path.name}: entry {number} ({entry.get('mutant', '?')}) {problem}"
            raise MutateError(msg)
        found.setdefault(entry["module"], {})[entry["mutant"]] = Equivalent(change_of(entry["change"]), entry["why"].strip())
    return found


def tally(module: str, tests: str, exit_codes: dict[str, int | None], diff_of: dict[str, str], commit: str = "",
          known: dict[str, Equivalent] | None = None) -> ModuleResult:
    """Group mutmut's exit codes into the report's counts; a survivor whose change is written down is equivalent."""
    result = ModuleResult(module, tests, commit, datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
    for name, code in sorted(exit_codes.items()):
        if code is None:
            result.not_checked += 1
        elif code in KILLED:
            result.killed += 1
        elif code in SURVIVED:
            written = (known or {}).get(name)
            if written is not None and written.change == change_of(diff_of.get(name, "")):
                result.equivalent[name] = written.why
                continue
            result.survived += 1
            result.survivors[name] = diff_of.get(name, "")
        elif code in TIMEOUT:
            result.timeout += 1
        elif code in NO_TESTS:
            result.no_tests += 1
            result.survivors[name] = diff_of.get(name, "")
        else:
            result.other += 1
    return result


def read_results(module: str, tests: tuple[str, ...], work: Path) -> ModuleResult:
    """The module's results from mutmut's meta file, with each survivor's diff (from `mutmut show`)."""
    meta = work / "mutants" / (module + ".meta")
    if not meta.is_file():
        msg = f"mutmut left no results for {module} (no {meta.relative_to(ROOT)}): see {work.name}.log"
        raise MutateError(msg)
    exit_codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
    missed = [name for name, code in exit_codes.items() if code in SURVIVED | NO_TESTS]
    diffs = {name: mutmut(work, "show", name, capture=True) for name in missed}
    commit = work / ".commit"
    known = equivalents().get(module, {})
    return tally(module, " ".join(tests), exit_codes, diffs, commit.read_text() if commit.is_file() else "unknown", known)


def mutmut(work: Path, *args: str, capture: bool = False, log: Path | None = None) -> str:
    """Run mutmut in a workspace, its output to the log (or returned)."""
    command = [sys.executable, "-m", "mutmut", *args]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    if capture:
        shown = subprocess.run(command, cwd=work, capture_output=True, text=True, env=env, check=False)  # noqa: S603
        return shown.stdout.strip()
    assert log is not None  # noqa: S101 - every run has its log
    with log.open("w") as sink:
        done = subprocess.run(command, cwd=work, stdout=sink, stderr=subprocess.STDOUT, env=env, check=False)  # noqa: S603
    if done.returncode != 0:
        msg = f"mutmut exited {done.returncode}; its output is in {log.relative_to(ROOT)}"
        raise MutateError(msg)
    return ""


def retest(module: str, tests: tuple[str, ...], work: Path, children: list[str]) -> ModuleResult:
    """The module's survivors (and mutants no test reached) tested again by name; the results as they then stand."""
    result = read_results(module, tests, work)
    if result.survivors:
        print(f"{module}: testing the {len(result.survivors)} survivors again", flush=True)
        mutmut(work, "run", *children, *result.survivors, log=OUT / f"{work.name}.retest.log")
        result = read_results(module, tests, work)
    return result


def write_report(result: ModuleResult) -> dict[str, dict[str, object]]:
    """Merge one module's result into the report files and return the whole report."""
    path = OUT / "report.json"
    report: dict[str, dict[str, object]] = json.loads(path.read_text()) if path.is_file() else {}
    report[result.module] = {**asdict(result), "total": result.total, "score": result.score, "explained": result.explained}
    path.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    (OUT / "report.md").write_text(table(report) + "\n")
    return report


def table(report: dict[str, dict[str, object]]) -> str:
    """The report as a Markdown table, one module a row, in the run's order."""
    lines = [
        "| module | tests | commit | killed | survived | equivalent | no tests | timeout | other | not checked | score "
        "| killed or equivalent |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]

    def percent(value: object) -> str:
        return f"{value:.0%}" if isinstance(value, float) else "-"

    for module in [m for m in MODULES if m in report]:
        row = report[module]
        equivalent = row.get("equivalent") or {}
        count = len(equivalent) if isinstance(equivalent, dict) else 0
        lines.append(
            f"| `{module}` | `{row['tests']}` | {row['commit']} | {row['killed']} | {row['survived']} | {count} "
            f"| {row['no_tests']} | {row['timeout']} | {row['other']} | {row['not_checked']} | {percent(row['score'])} "
            f"| {percent(row.get('explained'))} |"
        )
    return "\n".join(lines)


def chosen(modules: list[str]) -> list[str]:
    """The modules asked for, checked against the list, in the run's order."""
    unknown = [m for m in modules if m not in MODULES]
    if unknown:
        allowed = ", ".join(MODULES)
        msg = f"MODULE={unknown[0]!r} is not one of the mutated modules; allowed: {allowed}"
        raise MutateError(msg)
    return [m for m in MODULES if m in modules] if modules else list(MODULES)


def main(argv: list[str] | None = None) -> int:
    """Mutate each module asked for, one after another, and print the report."""
    parser = argparse.ArgumentParser(prog="python -m tools.mutate", description=__doc__.splitlines()[0])
    parser.add_argument("--module", action="append", default=[], help="a module to mutate (repeatable); all when absent")
    parser.add_argument("--fresh", action="store_true", help="start each module's workspace afresh")
    parser.add_argument("--max-children", type=int, default=1, help="mutants tested at once (default 1)")
    parser.add_argument("--report", action="store_true", help="only report what the workspaces hold (after an interrupted run)")
    parser.add_argument("--survivors", action="store_true",
                        help="only test the survivors so far again, against the project as it is now (mutants not yet "
                             "checked stay so): after an interrupted run, which of them the tests written since kill")
    args = parser.parse_args(argv)
    try:
        modules = chosen([m.strip() for m in args.module if m.strip()])
        if args.max_children < 1:
            msg = f"--max-children {args.max_children} must be 1 or more"
            raise MutateError(msg)
        OUT.mkdir(parents=True, exist_ok=True)
        for module in modules:
            tests = MODULES[module]
            if args.report:
                if (OUT / slug(module) / "mutants").is_dir():
                    write_report(read_results(module, tests, OUT / slug(module)))
                continue
            # What this run meets, read before the copy: a test written while it runs is not collected by it, so the
            # stamp says what was there at its start, and the next run tests the survivors against anything newer.
            met = digest(rest_of(module))
            work, rest_changed = prepare(module, tests, args.fresh, met)
            children = ["--max-children", str(args.max_children)]
            if args.survivors:
                # Not a whole run: the stamp stays as it was, so the next whole run still tests its survivors again.
                write_report(retest(module, tests, work, children))
                continue
            print(f"{module}: mutating against {' '.join(tests)} in {work.relative_to(ROOT)}", flush=True)
            mutmut(work, "run", *children, log=OUT / f"{work.name}.log")
            # mutmut keeps a verdict once given: when the project changed, the survivors meet the new tests only when named.
            result = retest(module, tests, work, children) if rest_changed else read_results(module, tests, work)
            (work / ".rest").write_text(met)
            report = write_report(result)
            print(table({module: report[module]}).splitlines()[-1], flush=True)
    except MutateError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    path = OUT / "report.json"
    print(table(json.loads(path.read_text())) if path.is_file() else "nothing measured yet")
    return 0


if __name__ == "__main__":
    sys.exit(main())
