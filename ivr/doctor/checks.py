"""What the server needs of Asterisk, compared with what ``ivr doctor`` found. Pure.

* AMI write rights: the actions the server sends, against ``ListCommands`` (Asterisk
  lists exactly the actions the logged-in user may send, each with its classes).
* AMI read rights: the event classes the server listens to, against the user's
  ``read perm`` (``manager show user``, when the user may run CLI commands) or else
  against the classes of the events seen during the check (each carries ``Privilege``).
* The dialplan: each context and extension the hotline files and the server use.
* Queues, prompt audio for each language of each hotline, and clock skew.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from ivr.doctor.findings import Finding, fail, ok

__all__ = [
    "MAX_SKEW_S",
    "NEEDED_ACTIONS",
    "NEEDED_READ",
    "DialplanNeed",
    "dialplan_findings",
    "dialplan_needs",
    "parse_list_commands",
    "parse_manager_user",
    "privilege_classes",
    "prompt_findings",
    "queue_findings",
    "read_findings",
    "skew_finding",
    "systemname_finding",
    "write_findings",
]

#: action -> (the write class to grant for it, what the server does with it)
NEEDED_ACTIONS: Mapping[str, tuple[str, str]] = {
    "Originate": ("originate", "places callbacks, probes and supervisor listening"),
    "QueueAdd": ("agent", "adds agents to queues (API, restore after restart)"),
    "QueueRemove": ("agent", "removes agents from queues (API)"),
    "QueuePause": ("agent", "pauses agents (API, callbacks)"),
    "Hangup": ("call", "ends probes and stray callback legs"),
    "CoreShowChannels": ("reporting", "finds an agent's call to listen to"),
    "QueueStatus": ("", "reads queues and members after each login"),
}

#: event class -> what the server reads from it
NEEDED_READ: Mapping[str, str] = {
    "system": "FullyBooted (resync after an Asterisk restart)",
    "call": "Hangup, OriginateResponse (callbacks, probes, history)",
    "agent": "queue and agent events (live queues, figures, history)",
    "user": "UserEvent (callbacks booked, callers moved by a rule)",
    "dialplan": "VarSet (probes)",
}

#: clocks further apart than this fail: waits and service levels mix both clocks
MAX_SKEW_S = 1.0

_PRIV = re.compile(r"\(Priv:\s*([^)]*)\)\s*$")


def _classes(text: str) -> frozenset[str]:
    return frozenset(c.strip().lower() for c in text.split(",") if c.strip())


def parse_list_commands(reply: Mapping[str, str]) -> dict[str, frozenset[str]]:
    """``ListCommands``'s reply as action -> its classes (``<none>``: empty)."""
    out: dict[str, frozenset[str]] = {}
    for key, value in reply.items():
        m = _PRIV.search(value)
        if m:
            out[key] = _classes(m[1]) - {"<none>"}
    return out


def parse_manager_user(output: str) -> tuple[frozenset[str], frozenset[str]] | None:
    """(read classes, write classes) from ``manager show user <name>``; None when absent."""
    found: dict[str, frozenset[str]] = {}
    for line in output.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() in ("read perm", "write perm"):
            found[key.strip().lower()] = _classes(value)
    if len(found) != 2:
        return None
    return found["read perm"], found["write perm"]


def privilege_classes(privileges: Iterable[str]) -> frozenset[str]:
    """Every class named in events' ``Privilege`` headers (``call,all``)."""
    return frozenset(c for p in privileges for c in _classes(p))


def _grant(kind: str, user: str, classes: Iterable[str]) -> str:
    return (
        f"in manager.conf, add {', '.join(sorted(set(classes)))} to {kind} = of [{user}], "
        "then run `manager reload` on the Asterisk CLI"
    )


def write_findings(allowed: Collection[str], user: str) -> list[Finding]:
    """The actions the server sends that the AMI user may not send."""
    missing = [a for a in NEEDED_ACTIONS if a not in allowed]
    if not missing:
        return [ok("ami.write", f"user {user} may send every action the server needs")]
    what = "; ".join(f"{a} ({NEEDED_ACTIONS[a][1]})" for a in missing)
    return [
        fail(
            "ami.write",
            f"user {user} may not send {what}",
            _grant("write", user, (NEEDED_ACTIONS[a][0] for a in missing if NEEDED_ACTIONS[a][0])),
        )
    ]


def read_findings(read: Collection[str] | None, seen: Collection[str], user: str) -> list[Finding]:
    """The event classes the server needs: against the user's ``read`` classes when
    known (None: unknown), else against the classes of the events ``seen``."""
    if read is not None:
        have = set(read)
        missing = [] if "all" in have else [c for c in NEEDED_READ if c not in have]
        if not missing:
            return [ok("ami.read", f"user {user} receives every event class the server needs")]
        what = "; ".join(f"{c} ({NEEDED_READ[c]})" for c in missing)
        return [
            fail("ami.read", f"user {user} does not receive {what}", _grant("read", user, missing))
        ]
    confirmed = [c for c in NEEDED_READ if c in seen]
    unknown = [c for c in NEEDED_READ if c not in seen]
    detail = f"events seen of class {', '.join(confirmed) or '(none)'}"
    if unknown:
        detail += (
            f"; {', '.join(unknown)} not confirmed (the user may not run CLI commands, so"
            f" its read = line was not read): make sure read = of [{user}] has"
            f" {','.join(NEEDED_READ)}"
        )
    return [ok("ami.read", detail)]


@dataclass(frozen=True)
class DialplanNeed:
    """A dialplan context and the extensions in it the server needs, and why."""

    context: str
    extensions: tuple[str, ...]
    why: str


def dialplan_needs(
    hotline_numbers: Iterable[str], *, probe_context: str, spy: bool, doctor: bool = True
) -> list[DialplanNeed]:
    """The contexts of the project's hotline dialplan (extensions_hotline.conf)."""
    needs = [
        DialplanNeed("hotlines", tuple(sorted(hotline_numbers)), "each hotline's number"),
        DialplanNeed("ivr-hotline", ("s", "fallback"), "a hotline call's menus and fallback"),
        DialplanNeed("ivr-queue", ("s",), "waiting in a queue"),
        DialplanNeed("callback-citizen", ("s",), "callbacks"),
        DialplanNeed(probe_context, ("s",), "reachability probes"),
    ]
    if spy:
        needs.append(
            DialplanNeed("ivr-spy", ("s",), "supervisors listening ([api] supervisor_phones)")
        )
    if doctor:
        needs.append(DialplanNeed("ivr-doctor", ("s",), "this check of FastAGI"))
    return needs


_INCLUDE_FIX = (
    "#include the project's extensions_hotline.conf (dialplans/) from extensions.conf, "
    "then run `dialplan reload` on the Asterisk CLI"
)


def dialplan_findings(
    needs: Sequence[DialplanNeed], found: Mapping[str, Collection[str] | None]
) -> list[Finding]:
    """One finding per context: ``found[context]`` is its extensions, None if missing."""
    out: list[Finding] = []
    for need in needs:
        check = f"dialplan.{need.context}"
        extens = found.get(need.context)
        if extens is None:
            out.append(
                fail(check, f"context [{need.context}] is missing ({need.why})", _INCLUDE_FIX)
            )
            continue
        missing = [e for e in need.extensions if e not in extens]
        if missing:
            out.append(
                fail(
                    check,
                    f"context [{need.context}] lacks extension(s) {', '.join(missing)}"
                    f" ({need.why})",
                    f"add exten => {missing[0]},1,... to [{need.context}] as in "
                    "extensions_hotline.conf, then `dialplan reload`",
                )
            )
            continue
        out.append(ok(check, f"context [{need.context}] has {', '.join(need.extensions)}"))
    return out


def queue_findings(needed: Mapping[str, Collection[str]], found: Collection[str]) -> list[Finding]:
    """``needed``: queue -> the hotlines naming it; ``found``: queues Asterisk has."""
    out: list[Finding] = []
    for queue in sorted(needed):
        by = ", ".join(sorted(needed[queue]))
        if queue in found:
            out.append(ok(f"queue.{queue}", f"Asterisk has queue {queue} (hotline {by})"))
        else:
            out.append(
                fail(
                    f"queue.{queue}",
                    f"Asterisk has no queue {queue}, named by hotline {by}",
                    f"add [{queue}] to queues.conf (with its members), then run "
                    "`module reload app_queue.so` on the Asterisk CLI",
                )
            )
    return out


def prompt_findings(
    needed: Mapping[tuple[str, str], Collection[str]],
    missing: Mapping[tuple[str, str], Sequence[str]],
) -> list[Finding]:
    """``needed``: (hotline, language) -> prompt ids; ``missing``: those without audio."""
    out: list[Finding] = []
    for (hotline, lang), ids in sorted(needed.items()):
        check = f"prompts.{hotline}.{lang}"
        lost = sorted(missing.get((hotline, lang), ()))
        if not lost:
            out.append(ok(check, f"hotline {hotline}: all {len(ids)} prompts have {lang} audio"))
            continue
        shown = ", ".join(lost[:5]) + (f" and {len(lost) - 5} more" if len(lost) > 5 else "")
        out.append(
            fail(
                check,
                f"hotline {hotline}: {len(lost)} prompt(s) have no {lang} audio: {shown}",
                "run `ivr prompts build` (or add studio recordings), then copy the prompts "
                "to Asterisk's sounds directory",
            )
        )
    return out


def skew_finding(node: str, skew_s: float | None, error: str = "") -> Finding:
    """``skew_s``: the node's clock minus this machine's; None when it could not be read."""
    check = f"clock.{node}"
    if skew_s is None:
        return fail(check, f"could not read the clock of {node}: {error}", "see the other findings")
    if abs(skew_s) <= MAX_SKEW_S:
        return ok(check, f"{node}'s clock is {skew_s:+.3f} s from this machine's")
    return fail(
        check,
        f"{node}'s clock is {skew_s:+.1f} s from this machine's (more than {MAX_SKEW_S:g} s:"
        " waits, service levels and callback times would be wrong)",
        "run a time service on both machines (`apt install chrony`, or systemd-timesyncd)",
    )


def systemname_finding(value: str) -> Finding:
    """One node of several: its ``systemname``, which starts each of its call ids.

    Without one, a node's call ids are ``<start time>.<n>``, and two nodes started in
    the same second give the same ids to different calls: traces, places in line and
    today's figures are kept by call id."""
    if value.strip():
        return ok("systemname", f"systemname = {value.strip()} (its call ids start so)")
    return fail(
        "systemname",
        "this node has no systemname: its call ids can be the same as another node's",
        "set systemname = <node name> in [options] of asterisk.conf, then restart Asterisk",
    )
