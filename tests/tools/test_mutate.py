"""`make mutate`'s driver: which modules it mutates against which tests, how it counts, and its bad input."""

import json
import tomllib
from pathlib import Path

import pytest

from tools import mutate

ROOT = Path(__file__).resolve().parents[2]


def test_every_mutated_module_and_its_tests_exist_its_own_folder_first_each_test_path_once():
    for module, tests in mutate.MODULES.items():
        assert (ROOT / module).is_file(), module
        room = Path(module).parent.name
        assert tests[0] == f"tests/release/{room}", (module, tests)
        assert len(set(tests)) == len(tests), (module, tests)
        for path in tests:
            assert path.startswith("tests/"), (module, path)
            assert (ROOT / path).exists(), (module, path)
            # a file inside a folder already selected would run twice
            assert not any(path != other and path.startswith(other + "/") for other in tests), (module, path)


def test_the_modules_its_folder_reaches_only_in_part_take_the_files_elsewhere_that_run_them():
    executor = mutate.MODULES["release/strategies/executor.py"]
    assert {"tests/release/rollback", "tests/release/state/test_races.py", "tests/release/commands/test_rollback.py"} <= set(executor)
    assert "tests/release/strategies/test_decommission.py" in mutate.MODULES["release/rollback/fast.py"]
    assert mutate.MODULES["release/state/record.py"] == ("tests/release/state",)


def test_the_safety_critical_modules_are_all_there_and_the_priority_ones_run_first():
    rooms = {"state": 4, "rollback": 6, "strategies": 6, "judgement": 2}
    for room, count in rooms.items():
        assert sum(m.startswith(f"release/{room}/") for m in mutate.MODULES) == count, room
    first = list(mutate.MODULES)[:6]
    assert first == [
        "release/state/record.py",
        "release/state/store.py",
        "release/state/file.py",
        "release/rollback/common.py",
        "release/judgement/staging_gate.py",
        "release/strategies/decommission.py",
    ]


def test_a_workspace_mutates_one_module_against_its_folder_without_rehearsals_or_xdist():
    selection = ("tests/release/state", "tests/release/commands/test_faults.py")
    section = tomllib.loads(mutate.mutmut_section("release/state/file.py", selection))["tool"]["mutmut"]
    assert section["only_mutate"] == ["release/state/file.py"]
    assert section["source_paths"] == ["release"]
    assert section["pytest_add_cli_args_test_selection"] == list(selection)
    args = section["pytest_add_cli_args"]
    assert args[args.index("-m") + 1] == "not rehearsal and not registry"
    assert "no:xdist" in args
    for name in section["also_copy"]:
        assert (ROOT / name).exists(), name


def test_the_counts_and_the_score_follow_mutmuts_exit_codes():
    codes = {"a": 1, "b": 3, "c": 0, "d": 36, "e": 33, "f": None, "g": -11, "h": 37}
    result = mutate.tally("release/state/file.py", "tests/release/state", codes, {"c": "-x\n+y", "e": "-p\n+q"})
    assert (result.killed, result.survived, result.timeout, result.no_tests, result.other, result.not_checked) == (3, 1, 1, 1, 1, 1)
    assert result.total == 8
    # detected (3 killed + 1 timeout) over the 7 checked: the unchecked one is left out, a mutant no test reaches is missed
    assert result.score == pytest.approx(4 / 7)
    assert result.survivors == {"c": "-x\n+y", "e": "-p\n+q"}


def test_a_module_with_nothing_checked_has_no_score():
    assert mutate.tally("release/state/file.py", "tests/release/state", {"a": None}, {}).score is None


def test_the_report_table_has_a_row_per_measured_module_in_the_runs_order():
    rows = {}
    for module in ["release/rollback/common.py", "release/state/record.py"]:
        result = mutate.tally(module, mutate.MODULES[module], {"a": 1, "b": 0}, {})
        rows[module] = {**result.__dict__, "score": result.score, "explained": result.explained}
    lines = mutate.table(rows).splitlines()
    assert lines[2].startswith("| `release/state/record.py` |")
    assert lines[3].startswith("| `release/rollback/common.py` |")
    assert lines[3].endswith("| 1 | 1 | 0 | 0 | 0 | 0 | 0 | 50% | 50% |"), "killed, survived, equivalent, ..., both scores"


@pytest.mark.parametrize("module", ["release/cli.py", "release/state/record", "tests/release/state/test_record.py"])
def test_a_module_outside_the_list_is_refused_naming_it_and_the_allowed_ones(module, capsys):
    assert mutate.main(["--module", module]) == 2
    err = capsys.readouterr().err
    assert f"MODULE={module!r}" in err
    assert "release/state/record.py" in err
    assert "Traceback" not in err


def test_max_children_below_one_is_refused():
    with pytest.raises(SystemExit):
        mutate.main(["--max-children", "x"])
    assert mutate.main(["--module", "release/state/file.py", "--max-children", "0"]) == 2


def test_one_module_asked_for_is_the_only_one_run():
    assert mutate.chosen(["release/state/file.py"]) == ["release/state/file.py"]
    assert mutate.chosen([]) == list(mutate.MODULES)


def test_make_mutate_is_not_part_of_make_test():
    makefile = (ROOT / "Makefile").read_text()
    test_line = next(line for line in makefile.splitlines() if line.startswith("test:"))
    assert "mutate" not in test_line
    assert "-m tools.mutate $(if $(MODULE),--module $(MODULE))" in makefile


DIFF = """# release.state.file.x__mutmut_3: survived
--- release/state/file.py
+++ release/state/file.py
@@ -1,3 +1,3 @@
 def f():
-        revision += 1
+        revision -= 1
"""


def test_a_survivor_written_down_with_its_change_counts_as_equivalent_and_not_as_survived():
    known = {"m3": mutate.Equivalent(mutate.change_of("-  revision += 1\n+  revision -= 1"), "the tag is opaque")}
    result = mutate.tally("release/state/file.py", "tests/release/state", {"m1": 1, "m3": 0}, {"m3": DIFF}, known=known)
    assert (result.killed, result.survived, result.equivalent) == (1, 0, {"m3": "the tag is opaque"})
    assert result.total == 2
    assert result.score == pytest.approx(1 / 2)
    assert result.explained == pytest.approx(1.0)


def test_a_written_down_mutant_whose_change_is_now_another_is_a_survivor_again():
    """An edit of the module renumbers its mutants: an old reason must not cover a new change under the old name."""
    known = {"m3": mutate.Equivalent(mutate.change_of("-  x = 1\n+  x = 2"), "the tag is opaque")}
    result = mutate.tally("release/state/file.py", "tests/release/state", {"m3": 0}, {"m3": DIFF}, known=known)
    assert (result.survived, result.equivalent, list(result.survivors)) == (1, {}, ["m3"])
    assert result.explained == pytest.approx(0.0)


def test_the_projects_equivalents_each_name_a_mutated_module_a_change_and_a_reason():
    found = mutate.equivalents()
    assert found, "the file lists the equivalents found so far"
    for module, entries in found.items():
        assert module in mutate.MODULES
        for name, entry in entries.items():
            assert name.startswith(module.removesuffix(".py").replace("/", ".") + "."), name
            assert entry.change.startswith("-"), name
            assert "\n+" in entry.change, name
            assert len(entry.why) > 20, name


@pytest.mark.parametrize(("text", "said"), [
    ('[[equivalent]]\nmodule = "release/state/file.py"\nmutant = "a"\nchange = "-x\\n+y"\n', "entry 1 (a) needs why"),
    ('[[equivalent]]\nmodule = "release/cli.py"\nmutant = "b"\nchange = "-x\\n+y"\nwhy = "w"\n',
     "entry 1 (b) module 'release/cli.py' is not a mutated module"),
    ("[[equivalent]\n", "equivalent_mutants.toml: "),
])
def test_a_bad_entry_in_the_equivalents_is_refused_naming_it(tmp_path, text, said):
    path = tmp_path / "equivalent_mutants.toml"
    path.write_text(text)
    with pytest.raises(mutate.MutateError) as caught:
        mutate.equivalents(path)
    assert said in str(caught.value)


def test_a_reused_workspace_tests_its_survivors_again_unless_its_last_run_ended_on_these_same_tests(tmp_path, monkeypatch):
    module, tests = "release/state/file.py", ("tests/release/state",)
    monkeypatch.setattr(mutate, "OUT", tmp_path)
    work = tmp_path / mutate.slug(module)
    work.mkdir()
    (work / ".module").write_text(mutate.digest([module]))
    now = mutate.digest(mutate.rest_of(module))
    assert mutate.prepare(module, tests, fresh=False, met=now) == (work, False), "never run: no survivor to test again"
    (work / "mutants").mkdir()
    assert mutate.prepare(module, tests, fresh=False, met=now) == (work, True), "a run stopped before its end: not known"
    (work / ".rest").write_text(now)
    assert mutate.prepare(module, tests, fresh=False, met=now) == (work, False), "ended on the project as it is"
    (work / ".rest").write_text("an older project")
    assert mutate.prepare(module, tests, fresh=False, met=now) == (work, True)


def test_a_reused_workspace_gets_the_rest_of_the_project_as_it_is_now_and_keeps_its_mutmut_section(tmp_path, monkeypatch):
    module, tests = "release/state/file.py", ("tests/release/state",)
    monkeypatch.setattr(mutate, "OUT", tmp_path)
    work = tmp_path / mutate.slug(module)
    (work / "mutants" / "release" / "state").mkdir(parents=True)
    (work / ".module").write_text(mutate.digest([module]))
    (work / "mutants" / module).write_text("# the trampolined module mutmut made")
    mutate.prepare(module, tests, fresh=False, met="the project now")
    for base in (work, work / "mutants"):
        assert (base / "release/state/store.py").read_text() == (ROOT / "release/state/store.py").read_text()
        section = tomllib.loads((base / "pyproject.toml").read_text())["tool"]["mutmut"]
        assert section["only_mutate"] == [module]
    assert (work / "mutants" / module).read_text() == "# the trampolined module mutmut made", "the mutants stay"


def test_a_run_stamps_the_project_it_started_on_so_tests_written_meanwhile_meet_its_survivors_next_time(tmp_path, monkeypatch):
    module = "release/state/file.py"
    monkeypatch.setattr(mutate, "OUT", tmp_path)
    monkeypatch.setattr(mutate, "ROOT", tmp_path)
    project = ["as the run started"]
    monkeypatch.setattr(mutate, "rest_of", lambda _: ["the rest"])
    monkeypatch.setattr(mutate, "digest", lambda names: project[0] if names == ["the rest"] else "the module")
    work = tmp_path / mutate.slug(module)
    monkeypatch.setattr(mutate, "prepare", lambda *_: (work.mkdir(exist_ok=True), (work, False))[1])

    def run(*_: object, **__: object) -> str:
        project[0] = "a test written during the run"
        return ""

    monkeypatch.setattr(mutate, "mutmut", run)
    monkeypatch.setattr(mutate, "read_results", lambda m, t, w: mutate.tally(m, " ".join(t), {"a": 0}, {"a": "-x\n+y"}))
    assert mutate.main(["--module", module]) == 0
    assert (work / ".rest").read_text() == "as the run started"


def _changed_project(tmp_path, monkeypatch, codes):
    """A workspace for file.py on a project changed since its last run, mutmut's calls recorded, ``codes`` its verdicts."""
    module = "release/state/file.py"
    monkeypatch.setattr(mutate, "OUT", tmp_path)
    monkeypatch.setattr(mutate, "ROOT", tmp_path)
    monkeypatch.setattr(mutate, "rest_of", lambda _: ["the rest"])
    monkeypatch.setattr(mutate, "digest", lambda names: "the project now")
    work = tmp_path / mutate.slug(module)
    monkeypatch.setattr(mutate, "prepare", lambda *_: (work.mkdir(exist_ok=True), (work, True))[1])
    runs: list[tuple[str, ...]] = []

    def run(_work: object, *args: str, **__: object) -> str:
        runs.append(args)
        return ""

    monkeypatch.setattr(mutate, "mutmut", run)
    monkeypatch.setattr(mutate, "read_results", lambda m, t, w: mutate.tally(m, " ".join(t), dict(codes), {"kept": "-x\n+y"}))
    return module, work, runs


def test_survivors_only_tests_the_survivors_again_by_name_and_leaves_the_stamp(tmp_path, monkeypatch):
    module, work, runs = _changed_project(tmp_path, monkeypatch, {"kept": 0, "killed": 1, "not-yet": None})
    assert mutate.main(["--module", module, "--survivors", "--max-children", "2"]) == 0
    # Only the survivor is named; the mutant not checked yet is left for the next whole run, and nothing is stamped.
    assert runs == [("run", "--max-children", "2", "kept")]
    assert not (work / ".rest").exists()


def test_a_whole_run_on_a_changed_project_tests_its_survivors_again_by_name_then_stamps_it(tmp_path, monkeypatch):
    module, work, runs = _changed_project(tmp_path, monkeypatch, {"kept": 0, "killed": 1})
    assert mutate.main(["--module", module]) == 0
    assert runs == [("run", "--max-children", "1"), ("run", "--max-children", "1", "kept")]
    assert (work / ".rest").read_text() == "the project now"


class _Collected:
    def __init__(self, nodeid):
        self.nodeid = nodeid


def _stats(tmp_path, durations):
    path = tmp_path / mutate.STATS
    path.write_text(json.dumps({"duration_by_test": durations, "tests_by_mangled_function_name": {}}))
    return path


def test_a_mutants_tests_run_quickest_first_by_the_stats_runs_durations_an_unseen_one_last(tmp_path):
    stats = _stats(tmp_path, {"t.py::slow": 9.0, "t.py::quick": 0.1, "t.py::middling": 2.0})
    items = [_Collected(n) for n in ("t.py::slow", "t.py::new", "t.py::middling", "t.py::quick")]
    assert mutate.quickest_first(items, "release.strategies.runner.x_end__mutmut_12", stats)
    assert [i.nodeid for i in items] == ["t.py::quick", "t.py::middling", "t.py::slow", "t.py::new"]


@pytest.mark.parametrize("run", ["", "stats", "fail", "list_all_tests", "mutant_generation"])
def test_mutmuts_clean_and_stats_runs_keep_the_suites_own_order(tmp_path, run):
    stats = _stats(tmp_path, {"t.py::b": 9.0, "t.py::a": 0.1})
    items = [_Collected("t.py::b"), _Collected("t.py::a")]
    assert not mutate.quickest_first(items, run, stats)
    assert [i.nodeid for i in items] == ["t.py::b", "t.py::a"]


@pytest.mark.parametrize("text", [None, "{not json", '{"tests_by_mangled_function_name": {}}'])
def test_without_readable_durations_a_mutants_tests_keep_their_order(tmp_path, text):
    stats = tmp_path / mutate.STATS
    if text is not None:
        stats.write_text(text)
    items = [_Collected("t.py::b"), _Collected("t.py::a")]
    assert not mutate.quickest_first(items, "m.x_f__mutmut_1", stats)
    assert [i.nodeid for i in items] == ["t.py::b", "t.py::a"]


def test_the_suites_collection_hook_orders_a_mutants_run_from_the_stats_in_the_folder_mutmut_runs_in(tmp_path, monkeypatch):
    from tests import conftest  # noqa: PLC0415 - the hook itself, called as pytest calls it

    _stats(tmp_path, {"t.py::b": 9.0, "t.py::a": 0.1})
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MUTANT_UNDER_TEST", "release.state.record.x_commit__mutmut_3")
    items = [_Collected("t.py::b"), _Collected("t.py::a")]
    conftest.pytest_collection_modifyitems(items)
    assert [i.nodeid for i in items] == ["t.py::a", "t.py::b"]
