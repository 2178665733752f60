"""The Graph API HTTP client: one ``httpx.Client``, auth, retries, pacing and usage headers.

The token travels only in ``Authorization: Bearer`` (never in a URL); ``appsecret_proof`` is a
parameter on every call when an app secret is set; ``next`` links are stripped of
``access_token`` and re-pointed at the configured base URL before they are followed. Errors are
classified by ``api/errors.py`` and retried according to ``api/retry.py``; the only sleeping in
the api layer happens in :meth:`GraphClient._send` through the injected ``sleep``. Called by
``api/graph.py`` (typed endpoints) and by core (``core/session.py`` builds one per page).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import random
import re
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx

import socialdesk
from socialdesk.api.errors import (
    GraphConnectionError,
    GraphError,
    GraphTimeout,
    MalformedResponse,
    classify,
)
from socialdesk.api.pacer import Pacer
from socialdesk.api.paging import strip_token
from socialdesk.api.redact import install_log_filter, redact, register_secret
from socialdesk.api.retry import RetryPolicy
from socialdesk.errors import AuthError
from socialdesk.models import RateUsage

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://graph.facebook.com"
BASE_URL_ENV = "SOCIALDESK_GRAPH_URL"
USER_AGENT = f"socialdesk/{socialdesk.__version__}"
_VERSION_RE = re.compile(r"^v\d+\.\d+$")
_TOKEN_RE = re.compile(r"[!-~]+\Z")
_VERSIONED_PATH_RE = re.compile(r"^/?v\d+\.\d+(/|$)")
_USAGE_HEADERS = ("x-app-usage", "x-page-usage", "x-business-use-case-usage")


def appsecret_proof(token: str, app_secret: str) -> str:
    """``hex(HMAC-SHA256(key=app_secret, msg=token))`` (GRAPH_API.md §9.2)."""
    return hmac.new(app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()


def _pct(value: object) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str):
        try:
            return int(float(value))
        except ValueError:
            return 0
    return 0


def parse_usage(headers: Mapping[str, str]) -> RateUsage | None:
    """The usage headers of one response as one :class:`RateUsage` (max across all entries).

    ``None`` when the response carried none: headers only appear "once enough calls have been
    made", so absence says nothing about usage.
    """
    entries: list[Mapping[str, Any]] = []
    lowered = {k.lower(): v for k, v in headers.items()}
    for name in _USAGE_HEADERS:
        raw = lowered.get(name)
        if not raw:
            continue
        try:
            value = json.loads(raw)
        except ValueError:
            log.debug("ignoring an unreadable %s header", name)
            continue
        if name == "x-business-use-case-usage" and isinstance(value, Mapping):
            for per_object in value.values():
                if isinstance(per_object, list):
                    entries.extend(e for e in per_object if isinstance(e, Mapping))
                elif isinstance(per_object, Mapping):
                    entries.append(per_object)
        elif isinstance(value, Mapping):
            entries.append(value)
    if not entries:
        return None
    return RateUsage(
        call_count=max(_pct(e.get("call_count")) for e in entries),
        total_time=max(_pct(e.get("total_time")) for e in entries),
        total_cputime=max(_pct(e.get("total_cputime")) for e in entries),
        regain_access_minutes=max(_pct(e.get("estimated_time_to_regain_access")) for e in entries),
    )


def _limit(params: Mapping[str, str]) -> int:
    """The ``limit`` of a query (0 when absent or unreadable)."""
    try:
        return int(params.get("limit", "0"))
    except ValueError:
        return 0


def _with_limit(params: dict[str, str], size: int) -> dict[str, str]:
    return {**params, "limit": str(size)}


class GraphClient:
    """A Graph API client bound to one token (one page).

    Attributes:
        calls: HTTP requests made so far, retries included.
        usage: the usage headers of the latest response that carried any.
        page_size: page size per edge after code-1 halving; ``api/graph.py`` asks for no more.
    """

    def __init__(
        self,
        token: str,
        *,
        base_url: str | None = None,
        version: str = "v26.0",
        app_secret: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        max_attempts: int = 6,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        pace: bool = True,
        retry_policy: RetryPolicy | None = None,
        rand: Callable[[], float] = random.random,
    ) -> None:
        """Args:
        token: the page access token.
        base_url: Graph origin; default ``$SOCIALDESK_GRAPH_URL`` or https://graph.facebook.com.
        version: ``vNN.N`` put in every path.
        app_secret: when set, ``appsecret_proof`` goes with every call.
        transport: an httpx transport (``httpx.MockTransport``, the sandbox's) for tests.
        timeout: read/write/pool timeout in seconds (connecting gets 5 s).
        max_attempts: attempts per request, the first included (ignored with ``retry_policy``).
        sleep: how to wait (injectable); the only place the api layer sleeps.
        monotonic: clock for the pacer.
        pace: space Conversations API calls and slow down on high usage.
        retry_policy: backoff parameters; default :class:`RetryPolicy` with ``max_attempts``.
        rand: ``[0, 1)`` source for backoff jitter.
        """
        if not token:
            raise ValueError("a Graph client needs a token")
        if not _TOKEN_RE.match(token):
            # A CR/LF in the header is an httpx protocol error that looked like a network
            # failure (retried, exit 4); no request is worth making with such a token.
            raise AuthError(
                "the access token contains whitespace, control or non-ASCII characters",
                hint="store the token alone, on one line, exactly as Meta shows it",
            )
        if not _VERSION_RE.match(version):
            raise ValueError(f"bad Graph API version {version!r} (expected like v26.0)")
        register_secret(token)
        install_log_filter()
        self._token = token
        self._proof: str | None = None
        if app_secret:
            register_secret(app_secret)
            self._proof = appsecret_proof(token, app_secret)
            register_secret(self._proof)
        base = base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
        self.base_url = base.rstrip("/")
        self.version = version
        self._sleep = sleep
        self._rand = rand
        self._policy = retry_policy or RetryPolicy(max_attempts=max_attempts)
        self._pacer = Pacer(monotonic=monotonic) if pace else None
        self.calls = 0
        self.usage: RateUsage | None = None
        self.page_size: dict[str, int] = {}
        self._http = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=5.0),
            headers={
                "User-Agent": USER_AGENT,
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
            },
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"GraphClient(base_url={self.base_url!r}, version={self.version!r})"

    # -- URLs -------------------------------------------------------------------------------

    def url(self, path: str) -> str:
        """The absolute URL of a Graph path, with the version prefix unless it has one."""
        if path.startswith(("http://", "https://")):
            return self._rebase(path)
        clean = path if path.startswith("/") else "/" + path
        if not _VERSIONED_PATH_RE.match(clean):
            clean = f"/{self.version}{clean}"
        return self.base_url + clean

    def _rebase(self, url: str) -> str:
        """A ``next`` link re-pointed at our base origin: the token header goes nowhere else."""
        link = urlsplit(strip_token(url))
        base = urlsplit(self.base_url)
        if (link.scheme, link.netloc) != (base.scheme, base.netloc):
            link = link._replace(scheme=base.scheme, netloc=base.netloc)
        return urlunsplit(link)

    def _params(self, params: Mapping[str, str] | None) -> dict[str, str]:
        out = {k: str(v) for k, v in (params or {}).items() if k.lower() != "access_token"}
        if self._proof:
            out["appsecret_proof"] = self._proof
        else:
            out.pop("appsecret_proof", None)
        return out

    # -- public verbs -----------------------------------------------------------------------

    def get(
        self, path: str, params: Mapping[str, str] | None = None, *, edge: str = ""
    ) -> dict[str, Any]:
        """GET a Graph path (``/me``, ``/{page}/conversations``); retried when transient.

        ``edge`` names the edge for pacing and for the remembered page size.
        """
        query = self._params(params)
        remembered = self.page_size.get(edge) if edge else None
        if remembered is not None and _limit(query) > remembered:
            query["limit"] = str(remembered)
        return self._send("GET", self.url(path), query, edge=edge, idempotent=True)

    def get_url(self, url: str, *, edge: str = "") -> dict[str, Any]:
        """GET an absolute ``next`` link (``access_token`` stripped, proof re-added)."""
        parts = urlsplit(self._rebase(url))
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        bare = urlunsplit(parts._replace(query=""))
        return self.get(bare, query, edge=edge)

    def post(self, path: str, data: Mapping[str, Any], *, retry: bool = False) -> dict[str, Any]:
        """POST to a Graph path; never retried unless ``retry`` (only for idempotent writes).

        Nested values (the Send API's ``recipient``/``message``) go as a JSON body, flat ones as
        a form; booleans are sent as ``true``/``false``.
        """
        nested = any(isinstance(v, Mapping | list | tuple) for v in data.values())
        if nested:
            body: dict[str, Any] = {"json": dict(data)}
        else:
            body = {"data": {k: _form_value(v) for k, v in data.items() if v is not None}}
        return self._send(
            "POST", self.url(path), self._params(None), edge="", idempotent=retry, body=body
        )

    def delete(self, path: str, *, retry: bool = False) -> dict[str, Any]:
        """DELETE a Graph object; not retried by default (a second delete reports "no object")."""
        return self._send("DELETE", self.url(path), self._params(None), edge="", idempotent=retry)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> GraphClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- the loop ---------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        url: str,
        params: dict[str, str],
        *,
        edge: str,
        idempotent: bool,
        body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        attempt = 0
        while True:
            attempt += 1
            if self._pacer is not None:
                wait = self._pacer.reserve(edge, self.usage)
                if wait > 0:
                    log.debug("pacing %s: waiting %.2f s", edge or method, wait)
                    self._sleep(wait)
            error = self._attempt(method, url, params, body)
            if not isinstance(error, GraphError):
                return error
            can_halve = bool(edge) and _limit(params) > 1
            decision = self._policy.decide(
                error, attempt, idempotent=idempotent, can_halve=can_halve, rand=self._rand
            )
            log.debug(
                "%s %s failed (%s); attempt %d: %s",
                method,
                redact(url),
                type(error).__name__,
                attempt,
                decision.reason,
            )
            if not decision.retry:
                raise error from None
            if decision.halve_page:
                size = max(1, _limit(params) // 2)
                self.page_size[edge] = size
                params = _with_limit(params, size)
                log.info("the Graph API asked for less data on %s: page size now %d", edge, size)
            if decision.delay > 0:
                self._sleep(decision.delay)

    def _attempt(
        self, method: str, url: str, params: dict[str, str], body: dict[str, Any] | None
    ) -> dict[str, Any] | GraphError:
        """One HTTP request: the decoded body, or the classified error (never raised here)."""
        self.calls += 1
        started = time.monotonic()
        try:
            response = self._http.request(method, url, params=params, **(body or {}))
        except httpx.TimeoutException as exc:
            sent = not isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout)
            return GraphTimeout(
                f"the Graph API did not answer in time ({type(exc).__name__})",
                "check the network and try again",
                request_sent=sent,
                is_transient=True,
            )
        except httpx.TransportError as exc:
            sent = not isinstance(exc, httpx.ConnectError | httpx.UnsupportedProtocol)
            return GraphConnectionError(
                f"could not reach the Graph API ({type(exc).__name__})",
                "check the network (and SOCIALDESK_GRAPH_URL) and try again",
                request_sent=sent,
                is_transient=True,
            )
        log.debug(
            "%s %s -> %d in %.0f ms",
            method,
            redact(strip_token(url)),
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        usage = parse_usage(response.headers)
        if usage is not None:
            self.usage = usage
        return self._decode(response)

    def _decode(self, response: httpx.Response) -> dict[str, Any] | GraphError:
        status = response.status_code
        try:
            decoded: object = response.json()
        except (ValueError, UnicodeDecodeError):
            decoded = None
        if 200 <= status < 300:
            if isinstance(decoded, dict) and "error" not in decoded:
                return decoded
            if isinstance(decoded, dict):
                return classify(status, decoded, usage=self.usage)
            return MalformedResponse(
                "the Graph API returned malformed or truncated JSON",
                "try again; if it persists, report it with the command you ran",
                http_status=status,
            )
        return classify(status, decoded, usage=self.usage)


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
