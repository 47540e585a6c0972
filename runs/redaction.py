"""Secret redaction: values resolved for a run are replaced in everything stored, broadcast or logged.

A server that echoes a credential rarely echoes it verbatim: JSON escapes it (`\\/` for `/`, `\\"`, `\\u00e9`),
a URL encodes it, a header or body carries it in base64. Each secret is therefore masked in all those
forms (`forms()`); base64 at each of the three alignments a secret can have inside a longer encoded text."""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import traceback
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "[redacted]"
# Very short values would mask ordinary text; credential fields are longer than this in practice.
MIN_SECRET_LENGTH = 4
# An encoded form shorter than this (a short secret's base64 middle) would mask ordinary text.
MIN_FORM_LENGTH = 6


def _json_forms(value: str) -> set[str]:
    out = set()
    for ascii_only in (True, False):
        escaped = json.dumps(value, ensure_ascii=ascii_only)[1:-1]
        upper_hex = re.sub(r"\\u([0-9a-f]{4})", lambda m: "\\u" + m.group(1).upper(), escaped)
        for form in (escaped, upper_hex):
            out.add(form)
            out.add(form.replace("/", "\\/"))  # PHP's json_encode and others escape the slash
    return out


def _url_forms(value: str) -> set[str]:
    out = set()
    for encoded in (quote(value, safe=""), quote_plus(value, safe=""), quote(value, safe="/")):
        out.add(encoded)
        out.add(re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), encoded))
    return out


def _base64_forms(value: str) -> set[str]:
    """The base64 characters that depend only on the secret's bytes, for each alignment (0, 1, 2) of the
    secret within a longer encoded text: whatever precedes or follows it, these characters appear."""
    raw = value.encode()
    whole = base64.b64encode(raw).decode()  # the secret encoded on its own, padding and all
    out = {whole, whole.rstrip("="), whole.replace("+", "-").replace("/", "_")}
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw + b"\0\0").decode()
        first = -(-8 * offset // 6)  # first character made only of the secret's bits
        last = 8 * (offset + len(raw)) // 6  # one past the last such character
        middle = encoded[first:last]
        out.add(middle)
        out.add(middle.replace("+", "-").replace("/", "_"))  # the URL-safe alphabet
    return out


def forms(value: str) -> list[str]:
    """Every form of `value` to mask: as is, JSON-escaped, URL-encoded and base64-encoded."""
    found = {value} | _json_forms(value) | _url_forms(value) | _base64_forms(value)
    return [f for f in found if f == value or len(f) >= MIN_FORM_LENGTH]


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
        self.secrets: set[str] = set()
        self.values: list[str] = []  # every form of every secret, longest first
        self._lock = threading.Lock()

    def add(self, value: str) -> None:
        if not isinstance(value, str) or len(value) < MIN_SECRET_LENGTH:
            return
        with self._lock:
            if value in self.secrets:
                return
            self.secrets.add(value)
            new = [f for f in forms(value) if f not in self.values]
            # Longest first so that a secret containing another is masked whole.
            self.values = sorted([*self.values, *new], key=len, reverse=True)
        with _registry_lock:
            for v in new:
                _registry[v] = _registry.get(v, 0) + 1

    def forget(self) -> None:
        with _registry_lock:
            for v in self.values:
                n = _registry.get(v, 0) - 1
                if n <= 0:
                    _registry.pop(v, None)
                else:
                    _registry[v] = n

    def text(self, text: str) -> str:
        """`text` with every secret masked. Call it before cutting a text short: a cut secret is no longer
        recognised, and its first characters would leak."""
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
