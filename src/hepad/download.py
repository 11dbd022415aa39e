"""Download a file of a Zenodo record, checked against the md5 that the record's API publishes, or a
file at a plain URL, checked against a pinned sha256 (:func:`download_url`, for data sets outside Zenodo).

Only the standard library is used, so the download rule's conda env is a bare Python.

The record JSON (``<base_url>/api/records/<id>``) lists its files as
``{"key": name, "size": n, "checksum": "md5:<hex>", "links": {"self": <download url>}}``. The file is
streamed to a temporary name with its md5 computed on the fly, and renamed into place only when its
size and md5 equal the record's; anything else deletes it and raises :class:`DownloadError` with the
expected and actual md5 and sizes.

Transient failures (timeouts, connection resets, HTTP 5xx and 429, a transfer cut short) are retried
with exponential back-off; a transfer cut short resumes with an HTTP range request when the server
allows it. A server that cannot be reached at all (no DNS, connection refused, no route) is not retried
on first contact: the error says in one line that there is no network and names the offline
alternative, ``dataset: generated`` (or the one the caller names). Both kinds of file share the transfer,
the retries, the resume and the atomic, verified write.
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import json
import logging
import shlex
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from hepad.io import InputError, atomic_output

CHUNK = 1 << 20  # 1 MiB reads: few syscalls, small memory
PROGRESS_STEP = 0.05  # log a progress line every 5 % of the file ...
PROGRESS_SECONDS = 10.0  # ... or every 10 s, whichever comes first
MAX_BACKOFF_S = 60.0
TRANSIENT_HTTP = {408, 429, 500, 502, 503, 504}
USER_AGENT = "hepad-download/1 (+https://zenodo.org/api)"

OFFLINE_HINT = (
    "to run without network set `dataset: generated` (events generated locally, "
    "e.g. `--config dataset=generated`)"
)


class DownloadError(InputError):
    """A download that failed for a reason a user can act on; one line, no traceback."""


class _Transient(Exception):
    """A failure worth another attempt."""


class _Unreachable(Exception):
    """The server cannot be contacted at all (no DNS, refused, no route)."""


@dataclass(frozen=True)
class RecordFile:
    """One file of a Zenodo record as its API describes it."""

    name: str
    size: int | None
    md5: str
    url: str


def record_url(base_url: str, record_id: int | str) -> str:
    return f"{base_url.rstrip('/')}/api/records/{record_id}"


def file_url(base_url: str, record_id: int | str, name: str) -> str:
    """The public download address of a record's file, used when the record gives no usable link."""
    url = f"{base_url.rstrip('/')}/records/{record_id}/files/{urllib.parse.quote(name)}"
    # file:// mirrors are plain directories: a query string would become part of the file name.
    return url if url.startswith("file:") else url + "?download=1"


class ServerOptions:
    """The script's options that say how to reach the server: ``--base-url``, ``--retries``, ``--timeout``.

    They never change the downloaded file (its md5 fixes it). The download rule therefore passes them
    as this object rather than as plain values: Snakemake records only plain values of ``params`` to
    decide on reruns, and a new timeout or mirror must not re-download the data and so rerun every
    step after it.
    """

    def __init__(self, base_url: str, retries: int, timeout: float):
        self.base_url, self.retries, self.timeout = base_url, retries, timeout

    def __str__(self) -> str:
        return f"--base-url {shlex.quote(self.base_url)} --retries {self.retries} --timeout {self.timeout}"

    def __repr__(self) -> str:
        return f"ServerOptions({self.base_url!r}, {self.retries!r}, {self.timeout!r})"


# --------------------------------------------------------------------------------------------------
# error classification


_UNREACHABLE_ERRNOS = {
    errno.ECONNREFUSED,
    errno.ENETUNREACH,
    errno.EHOSTUNREACH,
    errno.ENETDOWN,
    errno.EHOSTDOWN,
    errno.EADDRNOTAVAIL,
}


def _reason(err: BaseException) -> BaseException:
    """The underlying exception of a urllib error."""
    while isinstance(err, urllib.error.URLError) and isinstance(err.reason, BaseException):
        err = err.reason
    return err


def _classify(err: BaseException) -> Exception:
    """Map a low-level exception to _Unreachable, _Transient, or a DownloadError (not worth retrying)."""
    inner = _reason(err)
    if isinstance(inner, FileNotFoundError):  # file:// mirrors
        return DownloadError(f"no such file: {inner.filename or inner}")
    if isinstance(inner, socket.gaierror):
        return _Unreachable(f"cannot resolve host ({inner.strerror or inner})")
    if isinstance(inner, (TimeoutError, socket.timeout)):
        return _Transient("timed out")
    if isinstance(inner, OSError) and inner.errno in _UNREACHABLE_ERRNOS:
        return _Unreachable(inner.strerror or str(inner))
    if isinstance(inner, (ConnectionError, http.client.HTTPException, OSError)):
        # resets, aborted connections, truncated reads, malformed responses
        return _Transient(f"{type(inner).__name__}: {inner}")
    return DownloadError(f"{type(inner).__name__}: {inner}")


def _retry_after(err: urllib.error.HTTPError) -> float | None:
    value = err.headers.get("Retry-After") if err.headers else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to our own back-off


class _Session:
    """Retry bookkeeping shared by the record request and the file transfer."""

    def __init__(self, base_url: str, retries: int, timeout: float, backoff_s: float, log: logging.Logger,
                 offline_hint: str = OFFLINE_HINT):
        if retries < 1:
            raise ValueError(f"retries must be >= 1, got {retries}")
        self.base_url = base_url
        self.retries = retries
        self.timeout = timeout
        self.backoff_s = backoff_s
        self.log = log
        self.offline_hint = offline_hint
        self.contacted = False  # once the server has answered, a refused connection is transient

    def offline_error(self, detail: str) -> DownloadError:
        return DownloadError(f"no network access to {self.base_url} ({detail}); {self.offline_hint}")

    def open(self, url: str, headers: dict | None = None):
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, **(headers or {})})
        try:
            response = urllib.request.urlopen(request, timeout=self.timeout)
        except urllib.error.HTTPError as err:
            self.contacted = True
            if err.code in TRANSIENT_HTTP:
                raise _Transient(f"HTTP {err.code} {err.reason}") from err
            raise
        except (urllib.error.URLError, OSError, http.client.HTTPException) as err:
            raise _classify(err) from err
        self.contacted = True
        return response

    def attempt(self, what: str, func):
        """Call ``func(attempt)`` until it succeeds, retrying transient failures with back-off."""
        for attempt in range(1, self.retries + 1):
            try:
                return func(attempt)
            except _Unreachable as err:
                if not self.contacted:
                    raise self.offline_error(str(err)) from None
                failure, wait = str(err), None
            except _Transient as err:
                failure = str(err)
                cause = err.__cause__
                wait = _retry_after(cause) if isinstance(cause, urllib.error.HTTPError) else None
            if attempt == self.retries:
                if not self.contacted:
                    raise self.offline_error(f"{failure} after {attempt} attempts")
                raise DownloadError(f"{what} failed after {attempt} attempts: {failure}")
            if wait is None:
                wait = self.backoff_s * 2 ** (attempt - 1)
            wait = min(wait, MAX_BACKOFF_S)
            self.log.warning("%s: %s (attempt %d of %d); retrying in %.1f s", what, failure, attempt, self.retries, wait)
            time.sleep(wait)
        raise AssertionError("unreachable")


# --------------------------------------------------------------------------------------------------
# the record


def _parse_md5(checksum) -> str | None:
    if isinstance(checksum, str):
        algo, _, value = checksum.partition(":")
        if not value:  # a bare hex digest (old deposition API)
            algo, value = "md5", algo
        if algo.lower() == "md5" and len(value) == 32:
            return value.lower()
    return None


def parse_record(record: dict, record_id, base_url: str) -> dict[str, RecordFile]:
    """The files of a record JSON, by name."""
    entries = record.get("files") if isinstance(record, dict) else None
    if not isinstance(entries, list):
        raise DownloadError(f"{record_url(base_url, record_id)} is not a Zenodo record (no 'files' list)")
    files = {}
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        name = entry.get("key") or entry.get("filename")
        if not name:
            continue
        size = entry.get("size", entry.get("filesize"))
        links = entry.get("links") if isinstance(entry.get("links"), dict) else {}
        link = links.get("content") or links.get("self") or links.get("download")
        # Use the record's own link when it is on the configured server; a record copied to a mirror
        # still links to zenodo.org, so anything else is rebuilt on base_url.
        if not (isinstance(link, str) and link.startswith(base_url.rstrip("/") + "/")):
            link = file_url(base_url, record_id, name)
        files[name] = RecordFile(
            name=name,
            size=int(size) if isinstance(size, (int, float)) else None,
            md5=_parse_md5(entry.get("checksum")) or "",
            url=link,
        )
    return files


def fetch_record(session: _Session, record_id) -> dict:
    url = record_url(session.base_url, record_id)

    def get(attempt):
        try:
            with session.open(url, {"Accept": "application/json"}) as response:
                body = response.read()
        except urllib.error.HTTPError as err:
            if err.code in (404, 410):
                raise DownloadError(f"Zenodo record {record_id} not found at {url} (HTTP {err.code})") from None
            raise DownloadError(f"{url}: HTTP {err.code} {err.reason}") from None
        except (OSError, http.client.HTTPException) as err:
            raise _classify(err) from err
        try:
            return json.loads(body)
        except ValueError:
            raise DownloadError(f"{url} did not return JSON; is {session.base_url} a Zenodo server?") from None

    return session.attempt(f"record {record_id}", get)


# --------------------------------------------------------------------------------------------------
# the transfer


class _Progress:
    def __init__(self, name: str, total: int | None, log: logging.Logger):
        self.name, self.total, self.log = name, total, log
        self.start = self.last_time = time.monotonic()
        self.start_bytes = 0
        self.next_fraction = PROGRESS_STEP
        self.logged = -1  # bytes at the last line, so the closing line is not a repeat

    def restart(self, done: int) -> None:
        self.start, self.start_bytes = time.monotonic(), done
        self.last_time = self.start

    def update(self, done: int, final: bool = False) -> None:
        now = time.monotonic()
        fraction = done / self.total if self.total else None
        due = (final and done != self.logged) or now - self.last_time >= PROGRESS_SECONDS
        if fraction is not None and fraction >= self.next_fraction:
            due = True
            while self.next_fraction <= fraction:
                self.next_fraction += PROGRESS_STEP
        if not due:
            return
        self.last_time, self.logged = now, done
        rate = (done - self.start_bytes) / max(now - self.start, 1e-6) / 1e6
        if fraction is None:
            self.log.info("%s: %.1f MB, %.2f MB/s", self.name, done / 1e6, rate)
            return
        eta = (self.total - done) / (rate * 1e6) if rate > 0 else float("inf")
        self.log.info(
            "%s: %.1f of %.1f MB (%3.0f %%), %.2f MB/s, %s left",
            self.name, done / 1e6, self.total / 1e6, 100 * fraction, rate, _duration(eta),
        )


def _duration(seconds: float) -> str:
    if seconds == float("inf"):
        return "unknown time"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _content_range_start(value: str | None) -> int | None:
    """The first byte of a ``Content-Range: bytes a-b/n`` header."""
    if not value or not value.startswith("bytes "):
        return None
    try:
        return int(value[6:].split("-", 1)[0])
    except ValueError:
        return None


def _transfer(session: _Session, entry: RecordFile, tmp: Path, algorithm: str = "md5",
              missing: str = "") -> tuple[int, str]:
    """Stream ``entry`` into ``tmp``; return (bytes, hex digest of ``algorithm``). Resumes a cut-short
    transfer when allowed. ``missing``: what an HTTP 404 means, for the message."""
    state = {"done": 0, "hash": hashlib.new(algorithm)}
    progress = _Progress(entry.name, entry.size, session.log)
    tmp.write_bytes(b"")

    def get(attempt):
        headers = {}
        if state["done"]:
            headers["Range"] = f"bytes={state['done']}-"
        try:
            response = session.open(entry.url, headers)
        except urllib.error.HTTPError as err:
            if err.code == 416 and state["done"]:  # nothing left to send: the server's file is shorter
                return
            if err.code in (404, 410):
                raise DownloadError(f"{entry.url}: HTTP {err.code}; {missing or 'the server has no such file'}") from None
            raise DownloadError(f"{entry.url}: HTTP {err.code} {err.reason}") from None
        with response:
            if state["done"]:
                start = _content_range_start(response.headers.get("Content-Range"))
                if response.status == 206 and start == state["done"]:
                    session.log.info("%s: resuming at %.1f MB", entry.name, state["done"] / 1e6)
                else:  # the server ignored the range request: start over
                    session.log.info("%s: server cannot resume; starting over", entry.name)
                    state["done"], state["hash"] = 0, hashlib.new(algorithm)
                    tmp.write_bytes(b"")
            progress.restart(state["done"])
            announced = response.headers.get("Content-Length")
            if progress.total is None and not state["done"] and announced is not None and announced.isdigit():
                progress.total = int(announced)  # a plain URL has no record: the server's length gives the %
            received = 0
            with open(tmp, "ab") as out:
                while True:
                    try:
                        chunk = response.read(CHUNK)
                    except (OSError, http.client.HTTPException) as err:
                        raise _classify(err) from err
                    if not chunk:
                        break
                    out.write(chunk)
                    state["hash"].update(chunk)
                    state["done"] += len(chunk)
                    received += len(chunk)
                    progress.update(state["done"])
            # http.client returns b"" when the server closes early instead of raising: check ourselves.
            if announced is not None and announced.isdigit() and received < int(announced):
                raise _Transient(f"connection closed after {received} of {announced} bytes")
        progress.update(state["done"], final=True)

    session.attempt(f"download of {entry.name}", get)
    return state["done"], state["hash"].hexdigest()


def _fetch_verified(session: _Session, entry: RecordFile, output: Path, algorithm: str, expected: str,
                    claimed: str, missing: str) -> int:
    """Stream ``entry`` to ``output`` atomically; keep it only if its size (when known) and its
    ``algorithm`` digest equal ``expected``. ``claimed`` names who gave the size (", record says n")."""
    with atomic_output(output) as tmp:
        size, digest = _transfer(session, entry, tmp, algorithm, missing)
        if entry.size is not None and size != entry.size:
            raise DownloadError(
                f"{entry.name}: truncated or oversized download, {size} bytes instead of {entry.size}; "
                f"expected {algorithm} {expected}, actual {algorithm} {digest}; the partial file was deleted"
            )
        if digest != expected:
            raise DownloadError(
                f"{entry.name}: {algorithm} mismatch, expected {algorithm} {expected}, actual {algorithm} {digest} "
                f"({size} bytes{claimed}); the file was deleted"
            )
    session.log.info("%s: %d bytes, %s %s verified -> %s", entry.name, size, algorithm, digest, output)
    return size


# --------------------------------------------------------------------------------------------------
# entry points


def download(
    name: str,
    record_id: int | str,
    output: str | Path,
    base_url: str = "https://zenodo.org",
    retries: int = 4,
    timeout: float = 60.0,
    backoff_s: float = 2.0,
    log: logging.Logger | None = None,
) -> RecordFile:
    """Download file ``name`` of Zenodo record ``record_id`` to ``output``, verified by size and md5.

    Parameters
    ----------
    name : str
        File name in the record (``files[].key``).
    record_id : int or str
        Zenodo record id.
    output : path
        Destination; written atomically, so it exists only if the file is complete and verified.
    base_url : str, default "https://zenodo.org"
        Zenodo server; tests point it at a local HTTP server.
    retries : int, default 4
        Attempts per request on transient errors (timeouts, resets, HTTP 5xx and 429, cut transfers).
    timeout : float, default 60
        Seconds before a stalled connection counts as a transient error.
    backoff_s : float, default 2
        Wait before the second attempt; doubled for each further one (at most 60 s). A server's
        ``Retry-After`` header takes precedence.
    log : logging.Logger, optional
        Where progress lines go (default: this module's logger).

    Returns
    -------
    RecordFile
        The record's description of the file (name, size, md5, url).

    Raises
    ------
    DownloadError
        With one line: no network (naming ``dataset: generated``), file not in the record (listing the
        record's files), md5 or size mismatch (expected and actual), or retries exhausted.
    """
    log = log or logging.getLogger(__name__)
    base_url = base_url.rstrip("/")
    session = _Session(base_url, retries, timeout, backoff_s, log)

    record = fetch_record(session, record_id)
    files = parse_record(record, record_id, base_url)
    if name not in files:
        listed = ", ".join(sorted(files)) or "none"
        raise DownloadError(f"Zenodo record {record_id} at {base_url} has no file {name!r}; its files: {listed}")
    entry = files[name]
    if not entry.md5:
        raise DownloadError(
            f"Zenodo record {record_id} gives no md5 checksum for {name}; cannot verify the download"
        )
    size_text = f"{entry.size / 1e6:.1f} MB" if entry.size is not None else "unknown size"
    log.info("downloading %s (%s, md5 %s) from %s", name, size_text, entry.md5, entry.url)

    _fetch_verified(session, entry, Path(output), "md5", entry.md5, f", record says {entry.size}",
                    f"the record lists {name} but the server has no such file")
    return entry


def download_url(
    name: str,
    sha256: str,
    output: str | Path,
    base_url: str,
    retries: int = 4,
    timeout: float = 60.0,
    backoff_s: float = 2.0,
    log: logging.Logger | None = None,
    offline_hint: str = OFFLINE_HINT,
) -> RecordFile:
    """Download ``<base_url>/<name>`` to ``output``, verified against a pinned ``sha256``.

    For files outside Zenodo (no record to give a checksum): the caller pins the sha256. Same transfer,
    retries, resume, atomic write and one-line errors as :func:`download`; ``offline_hint`` is the
    offline alternative the no-network error names. Returns the file's description (md5 field empty).
    """
    log = log or logging.getLogger(__name__)
    expected = sha256.strip().lower()
    if len(expected) != 64 or any(c not in "0123456789abcdef" for c in expected):
        raise DownloadError(f"{name}: {sha256!r} is not a sha256 (64 hexadecimal digits)")
    base_url = base_url.rstrip("/")
    session = _Session(base_url, retries, timeout, backoff_s, log, offline_hint)
    entry = RecordFile(name=name, size=None, md5="", url=f"{base_url}/{urllib.parse.quote(name)}")
    log.info("downloading %s (sha256 %s) from %s", name, expected, entry.url)
    _fetch_verified(session, entry, Path(output), "sha256", expected, "",
                    f"no {name} under {base_url}; is the base URL right?")
    return entry
