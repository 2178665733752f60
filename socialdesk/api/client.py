"""The Graph API HTTP client: one ``httpx.Client``, auth, retries, pacing and usage headers.

The token travels only in ``Authorization: Bearer`` (never in a URL); ``appsecret_proof`` is a
parameter on every call when an app secret is set. ``next`` links are stripped of
``access_token`` and followed only on the configured origin or Graph's own host (then
re-pointed at the configured origin): a link to any other host is refused, so the token never
goes there. Errors are classified by ``api/errors.py`` and retried according to
``api/retry.py``; the only sleeping in the api layer happens in :meth:`GraphClient._pause`
through the injected ``sleep``, and every pause longer than pacing is announced to the
``on_wait`` callback first (front ends print it: waiting is never silent).

Every request ends: bodies are streamed with a size cap (``max_body_bytes``) and an overall
per-request deadline (``request_deadline``) on top of httpx's per-read timeout, so a response
that drips a byte every few seconds or runs to hundreds of megabytes stops with a clear error.
An :meth:`GraphClient.operation` may add a deadline for a whole unit of work (a sync).

One client may serve several threads (the inbox's workers): counters and remembered page sizes
are guarded by a lock, the pacer is per Page and thread-safe (``api/pacer.py``), and calls are
counted per :meth:`GraphClient.operation` in thread-local scope, so a reply sent by one worker
is never counted in another worker's sync. Called by ``api/graph.py`` (typed endpoints) and by
core (one client per Page per process).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

import socialdesk
from socialdesk.api.errors import (
    DeadlineExceeded,
    ForeignLink,
    GraphConnectionError,
    GraphError,
    GraphTimeout,
    MalformedResponse,
    RequestDeadline,
    ResponseTooLarge,
    classify,
)
from socialdesk.api.pacer import Pacer, pacer_for
from socialdesk.api.paging import (
    SECRET_PARAMS,
    encode_params,
    param_value,
    replace_param,
    segment_key,
    segments,
    strip_token,
)
from socialdesk.api.redact import install_log_filter, redact, register_secret
from socialdesk.api.retry import RetryPolicy
from socialdesk.errors import AuthError, ConfigError
from socialdesk.models import RateUsage, Wait

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://graph.facebook.com"
BASE_URL_ENV = "SOCIALDESK_GRAPH_URL"
GRAPH_HOSTS = frozenset({"graph.facebook.com"})
"""Hosts Graph itself writes into ``next`` links; re-pointed at the configured origin."""
USER_AGENT = f"socialdesk/{socialdesk.__version__}"
MAX_BODY_BYTES = 16 * 1024 * 1024
"""Largest response body read (a full page of 100 conversations x 25 messages is ~4 MB)."""
REQUEST_DEADLINE = 90.0
"""Seconds one request may take in all, however the bytes trickle in."""
REPORT_SLOWDOWN_FROM = 1.0
"""Usage slowdowns at least this long are announced to ``on_wait`` (pacing never is)."""
_VERSION_RE = re.compile(r"^v\d+\.\d+$")
_TOKEN_RE = re.compile(r"[!-~]+\Z")
_VERSIONED_PATH_RE = re.compile(r"^/?v\d+\.\d+(/|$)")
_USAGE_HEADERS = ("x-app-usage", "x-page-usage", "x-business-use-case-usage")

WaitFn = Callable[[Wait], None]


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


def _peak(entry: Mapping[str, Any]) -> int:
    return max(_pct(entry.get(k)) for k in ("call_count", "total_time", "total_cputime"))


def parse_usage(headers: Mapping[str, str]) -> RateUsage | None:
    """The usage headers of one response as one :class:`RateUsage` (max across all entries).

    ``None`` when the response carried none: headers only appear "once enough calls have been
    made", so absence says nothing about usage. ``by_type`` keeps the peak of each BUC
    ``type`` (the Messenger budget is the ``messenger`` one).
    """
    entries: list[Mapping[str, Any]] = []
    typed: dict[str, int] = {}
    lowered = {k.lower(): v for k, v in headers.items()}
    for name in _USAGE_HEADERS:
        raw = lowered.get(name)
        if not raw:
            continue
        try:
            value = json.loads(raw)
        except (ValueError, RecursionError):  # RecursionError: nested thousands deep
            log.debug("ignoring an unreadable %s header", name)
            continue
        if name == "x-business-use-case-usage" and isinstance(value, Mapping):
            for per_object in value.values():
                if isinstance(per_object, list):
                    found = [e for e in per_object if isinstance(e, Mapping)]
                elif isinstance(per_object, Mapping):
                    found = [per_object]
                else:
                    found = []
                entries.extend(found)
                for entry in found:
                    kind = entry.get("type")
                    if isinstance(kind, str) and kind:
                        typed[kind] = max(typed.get(kind, 0), _peak(entry))
        elif isinstance(value, Mapping):
            entries.append(value)
    if not entries:
        return None
    return RateUsage(
        call_count=max(_pct(e.get("call_count")) for e in entries),
        total_time=max(_pct(e.get("total_time")) for e in entries),
        total_cputime=max(_pct(e.get("total_cputime")) for e in entries),
        regain_access_minutes=max(_pct(e.get("estimated_time_to_regain_access")) for e in entries),
        by_type=tuple(sorted(typed.items())),
    )


def _limit(query: list[str]) -> int:
    """The ``limit`` of a query (0 when absent or unreadable)."""
    try:
        return int(param_value(query, "limit") or "0")
    except ValueError:
        return 0


@dataclass
class Operation:
    """One unit of work on a client (a sync, a reply): its calls, deadline and wait callback.

    Calls are counted for every operation open on the calling thread (nested ones included).
    """

    name: str
    started: float
    deadline: float | None = None
    """``monotonic()`` time after which no further call or wait starts."""
    on_wait: WaitFn | None = None
    calls: int = 0
    waits: list[Wait] = field(default_factory=list)
    """Every announced wait, in order."""


@dataclass
class _Response:
    status: int
    headers: httpx.Headers
    content: bytes


class GraphClient:
    """A Graph API client bound to one token (one page); safe to share between threads.

    Attributes:
        page_size: page size per edge after a halving (code 1, a timeout, an over-large body);
            ``api/graph.py`` asks for no more.
    """

    def __init__(
        self,
        token: str,
        *,
        page_id: str | None = None,
        pacer: Pacer | None = None,
        base_url: str | None = None,
        version: str = "v26.0",
        app_secret: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        request_deadline: float = REQUEST_DEADLINE,
        max_body_bytes: int = MAX_BODY_BYTES,
        max_attempts: int = 6,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        pace: bool = True,
        retry_policy: RetryPolicy | None = None,
        rand: Callable[[], float] = random.random,
        on_wait: WaitFn | None = None,
    ) -> None:
        """Args:
        token: the page access token (or an ``APPID|APPSECRET`` app token for debug_token).
        page_id: the Page the token is for: clients of one Page share its pacer.
        pacer: an explicit pacer (overrides the per-Page registry).
        base_url: Graph origin; default ``$SOCIALDESK_GRAPH_URL`` or https://graph.facebook.com.
        version: ``vNN.N`` put in every path.
        app_secret: when set, ``appsecret_proof`` goes with every call.
        transport: an httpx transport (``httpx.MockTransport``, the sandbox's) for tests.
        timeout: read/write/pool timeout in seconds (connecting gets 5 s).
        request_deadline: seconds one request may take in all (a dripping body stops).
        max_body_bytes: largest body read; a larger one raises :class:`ResponseTooLarge`.
        max_attempts: attempts per request, the first included (ignored with ``retry_policy``).
        sleep: how to wait (injectable); the only place the api layer sleeps.
        monotonic: clock for deadlines (and for the pacer unless one is given).
        pace: space Conversations API calls and slow down on high usage.
        retry_policy: backoff parameters; default :class:`RetryPolicy` with ``max_attempts``.
        rand: ``[0, 1)`` source for backoff jitter.
        on_wait: told about every wait outside an operation that has its own callback.
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
        if transport is None:
            _check_origin(self.base_url)
        self.version = version
        self.page_id = page_id
        self._sleep = sleep
        self._monotonic = monotonic
        self._rand = rand
        self._policy = retry_policy or RetryPolicy(max_attempts=max_attempts)
        self.request_deadline = request_deadline
        self.max_body_bytes = max_body_bytes
        self.on_wait = on_wait
        self._pacer: Pacer | None = None
        if pacer is not None:
            self._pacer = pacer
        elif pace and page_id and monotonic is time.monotonic:
            self._pacer = pacer_for(page_id)
        elif pace:
            self._pacer = Pacer(monotonic=monotonic)
        self._lock = threading.Lock()
        self._local = threading.local()
        self._calls = 0
        self._usage: RateUsage | None = None
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

    # -- shared state -----------------------------------------------------------------------

    @property
    def calls(self) -> int:
        """HTTP requests made so far by this client, retries included (all threads)."""
        with self._lock:
            return self._calls

    @property
    def usage(self) -> RateUsage | None:
        """The usage headers of the latest response that carried any (per Page when paced)."""
        if self._pacer is not None:
            return self._pacer.usage
        with self._lock:
            return self._usage

    @property
    def pacer(self) -> Pacer | None:
        """The Page's pacer (``None`` when pacing is off)."""
        return self._pacer

    def page_size_for(self, edge: str, requested: int) -> int:
        """``requested``, or less when a halving on ``edge`` made the client remember less."""
        with self._lock:
            return max(1, min(requested, self.page_size.get(edge, requested)))

    def _remember_size(self, edge: str, size: int) -> None:
        with self._lock:
            self.page_size[edge] = min(size, self.page_size.get(edge, size))

    # -- operations -------------------------------------------------------------------------

    def _ops(self) -> list[Operation]:
        ops: list[Operation] | None = getattr(self._local, "ops", None)
        if ops is None:
            ops = self._local.ops = []
        return ops

    @contextmanager
    def operation(
        self, name: str, *, deadline_s: float | None = None, on_wait: WaitFn | None = None
    ) -> Iterator[Operation]:
        """Count this thread's calls under ``name``; optionally bound them by ``deadline_s``.

        Past the deadline no new request or wait starts: :class:`DeadlineExceeded` is raised
        (a request already running still ends by its own ``request_deadline``).
        """
        started = self._monotonic()
        op = Operation(
            name,
            started,
            deadline=started + deadline_s if deadline_s is not None else None,
            on_wait=on_wait,
        )
        ops = self._ops()
        ops.append(op)
        try:
            yield op
        finally:
            ops.remove(op)

    def _count_call(self) -> None:
        with self._lock:
            self._calls += 1
        for op in self._ops():
            op.calls += 1

    def _deadline(self) -> tuple[Operation, float] | None:
        """The nearest operation deadline on this thread, with its operation."""
        bounded = [(op, op.deadline) for op in self._ops() if op.deadline is not None]
        if not bounded:
            return None
        return min(bounded, key=lambda pair: pair[1])

    def _check_deadline(self, extra: float = 0.0) -> None:
        found = self._deadline()
        if found is None:
            return
        op, deadline = found
        if self._monotonic() + extra > deadline:
            spent = deadline - op.started
            raise DeadlineExceeded(
                f"{op.name} did not finish within its {spent:.0f} s deadline",
                hint="what was read is kept; the next run continues from there",
                reason="deadline",
            )

    def _pause(self, seconds: float, reason: str, edge: str, *, announce: bool) -> None:
        """Sleep ``seconds``, first telling the wait callbacks (unless it is plain pacing)."""
        self._check_deadline(seconds)
        if announce:
            wait = Wait(seconds=seconds, reason=reason, edge=edge)
            told = False
            for op in reversed(self._ops()):
                op.waits.append(wait)
                if op.on_wait is not None and not told:
                    op.on_wait(wait)
                    told = True
            if not told and self.on_wait is not None:
                self.on_wait(wait)
        self._sleep(seconds)

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
        """A ``next`` link re-pointed at our base origin, or :class:`ForeignLink`.

        Links on the configured origin are kept; links on Graph's own host are re-pointed at it
        (a proxy or the sandbox as base); any other host is refused before any request.
        """
        link = urlsplit(strip_token(url))
        base = urlsplit(self.base_url)
        if (link.scheme, link.netloc) == (base.scheme, base.netloc):
            return urlunsplit(link)
        if link.scheme == "https" and (link.hostname or "") in GRAPH_HOSTS:
            return urlunsplit(link._replace(scheme=base.scheme, netloc=base.netloc))
        host = ascii(link.netloc)[1:-1][:80]
        raise ForeignLink(
            f"the Graph API sent a next link to another host ({host}); refused",
            hint="nothing was sent there; if it persists, check SOCIALDESK_GRAPH_URL",
            reason="foreign_link",
        )

    def _query(self, query: list[str]) -> list[str]:
        kept = [s for s in query if segment_key(s).lower() not in SECRET_PARAMS]
        if self._proof:
            kept.append(f"appsecret_proof={self._proof}")
        return kept

    # -- public verbs -----------------------------------------------------------------------

    def get(
        self, path: str, params: Mapping[str, str] | None = None, *, edge: str = ""
    ) -> dict[str, Any]:
        """GET a Graph path (``/me``, ``/{page}/conversations``); retried when transient.

        ``edge`` names the edge for pacing and for the remembered page size.
        """
        return self._get(self.url(path), encode_params(params or {}), edge)

    def get_url(self, url: str, *, edge: str = "") -> dict[str, Any]:
        """GET an absolute ``next`` link (``access_token`` stripped, proof re-added).

        The link's query is sent as Graph wrote it (bare keys stay bare).
        """
        parts = urlsplit(self._rebase(url))
        bare = urlunsplit(parts._replace(query=""))
        return self._get(bare, segments(parts.query), edge)

    def get_raw(
        self, path: str, params: Mapping[str, str] | None = None, *, edge: str = ""
    ) -> tuple[dict[str, Any], httpx.Headers]:
        """Like :meth:`get`, also returning the response headers (``doctor --probe``)."""
        box: list[httpx.Headers] = []
        body = self._get(self.url(path), encode_params(params or {}), edge, headers_out=box)
        return body, box[-1]

    def _get(
        self,
        url: str,
        query: list[str],
        edge: str,
        *,
        headers_out: list[httpx.Headers] | None = None,
    ) -> dict[str, Any]:
        if edge and _limit(query) > 0:
            remembered = self.page_size_for(edge, _limit(query))
            if remembered < _limit(query):
                query = replace_param(query, "limit", str(remembered))
        return self._send(
            "GET", url, self._query(query), edge=edge, idempotent=True, headers_out=headers_out
        )

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
            "POST", self.url(path), self._query([]), edge="", idempotent=retry, body=body
        )

    def delete(self, path: str, *, retry: bool = False) -> dict[str, Any]:
        """DELETE a Graph object; not retried by default (a second delete reports "no object")."""
        return self._send("DELETE", self.url(path), self._query([]), edge="", idempotent=retry)

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
        query: list[str],
        *,
        edge: str,
        idempotent: bool,
        body: dict[str, Any] | None = None,
        headers_out: list[httpx.Headers] | None = None,
    ) -> dict[str, Any]:
        attempt = 0
        while True:
            attempt += 1
            self._check_deadline()
            if self._pacer is not None:
                usage = self._pacer.usage
                wait = self._pacer.reserve(edge, usage)
                if wait > 0:
                    slowdown = self._pacer.extra_delay(usage)
                    announce = slowdown >= REPORT_SLOWDOWN_FROM
                    reason = (
                        f"API usage at {usage.peak} %: slowing down"
                        if announce and usage is not None
                        else "pacing"
                    )
                    log.debug("pacing %s: waiting %.2f s", edge or method, wait)
                    self._pause(wait, reason, edge, announce=announce)
            outcome = self._attempt(method, url, query, body, headers_out)
            if not isinstance(outcome, GraphError):
                return outcome
            error = outcome
            can_halve = bool(edge) and _limit(query) > 1
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
                size = max(1, _limit(query) // 2)
                self._remember_size(edge, size)
                query = replace_param(query, "limit", str(size))
                log.info("%s on %s: page size now %d", decision.reason, edge, size)
            if decision.delay > 0:
                label = f"{decision.reason} ({error.code})" if error.code else decision.reason
                self._pause(decision.delay, f"{label}: attempt {attempt + 1}", edge, announce=True)

    def _attempt(
        self,
        method: str,
        url: str,
        query: list[str],
        body: dict[str, Any] | None,
        headers_out: list[httpx.Headers] | None,
    ) -> dict[str, Any] | GraphError:
        """One HTTP request: the decoded body, or the classified error (never raised here)."""
        self._count_call()
        started = self._monotonic()
        full = url + ("?" + "&".join(query) if query else "")
        try:
            response = self._read(self._http.build_request(method, full, **(body or {})))
        except GraphError as exc:
            return exc
        except httpx.TimeoutException as exc:
            sent = not isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout)
            return GraphTimeout(
                f"the Graph API did not answer in time ({type(exc).__name__})",
                "check the network and try again",
                request_sent=sent,
                is_transient=True,
                reason="timeout",
            )
        except httpx.TransportError as exc:
            sent = not isinstance(exc, httpx.ConnectError | httpx.UnsupportedProtocol)
            return GraphConnectionError(
                f"could not reach the Graph API ({type(exc).__name__})",
                "check the network (and SOCIALDESK_GRAPH_URL) and try again",
                request_sent=sent,
                is_transient=True,
                reason="connection",
            )
        log.debug(
            "%s %s -> %d in %.0f ms",
            method,
            redact(strip_token(url)),
            response.status,
            (self._monotonic() - started) * 1000,
        )
        if headers_out is not None:
            headers_out.append(response.headers)
        usage = parse_usage(response.headers)
        if usage is not None:
            if self._pacer is not None:
                self._pacer.record_usage(usage)
            with self._lock:
                self._usage = usage
        return self._decode(response)

    def _read(self, request: httpx.Request) -> _Response:
        """Send ``request`` and read its body within the size cap and the request deadline."""
        deadline = self._monotonic() + self.request_deadline
        response = self._http.send(request, stream=True)
        try:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_body_bytes:
                raise self._too_large(int(declared))
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > self.max_body_bytes:
                    raise self._too_large(size)
                chunks.append(chunk)
                if self._monotonic() > deadline:
                    raise RequestDeadline(
                        f"the Graph API answer took longer than {self.request_deadline:.0f} s"
                        f" ({size} bytes so far); stopped reading",
                        "check the network and try again",
                        request_sent=True,
                        is_transient=True,
                        reason="timeout",
                    )
        finally:
            response.close()
        return _Response(response.status_code, response.headers, b"".join(chunks))

    def _too_large(self, size: int) -> ResponseTooLarge:
        return ResponseTooLarge(
            f"the Graph API answer is larger than {self.max_body_bytes // (1024 * 1024)} MB"
            f" ({size} bytes read); stopped reading",
            "socialdesk asks for smaller pages; if it persists, report it",
            reason="too_large",
        )

    def _decode(self, response: _Response) -> dict[str, Any] | GraphError:
        status = response.status
        try:
            decoded: object = json.loads(response.content.decode("utf-8"))
        except (ValueError, UnicodeDecodeError, RecursionError):
            # RecursionError: JSON nested thousands deep ("[[[[…"), which a hostile or broken
            # endpoint can send within the size cap; it is malformed like any other.
            decoded = None
        if 200 <= status < 300:
            if isinstance(decoded, dict) and "error" not in decoded:
                return decoded
            if isinstance(decoded, dict):
                return classify(status, decoded, usage=self.usage)
            kind = response.headers.get("content-type", "").split(";")[0].strip()
            what = "malformed or truncated JSON"
            if decoded is not None:
                what = f"JSON {type(decoded).__name__} instead of an object"
            elif kind and "json" not in kind:
                what = f"{ascii(kind)[1:-1][:40]} instead of JSON"
            return MalformedResponse(
                f"the Graph API returned {what}",
                "try again; if it persists, report it with the command you ran",
                http_status=status,
                reason="malformed",
            )
        return classify(status, decoded, usage=self.usage)


_LOOPBACK_HOSTS = frozenset({"localhost", "::1"})


def _check_origin(base_url: str) -> None:
    """Refuse a Graph origin the token would cross the network to in clear text: plain
    ``http://`` is only for a loopback address (the sandbox). Tests that inject a transport
    send nothing over a network and are not checked."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    if parts.scheme == "https":
        return
    if parts.scheme == "http" and (host in _LOOPBACK_HOSTS or host.startswith("127.")):
        return
    raise ConfigError(
        f"the Graph API URL {ascii(base_url)[1:-1][:80]} is not https: the page token would"
        " cross the network in clear text",
        hint="use an https:// URL (plain http only on a loopback address, e.g. the sandbox)",
    )


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
