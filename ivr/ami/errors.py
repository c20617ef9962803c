"""What the AMI client raises (importable from :mod:`ivr.ami.client` too)."""

from __future__ import annotations

__all__ = ["AmiError", "AmiReplyLost", "AmiTimeout"]


class AmiError(Exception):
    """The AMI connection or an action failed."""


class AmiTimeout(AmiError, TimeoutError):
    """No answer (login, action reply or awaited event) in time."""


class AmiReplyLost(AmiTimeout):
    """The connection was lost after the action was sent and before its reply.

    Asterisk may or may not have carried the action out. It is not sent again on
    the next connection (panoramisk would): an Originate sent twice is a citizen
    called twice. The caller decides, as after a timeout.
    """
