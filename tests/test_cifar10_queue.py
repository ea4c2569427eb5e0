"""The CIFAR-10 queue's sizing (benchmarks/cifar10_queue.py): priority order, caps, skips."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from cifar10_queue import decide, estimate, plan, queue, seconds_per_iteration  # noqa: E402


def total(jobs, sizes) -> float:
    return sum(estimate(j, sizes[j.group]) for j in jobs if sizes[j.group])


def test_plan_fits_the_budget_and_gives_one_count_per_study_size() -> None:
    jobs = queue()
    for seconds in (450.0, 600.0, 780.0, 3000.0):
        sizes = plan(jobs, seconds)
        assert total(jobs, sizes) <= seconds
        assert all(sizes[j.group] >= 1 for j in jobs)  # every job keeps at least one iteration
    assert {j.group for j in jobs if j.name.startswith("init-")} == {
        "init-100",
        "init-250",
        "init-500",
    }


def test_plan_drops_the_lowest_priority_first_and_caps_at_the_paper() -> None:
    jobs = queue()
    sizes = plan(jobs, 200.0)
    assert sizes["dc-ipc1"] > 0 and sizes["dc-ipc50"] == 0
    order = list(dict.fromkeys(j.group for j in jobs))
    dropped = [g for g in order if sizes[g] == 0]
    assert dropped == order[len(order) - len(dropped) :]  # a suffix of the queue
    big = plan(jobs, 1e6)
    assert big["dc-ipc1"] == 1000 and big["dm-ipc10"] == 20000
    assert plan(jobs, 1e6, cap={"dc-ipc1": 3})["dc-ipc1"] == 3


def test_plan_keeps_fixed_groups_and_a_slower_machine_gets_fewer_iterations() -> None:
    jobs = queue()
    assert plan(jobs, 780.0, fixed={"dc-ipc10": 7})["dc-ipc10"] == 7
    assert plan(jobs, 780.0, factor=2.0)["dc-ipc10"] < plan(jobs, 780.0)["dc-ipc10"]
    dc = {j.ipc: seconds_per_iteration(j) for j in jobs if j.method == "dc"}
    assert dc[1] < dc[10] < dc[25] < dc[50]


def test_decide() -> None:
    assert decide(0, 1.0, 100.0, 0.0, 100.0) == "skip"
    assert decide(5, 120.0, 100.0, 0.0, 500.0) == "skip"  # over the whole budget
    assert decide(5, 50.0, 100.0, 480.0, 500.0) == "stop"  # over this call's deadline
    assert decide(5, 50.0, 100.0, 0.0, 500.0) == "run"
