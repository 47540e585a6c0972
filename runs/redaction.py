"""Secret redaction: values resolved for a run are replaced in everything stored, broadcast or logged."""

from __future__ import annotations

import logging
import threading
from typing import Any

MASK = "[redacted]"
# Very short values would mask ordinary text; credential fields are longer than this in practice.
MIN_SECRET_LENGTH = 4

# Every secret value currently known to this process, for the logging filter.
_registry: dict[str, int] = {}
_registry_lock = threading.Lock()


def _scrub(text: str, values) -> str:
    for v in values:
        if v in text:
            text = text.replace(v, MASK)
    return text


class Redactor:
    """Per-run set of secret values; `value()` returns a copy of any JSON value with them masked."""

    def __init__(self) -> None:
        self.values: list[str] = []
        self._lock = threading.Lock()

    def add(self, value: str) -> None:
        if not isinstance(value, str) or len(value) < MIN_SECRET_LENGTH:
            return
        with self._lock:
            if value in self.values:
                return
            # Longest first so that a secret containing another is masked whole.
            self.values = sorted([*self.values, value], key=len, reverse=True)
        with _registry_lock:
            _registry[value] = _registry.get(value, 0) + 1

    def forget(self) -> None:
        with _registry_lock:
            for v in self.values:
                n = _registry.get(v, 0) - 1
                if n <= 0:
                    _registry.pop(v, None)
                else:
                    _registry[v] = n

    def text(self, text: str) -> str:
        return _scrub(text, self.values) if self.values else text

    def value(self, value: Any) -> Any:
        if not self.values:
            return value
        return _redact(value, self.values)


def _redact(value: Any, values: list[str]) -> Any:
    if isinstance(value, str):
        return _scrub(value, values)
    if isinstance(value, dict):
        return {_redact(k, values) if isinstance(k, str) else k: _redact(v, values) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redact(v, values) for v in value]
    return value


class SecretLogFilter(logging.Filter):
    """Masks any secret value a run resolved in this process from log messages and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _registry:
            return True
        values = sorted(_registry, key=len, reverse=True)
        try:
            message = record.getMessage()
        except Exception:
            return True
        scrubbed = _scrub(message, values)
        if record.exc_info and record.exc_info[1] is not None:
            import traceback

            text = "".join(traceback.format_exception(*record.exc_info))
            record.exc_text = _scrub(text, values)
            record.exc_info = None
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True


def install_log_filter() -> None:
    """Attach the filter to every root handler (records from all loggers pass through them)."""
    root = logging.getLogger()
    for handler in root.handlers:
        if not any(isinstance(f, SecretLogFilter) for f in handler.filters):
            handler.addFilter(SecretLogFilter())
