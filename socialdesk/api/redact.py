"""Masking of secrets in any text that may reach a log, a terminal or an error message.

The Graph client registers the page token (and the app secret and its proof) here when it is
created; :func:`redact` then masks them wherever they appear, together with the usual carriers
(``access_token=``, ``appsecret_proof=``, ``Authorization:`` and ``Bearer`` values).
:class:`RedactingFilter` applies the same masking to log records; :func:`install_log_filter`
puts it on the ``socialdesk``, ``httpx`` and ``httpcore`` loggers (httpx logs every request URL
at INFO). Called by ``api/client.py``, ``api/errors.py`` and the CLI's logging setup.
"""

from __future__ import annotations

import logging
import re
import threading

MASK = "[REDACTED]"

# A registered secret shorter than this is not masked by value: masking "a" or "1" everywhere
# would garble logs while protecting nothing (real page tokens are ~200 characters).
_MIN_SECRET_LEN = 6

_PARAM_NAMES = (
    "access_token",
    "appsecret_proof",
    "input_token",
    "client_secret",
    "fb_exchange_token",
    "app_secret",
)
_PARAM_RE = re.compile(
    r"(?P<key>\b(?:" + "|".join(_PARAM_NAMES) + r")(?:=|%3D))(?P<value>[^&\s\"'<>#]+)",
    re.IGNORECASE,
)
# The same names as JSON keys or Python reprs: {"access_token": "..."} / 'access_token': '...'.
_QUOTED_RE = re.compile(
    r"(?P<key>[\"'](?:" + "|".join(_PARAM_NAMES) + r")[\"']\s*:\s*)[\"'][^\"']*[\"']",
    re.IGNORECASE,
)
_AUTH_HEADER_RE = re.compile(
    r"(?P<key>\bauthorization[\"']?\s*[:=,]\s*(?:b?[\"'])?)(?P<value>[^\r\n\"']+)",
    re.IGNORECASE,
)
_BEARER_RE = re.compile(r"(?P<key>\bbearer\s+)(?P<value>[A-Za-z0-9._~+/=\-|%]+)", re.IGNORECASE)

_lock = threading.Lock()
_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Mask ``value`` wherever it appears from now on (tokens, app secrets, proofs)."""
    if value and len(value) >= _MIN_SECRET_LEN:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """``text`` with every registered secret and every credential-carrying pattern masked."""
    if not text:
        return text
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    text = _PARAM_RE.sub(lambda m: m.group("key") + MASK, text)
    text = _QUOTED_RE.sub(lambda m: m.group("key") + f'"{MASK}"', text)
    text = _AUTH_HEADER_RE.sub(lambda m: m.group("key") + MASK, text)
    return _BEARER_RE.sub(lambda m: m.group("key") + MASK, text)


class RedactingFilter(logging.Filter):
    """A logging filter that masks secrets in the message, its arguments and the traceback.

    It never drops a record; it rewrites it in place so every handler downstream sees the masked
    text. Attach it to a handler to cover every logger, or use :func:`install_log_filter`.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not hide the record
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_FILTER = RedactingFilter()
LOGGER_PREFIXES = ("socialdesk", "httpx", "httpcore")
# Filters on a logger do not apply to records that propagate up from its children, so the
# known children of httpcore are covered by name as well.
_KNOWN_LOGGERS = (
    "socialdesk",
    "socialdesk.api",
    "socialdesk.api.client",
    "socialdesk.api.paging",
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)


def install_log_filter() -> RedactingFilter:
    """Put the redacting filter on the socialdesk/httpx/httpcore loggers and their children.

    Idempotent. Covers every such logger that exists at call time plus the known httpx/httpcore
    ones; a CLI that installs its own handler should also attach the returned filter to it.
    """
    names = set(_KNOWN_LOGGERS)
    for name in list(logging.root.manager.loggerDict):
        if any(name == p or name.startswith(p + ".") for p in LOGGER_PREFIXES):
            names.add(name)
    for name in names:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    return _FILTER
