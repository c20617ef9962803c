"""Named loggers, one per area, and the structured (key=value / JSON) format.

A field may be given already serialised (:class:`RawJson`: a call's trace, whose JSON
also goes to Redis): the JSON line then holds it as it is, not serialised again.

A few lines are logged for every call, so a line is made cheaply: one JSON encoder
for all, the second's time stamp made once, and :func:`setup_logging` turns off
what the logging module would find for every record and no format here shows
(the caller's file and line, the thread's and the process's names), as the
logging HOWTO's "Optimization" section describes.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

agi_log = logging.getLogger("ivr.agi")
ami_log = logging.getLogger("ivr.ami")
menu_log = logging.getLogger("ivr.menu")
call_log = logging.getLogger("ivr.call")
store_log = logging.getLogger("ivr.store")
server_log = logging.getLogger("ivr.server")
api_log = logging.getLogger("ivr.api")


class RawJson(str):
    """A field's value that is JSON text already: written into the line as it is."""

    __slots__ = ()


class JsonFormatter(logging.Formatter):
    """One JSON object per line; extra fields passed as ``extra={"fields": {...}}``."""

    def __init__(self) -> None:
        super().__init__()
        self._json = json.JSONEncoder(ensure_ascii=False, default=str)  # json.dumps' own
        self._second = -1
        self._stamp = ""  # "%Y-%m-%dT%H:%M:%S" of _second (the same for many lines)

    def _ts(self, record: logging.LogRecord) -> str:
        second = int(record.created)
        if second != self._second:
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        return f"{self._stamp}.{int(record.msecs):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": self._ts(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        raw: list[tuple[str, str]] = []
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            for k, v in fields.items():
                if type(v) is RawJson:
                    raw.append((k, v))
                else:
                    out[k] = v
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        line = self._json.encode(out)
        for k, v in raw:  # spliced in at the end, after the other fields
            line = f"{line[:-1]}, {self._json.encode(k)}: {v}}}"
        return line


def setup_logging(level: str = "INFO", json_lines: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # not shown by either format: not worked out for every record
    logging._srcfile = None  # the caller's file and line
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False


def fields(**kw: Any) -> dict[str, Any]:
    """``log.info("msg", extra=fields(call=uid))``."""
    return {"fields": kw}
