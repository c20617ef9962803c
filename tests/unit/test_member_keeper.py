"""Which remembered queue members a ``QueueStatus`` reply lacks (they are added back)."""

from __future__ import annotations

from ivr.lineup.members import missing
from ivr.store.members import AddedMember

KEPT = AddedMember("complaint", "Local/keep1@sim-agent/n", 2, "keep1")
OTHER_QUEUE = AddedMember("operator", "Local/keep1@sim-agent/n", 0, "keep1")
PJSIP = AddedMember("complaint", "PJSIP/agent9", 0, "")


def test_members_listed_in_their_queue_are_not_missing() -> None:
    reply = [
        {"Response": "Success"},
        {"Event": "QueueParams", "Queue": "complaint"},
        {"Event": "QueueMember", "Queue": "complaint", "Location": "Local/keep1@sim-agent/n"},
        {"Event": "QueueMember", "Queue": "operator", "Interface": "PJSIP/agent9"},
        {"Event": "QueueStatusComplete"},
    ]
    assert missing([KEPT, OTHER_QUEUE, PJSIP], reply) == [OTHER_QUEUE, PJSIP]


def test_an_empty_asterisk_lacks_every_member() -> None:
    assert missing([KEPT, PJSIP], {"Response": "Success"}) == [KEPT, PJSIP]
    assert missing([], []) == []
