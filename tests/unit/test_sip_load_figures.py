"""The figures of the SIP load bench: keys paired with the next prompt of their
channel by Asterisk's timestamps, percentiles, SIPp's counters and CPU readings."""

from __future__ import annotations

import math

import pytest

from bench.sip_load_figures import (
    Spread,
    cpu_per_call,
    cpu_ticks,
    is_prompt_start,
    pair_presses,
    percentile,
    queue_turns,
    reached_queue,
    sipp_counts,
)

A, B = "PJSIP/anonymous-00000001", "PJSIP/anonymous-00000002"


def key(chan: str, ts: float, direction: str = "Received") -> dict[str, str]:
    return {"Event": "DTMFEnd", "Channel": chan, "Timestamp": f"{ts:.6f}",
            "Direction": direction, "Digit": "9"}  # fmt: skip


def stream(chan: str, ts: float, prompt: str = "ivr/menu-main-1111") -> dict[str, str]:
    return {"Event": "AGIExecStart", "Channel": chan, "Timestamp": f"{ts:.6f}",
            "Command": f'STREAM FILE {prompt} "0123456789*#"'}  # fmt: skip


def newexten(chan: str, ts: float, app: str, priority: int = 1) -> dict[str, str]:
    return {"Event": "Newexten", "Channel": chan, "Timestamp": f"{ts:.6f}", "Application": app,
            "Priority": str(priority)}  # fmt: skip


def test_a_key_pairs_with_the_next_prompt_of_its_own_channel() -> None:
    events = [
        stream(A, 100.0, "ivr/greeting-1111"),
        stream(B, 100.5, "ivr/greeting-1111"),
        key(A, 103.0),
        key(B, 103.1),
        stream(B, 103.104),  # B's answer comes first and does not count for A
        stream(A, 103.250),
    ]
    got = pair_presses(events)
    assert sorted(round(x * 1000, 3) for x in got.latencies) == [4.0, 250.0]
    assert (got.before_first_prompt, got.unanswered) == (0, 0)


def test_pairs_follow_asterisks_timestamps_not_the_arrival_order() -> None:
    events = [stream(A, 100.0), stream(A, 103.020), key(A, 103.0)]  # the key arrived late
    assert [round(x, 3) for x in pair_presses(events).latencies] == [0.02]


def test_keys_before_the_first_prompt_twice_before_a_prompt_and_with_none_after() -> None:
    events = [
        key(A, 99.0),  # before the greeting: no menu choice yet
        stream(A, 100.0),
        key(A, 101.0),
        key(A, 101.5),  # a second key before the prompt: the first one is the wait
        stream(A, 101.7),
        key(A, 102.0),  # the call ends before another prompt
        key(A, 102.5, direction="Sent"),  # a key Asterisk sent is nobody's press
    ]
    got = pair_presses(events)
    assert [round(x, 3) for x in got.latencies] == [0.7]
    assert (got.before_first_prompt, got.unanswered) == (1, 1)


def test_the_twins_prompts_are_background_and_playback() -> None:
    events = [
        newexten(A, 10.0, "Set"),
        newexten(A, 10.1, "Background"),
        key(A, 13.0),
        newexten(A, 13.0005, "BackGround", priority=0),  # the key taken, the old prompt named
        newexten(A, 13.001, "Goto"),  # not a prompt
        newexten(A, 13.003, "BackGround"),
        key(A, 14.5),
        newexten(A, 14.501, "BackGround", priority=0),
        newexten(A, 14.502, "Playback"),
        {"Event": "AGIExecStart", "Channel": A, "Timestamp": "15.0", "Command": "SET VARIABLE x 1"},
    ]
    assert [round(x * 1000, 3) for x in pair_presses(events).latencies] == [3.0, 2.0]
    assert not is_prompt_start(events[-1])
    assert is_prompt_start({"Event": "AGIExecStart", "Command": "stream file ivr/back"})


def test_reached_queue_counts_each_channel_once_in_that_queue() -> None:
    def join(chan: str, queue: str) -> dict[str, str]:
        return {"Event": "QueueCallerJoin", "Channel": chan, "Queue": queue}

    events = [join(A, "complaint"), join(A, "complaint"), join(B, "operator"), key(B, 1.0)]
    assert reached_queue(events, "complaint") == 1
    assert queue_turns(events, "complaint") == 2  # each join is a turn of the waiting loop
    assert queue_turns(events, "operator") == 1


def test_percentiles_are_nearest_rank() -> None:
    xs = [float(i) for i in range(1, 101)]  # 1..100
    assert (percentile(xs, 0.5), percentile(xs, 0.95), percentile(xs, 0.99)) == (50, 95, 99)
    assert percentile([7.0], 0.99) == 7.0
    assert percentile([3.0, 1.0, 2.0], 1.0) == 3.0
    with pytest.raises(ValueError):
        percentile([], 0.5)
    s = Spread.of([0.001, 0.002, 0.003, 0.004])
    assert (s.n, s.median_ms, s.p95_ms, s.max_ms) == (4, 2.5, 4.0, 4.0)
    assert math.isnan(Spread.of([]).median_ms)


def test_sipp_counts_from_its_statistics_file() -> None:
    names = ["StartTime", "TotalCallCreated", "CurrentCall", "SuccessfulCall(C)", "FailedCall(C)"]
    rows = [["t0", "5", "5", "0", "0"], ["t1", "10", "8", "2", "0"], ["t2", "10", "0", "9", "1"]]
    text = "\n".join(";".join(r) + ";" for r in [names, *rows]) + "\n"
    c = sipp_counts(text)
    assert (c.created, c.successful, c.failed, c.peak) == (10, 9, 1, 8)
    with pytest.raises(ValueError):
        sipp_counts(";".join(names) + ";\n")


def test_cpu_from_proc_stat_even_with_parentheses_in_the_name() -> None:
    def stat(utime: int, stime: int) -> str:
        rest = " ".join(["S", "1", "2", "3", "0", "-1", "4194560", "9", "0", "0", "0"])
        return f"1234 (python3 (ivr) x) {rest} {utime} {stime} 0 0 20 0 7 0 55 1000 300\n"

    assert cpu_ticks(stat(150, 50)) == 200
    assert cpu_per_call(stat(150, 50), stat(450, 150), 100, 100) == pytest.approx(0.04)
    assert math.isnan(cpu_per_call(stat(1, 1), stat(2, 2), 0, 100))
