"""Named loggers, one per area, and the structured (key=value / JSON) format."""

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


class JsonFormatter(logging.Formatter):
    """One JSON object per line; extra fields passed as ``extra={"fields": {...}}``."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            out.update(fields)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def setup_logging(level: str = "INFO", json_lines: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def fields(**kw: Any) -> dict[str, Any]:
    """``log.info("msg", extra=fields(call=uid))``."""
    return {"fields": kw}
