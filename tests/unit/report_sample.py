"""Hand-made report dicts, shaped as ``ivr.reports.build`` makes them (the contract in
the README, "Reports: definitions"), for the renderers' tests: two hotlines, a busy
queue and a quiet one, absent figures (null), and names with HTML in them."""

from __future__ import annotations

from typing import Any

TARGETS = {"service_level_s": 30.0, "service_level_target": 0.8, "short_abandon_s": 5.0}
NASTY = "<script>alert('x')</script>"

# arrivals of the busy queue per half hour from 08:00 (slot 16) to 16:30 (slot 33)
ARRIVALS = [4, 9, 14, 18, 16, 12, 10, 7, 5, 11, 15, 13, 9, 6, 4, 3, 2, 1]
STAFFED = [2.0, 3.0, 3.0, 3.5, 4.0, 4.0, 3.0, 2.0, 2.0, 2.5, 3.0, 3.0, 3.0, 2.0, 2.0, 1.0, 1, 1]


def fig(
    offered: int = 0,
    answered: int = 0,
    within: int = 0,
    abandoned: int = 0,
    short: int = 0,
    waits: tuple[float | None, float | None, float | None] = (None, None, None),
    callbacks: tuple[int, int, int, float | None] = (0, 0, 0, None),
    rules: tuple[int, int] = (0, 0),
) -> dict[str, Any]:
    """A FIG: counts given, rates worked out as the definitions say."""
    base = offered - short
    return {
        "offered": offered,
        "answered": answered,
        "answered_within_sl": within,
        "abandoned": abandoned,
        "short_abandoned": short,
        "service_level": within / base if base else None,
        "abandon_rate": abandoned / base if base else None,
        "asa_s": waits[0],
        "longest_wait_s": waits[1],
        "aht_s": waits[2],
        "callbacks_requested": callbacks[0],
        "callbacks_connected": callbacks[1],
        "callbacks_failed": callbacks[2],
        "callback_time_s": callbacks[3],
        "no_agent": rules[0],
        "max_wait": rules[1],
    }


def _slot(i: int) -> str:
    return f"{i // 2:02d}:{30 * (i % 2):02d}"


def busy_half_hours() -> list[dict[str, Any]]:
    out = []
    for i in range(48):
        k = i - 16
        if 0 <= k < len(ARRIVALS):
            n = ARRIVALS[k]
            ab, short = n // 6, 1 if n > 10 else 0
            ans = n - ab - short
            f = fig(n, ans, max(ans - n // 5, 0), ab, short, (12.0 + 3 * n, 40.0 + 9 * n, 185.5),
                    (1 if n > 12 else 0, 1 if n > 12 else 0, 0, 420.0 if n > 12 else None),
                    (0, 1 if n > 15 else 0))  # fmt: skip
            f |= {"staffed": STAFFED[k], "needed": max(1, round(n / 3.5))}
        else:
            f = fig() | {"staffed": None, "needed": None}
        out.append({"start": _slot(i), **f})
    return out


def quiet_half_hours() -> list[dict[str, Any]]:
    """A queue with no caller all day (every rate absent)."""
    return [{"start": _slot(i), **fig(), "staffed": None, "needed": None} for i in range(48)]


def daily() -> dict[str, Any]:
    slots = busy_half_hours()
    offered = sum(s["offered"] for s in slots)
    busy = fig(offered, sum(s["answered"] for s in slots),
               sum(s["answered_within_sl"] for s in slots), sum(s["abandoned"] for s in slots),
               sum(s["short_abandoned"] for s in slots), (47.6, 202.0, 185.5),
               (5, 4, 1, 600.0), (2, 4))  # fmt: skip
    staffing = [
        {"hotline": "1111", "queue": "complaint", "start": s["start"], "arrivals": s["offered"],
         "aht_s": s["aht_s"], "needed": s["needed"], "staffed": s["staffed"]}
        for s in slots if s["offered"] or s["staffed"]
    ]  # fmt: skip
    calls = {"arrived": 212, "self_service": 48, "queued": offered, "transferred": 6,
             "closed": 3, "hangup_in_menu": 11, "error": 1}  # fmt: skip
    return {
        "kind": "daily",
        "date": "2026-11-29",
        "date_th": "29 พฤศจิกายน 2569",
        "timezone": "Asia/Bangkok",
        "generated_at": "2026-11-30T06:05:00+07:00",
        "targets": TARGETS,
        "hotlines": [
            {
                "hotline": "1111",
                "name": "ศูนย์บริการข้อมูลภาครัฐเพื่อประชาชน",
                "totals": busy,
                "calls": calls,
                "menus": [
                    {"menu": "main", "visits": 201, "timeouts": 14, "wrong_keys": 9},
                    {"menu": NASTY, "visits": 37, "timeouts": 2, "wrong_keys": 5},
                ],
                "probes": {"count": 48, "ok": 47, "failed": 1, "median_answer_s": 2.4},
                "queues": [
                    {"queue": "complaint", "targets": TARGETS, "totals": busy, "half_hours": slots},
                    {
                        "queue": "info",
                        "targets": TARGETS,
                        "totals": fig(),
                        "half_hours": quiet_half_hours(),
                    },
                ],
            },
            {
                "hotline": "1555",
                "name": f"สายด่วนผู้สูงอายุ {NASTY}",
                "totals": fig(),
                "calls": {k: 0 for k in calls},
                "menus": [],
                "probes": {"count": 0, "ok": 0, "failed": 0, "median_answer_s": None},
                "queues": [],
            },
        ],
        "staffing": staffing,
    }


def monthly() -> dict[str, Any]:
    hotlines = []
    for h, name, scale in (("1111", "ศูนย์บริการข้อมูลภาครัฐเพื่อประชาชน", 1.0),
                           ("1555", "สายด่วนผู้สูงอายุ", 0.4)):  # fmt: skip
        days = []
        for d in range(1, 31):
            weekend = (d + 5) % 7 in (5, 6)  # 2026-11-01 is a Sunday
            n = round((40 if weekend else 150 + 7 * (d % 5)) * scale)
            ab = n // 8
            ans = n - ab
            within = ans - n // (4 + d % 4)
            waits = (30.0 + d, 300.0, 180.0)
            days.append({"date": f"2026-11-{d:02d}", **fig(n, ans, within, ab, 0, waits)})

        def total(key: str, days: list[dict[str, Any]] = days) -> int:
            return sum(int(x[key]) for x in days)

        totals = fig(total("offered"), total("answered"), total("answered_within_sl"),
                     total("abandoned"), 0, (45.0, 300.0, 180.0), (30, 25, 5, 900.0),
                     (3, 12))  # fmt: skip
        hotlines.append({"hotline": h, "name": name, "targets": TARGETS, "queue_targets": [],
                         "totals": totals, "days": days})  # fmt: skip
    return {
        "kind": "monthly",
        "month": "2026-11",
        "month_th": "พฤศจิกายน 2569",
        "generated_at": "2026-12-01T06:00:00+07:00",
        "targets": TARGETS,
        "hotlines": hotlines,
    }
