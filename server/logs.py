"""The server's logs: one line per event, as text or as a JSON object ([server] log_format)."""
from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

FORMATS = ("text", "json")


class TextLine(logging.Formatter):
    """`time logger LEVEL message`, a traceback folded onto the same line (`\\n` written out)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(name)s %(levelname)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace("\n", "\\n")


class JsonLine(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, and the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False)


def configure(log_format: str, level: int = logging.INFO) -> None:
    """Send every logger's events to stderr, one line each, in log_format (text or json)."""
    if log_format not in FORMATS:
        raise ValueError(f"[server] log_format must be one of {', '.join(FORMATS)}, got {log_format!r}")
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLine() if log_format == "json" else TextLine())
    logging.basicConfig(level=level, handlers=[handler], force=True)
