"""The ledger: rows round-trip, sort, filter, and add up to the cent."""

from __future__ import annotations

import math
import random
import threading
from datetime import datetime
from pathlib import Path

import pytest

from aita_cli.store import CostTotal, Store, StoreError
from tests.store import T0, ledger_row

DAY = 86_400.0


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(tmp_path / "cache")


def test_a_row_comes_back_with_every_field_after_reopening(tmp_path: Path) -> None:
    row = ledger_row(
        cost_is_estimate=True, status="failed", error="429 rate limited", cached_tokens=64
    )
    with Store.open(tmp_path) as store:
        store.record(row)
    with Store.open(tmp_path) as store:
        assert store.rows() == [row]


def test_rows_sort_by_time_then_by_recording_order_and_filter_by_assignment(
    store: Store,
) -> None:
    late = ledger_row(task_id="late", at=T0 + 60)
    first = ledger_row(task_id="first", at=T0)
    second = ledger_row(task_id="second", at=T0)
    other = ledger_row(task_id="other", assignment="exam2", at=T0 + 1)
    for row in (late, first, second, other):
        store.record(row)
    assert store.rows() == [first, second, other, late]
    assert store.rows("exam1") == [first, second, late]
    assert store.rows("nobody") == []


def test_totals_count_calls_and_hits_but_only_calls_cost(store: Store) -> None:
    store.record(ledger_row(model="a", cost=0.25, prompt_tokens=10, completion_tokens=1))
    store.record(ledger_row(model="a", cost=0.5, status="retried", cost_is_estimate=True))
    # A hit may carry the original reply's figures; it must not count as spent.
    store.record(ledger_row(model="a", cost=9.0, status="cache_hit", prompt_tokens=999))
    store.record(ledger_row(model="b", cost=1.0, prompt_tokens=5, completion_tokens=2))
    by_model = store.totals("model")
    assert by_model == [
        CostTotal("a", 2, 1, 10 + 1200, 1 + 300, 0.75, 0.5),
        CostTotal("b", 1, 0, 5, 2, 1.0, 0.0),
    ]
    assert store.spent() == pytest.approx(1.75)


def test_totals_by_operation_and_by_local_day_in_order(store: Store) -> None:
    store.record(ledger_row(operation="rubric", at=T0 + DAY))
    store.record(ledger_row(operation="grade", at=T0 + 2 * DAY))
    store.record(ledger_row(operation="grade", at=T0))
    assert [t.key for t in store.totals("operation")] == ["grade", "rubric"]
    days = [datetime.fromtimestamp(T0 + n * DAY).date().isoformat() for n in range(3)]
    assert [(t.key, t.calls) for t in store.totals("day")] == [(day, 1) for day in days]


def test_totals_and_spent_equal_the_rows_to_the_cent(store: Store) -> None:
    rng = random.Random(13)
    statuses = ("success", "failed", "retried", "cache_hit")
    for n in range(2000):
        store.record(
            ledger_row(
                task_id=f"t{n}",
                assignment=rng.choice(("exam1", "exam2")),
                model=rng.choice(("m1", "m2", "m3")),
                cost=round(rng.uniform(0, 0.05), 6),
                cost_is_estimate=rng.random() < 0.3,
                status=rng.choice(statuses),
                at=T0 + rng.uniform(0, 5 * DAY),
            )
        )
    for assignment in (None, "exam1"):
        paid = [row for row in store.rows(assignment) if row.paid]
        expected = math.fsum(row.cost for row in paid)
        assert round(store.spent(assignment), 2) == round(expected, 2)
        assert store.spent(assignment) == pytest.approx(expected, abs=1e-9)
        for by in ("model", "operation", "day"):
            totals = store.totals(by, assignment)
            assert sum(t.calls for t in totals) == len(paid)
            assert round(math.fsum(t.cost for t in totals), 2) == round(expected, 2)
        by_model = {t.key: t for t in store.totals("model", assignment)}
        for model, total in by_model.items():
            mine = [row for row in paid if row.model == model]
            assert total.cost == pytest.approx(math.fsum(r.cost for r in mine), abs=1e-9)
            estimated = math.fsum(r.cost for r in mine if r.cost_is_estimate)
            assert total.estimated_cost == pytest.approx(estimated, abs=1e-9)
            assert total.prompt_tokens == sum(r.prompt_tokens for r in mine)


def test_an_empty_ledger_totals_nothing(store: Store) -> None:
    assert store.spent() == 0.0
    assert store.totals("model") == []
    assert store.rows() == []


def test_many_threads_record_at_once_and_every_row_lands(store: Store) -> None:
    def work(worker: int) -> None:
        for n in range(200):
            store.record(ledger_row(run_id=f"w{worker}", task_id=f"t{n}"))

    threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rows = store.rows()
    assert len(rows) == 1600
    assert len({(row.run_id, row.task_id) for row in rows}) == 1600


def test_an_unknown_status_or_grouping_is_a_programming_error(store: Store) -> None:
    with pytest.raises(ValueError, match="unknown ledger status"):
        ledger_row(status="ok")
    with pytest.raises(ValueError, match="cannot total by"):
        store.totals("week")  # type: ignore[arg-type]


def test_a_closed_store_says_so_in_one_line(store: Store) -> None:
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed") as caught:
        store.record(ledger_row())
    assert str(store.path) in str(caught.value)
    assert "\n" not in str(caught.value)
