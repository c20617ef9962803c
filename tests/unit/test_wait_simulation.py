"""The queue simulation behind the wait-estimate benchmark is sane.

Which method wins is a measured figure (``python -m bench.wait_estimate``), not
something a test asserts.
"""

from __future__ import annotations

import pytest

from bench.wait_estimate import (
    Params,
    Run,
    Scenario,
    accuracy,
    phrase_kept,
    report,
    simulate,
)

LIGHT = Scenario("light", rho=0.60, agents=10)
OVERLOADED = Scenario("overloaded", rho=1.3, agents=4)


@pytest.fixture(scope="module")
def light() -> Run:
    return simulate(LIGHT, hours=1.0, seed=7)


def _conserved(run: Run) -> None:
    assert run.arrivals > 0
    assert run.answered + run.abandoned + run.still_waiting == run.arrivals
    for r in run.records:
        assert not (r.answered_at is not None and r.abandoned_at is not None)
        wait = r.wait
        if wait is not None:
            assert wait >= 0
        if r.abandoned_at is not None:
            assert r.abandoned_at >= r.arrived


def test_every_caller_is_accounted_for(light: Run) -> None:
    _conserved(light)
    assert light.still_waiting == 0  # drained: every caller ends
    # about λ × 1 h arrivals (λ = 0.6 × 10 / 250 s per second, 86 an hour)
    assert 50 < light.arrivals < 130


def test_stopping_at_the_end_leaves_callers_waiting() -> None:
    run = simulate(OVERLOADED, hours=1.0, seed=3, drain=False)
    _conserved(run)
    assert run.still_waiting > 0
    assert run.abandoned > 0
    assert run.end_s == pytest.approx(3600.0)


def test_light_load_callers_wait_little(light: Run) -> None:
    waits = [w for r in light.records if (w := r.wait) is not None]
    assert len(waits) >= 0.9 * light.arrivals
    assert sum(1 for w in waits if w < 60) >= 0.7 * len(waits)  # 0.79 at worst over 200 seeds


def test_announcement_inputs_match_the_queue(light: Run) -> None:
    for r in light.records:
        assert r.staffed == LIGHT.agents
        assert 0 <= r.free <= LIGHT.agents
        assert r.place >= 1
        assert r.app_queue >= 0
        assert r.ours is not None and r.ours >= 0
        if r.free > 0:  # FIFO and no ring time: nobody waits while an agent is free
            assert r.place == 1
            assert r.ours == 0
            assert r.wait == 0


def test_seeded_runs_repeat() -> None:
    a = simulate(LIGHT, hours=0.5, seed=11)
    b = simulate(LIGHT, hours=0.5, seed=11)
    assert [(r.arrived, r.wait, r.ours, r.app_queue) for r in a.records] == [
        (r.arrived, r.wait, r.ours, r.app_queue) for r in b.records
    ]


def test_spell_raises_the_arrival_rate() -> None:
    sc = Scenario("spell", rho=0.3, spell_rho=1.2, agents=10, spell_start_h=1.0)
    run = simulate(sc, hours=3.0, seed=5)
    start, end = sc.spell(3.0) or (0.0, 0.0)
    assert (start, end) == (3600.0, 7200.0)
    inside = sum(1 for r in run.records if start <= r.arrived < end)
    # 4x the rate of the two other hours: about twice as many callers as both together
    assert inside > run.arrivals - inside


def test_phrase_rule() -> None:
    assert phrase_kept(30, 60)  # within 1 minute
    assert not phrase_kept(30, 61)
    assert phrase_kept(60, 0)  # about 1 minute: 0..1 min
    assert phrase_kept(150, 150)  # about 3 minutes: 2..3 min
    assert not phrase_kept(150, 100)
    assert phrase_kept(500, 10 * 60 + 150)  # about 10 minutes: 7.5..12.5 min
    assert not phrase_kept(500, 7 * 60)
    assert phrase_kept(1500, 0)  # within 30 minutes


def test_accuracy_scores() -> None:
    # "about 4 min" for 0 s: too early; "within 1 min" for 90 s: late; "about 2 min": kept
    acc = accuracy([(200.0, 0.0), (0.0, 90.0), (120.0, 120.0)])
    assert acc.n == 3
    assert acc.mae == pytest.approx(290.0 / 3)
    assert acc.median == pytest.approx(90.0)
    assert acc.p90 == pytest.approx(200.0)
    assert acc.bias == pytest.approx(110.0 / 3)
    assert acc.kept == pytest.approx(1 / 3)
    assert acc.late == pytest.approx(1 / 3)


def test_report_shows_both_methods(light: Run) -> None:
    text = report([light], Params())
    assert "this server" in text
    assert "app_queue (baseline)" in text
    assert "MAE ours/app_queue" in text
    assert LIGHT.label() in text
