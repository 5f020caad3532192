"""A loopback Eurostat server for tests: the real request paths, answered with the recorded files, with scriptable faults.

Usage:
    server = start_server()                       # serves <repo>/../shared/data on 127.0.0.1:<free port>
    server.add_fault(Fault.unavailable(times=1))   # next data request gets a 503, then normal answers
    EurostatClient(base_url=server.base_url)...
    server.requests                                # every request seen: SeenRequest(path, query, kind, dataset)
    server.close()
"""
from __future__ import annotations

import gzip
import json
import re
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
API = "/eurostat/api/dissemination"
ROUTES = [
    ("statistics", re.compile(rf"^{API}/statistics/1\.0/data/(?P<code>[^/]+)/?$")),
    ("sdmx3", re.compile(rf"^{API}/sdmx/3\.0/data/dataflow/ESTAT/(?P<code>[^/]+)/1\.0/?(?P<key>[^/]*)$")),
    ("sdmx21", re.compile(rf"^{API}/sdmx/2\.1/data/(?P<code>[^/]+)(?:/(?P<key>[^/]*))?/?$")),
    ("async-status", re.compile(rf"^{API}/1\.0/async/status/(?P<key>[^/]+)$")),
    ("async-data", re.compile(rf"^{API}/1\.0/async/data/(?P<key>[^/]+)$")),
]
DATA_KINDS = {"statistics", "sdmx3", "sdmx21"}
NOT_FILTERS = {"lang", "format", "lasttimeperiod", "sincetimeperiod", "untiltimeperiod"}  # Statistics API options
SOAP_ENVELOPE = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<S:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><env:Header/><S:Body>{inner}</S:Body></S:Envelope>'
)
ASYNC_STATUS = (
    '<ns0:asyncResponse xmlns:ns1="http://estat.ec.europa.eu/disschain/asynchronous" '
    'xmlns:ns0="http://estat.ec.europa.eu/disschain/soap/asynchronous">'
    "<ns1:status><ns1:key>{key}</ns1:key><ns1:status>{status}</ns1:status></ns1:status></ns0:asyncResponse>"
)
SOAP_FAULT = "<S:Fault><faultcode>{code}</faultcode><faultstring>{text}</faultstring></S:Fault>"
MAINTENANCE_PAGE = (
    b"<!DOCTYPE html><html><head><title>Eurostat - Service temporarily unavailable</title></head>"
    b"<body><h1>We are performing maintenance</h1><p>Please come back later.</p></body></html>"
)


@dataclass
class Fault:
    """One scripted misbehaviour, applied to the next `times` matching requests."""

    kind: str                    # status | html | delay | declared_too_long | cut_in_half | async | stats_async
    times: int = 1
    status: int = 503
    retry_after: str | None = None
    seconds: float = 0.0
    polls: int = 1               # async: how many status answers say PROCESSING before AVAILABLE
    final_status: str = "AVAILABLE"  # async: EXPIRED to make the extraction fail
    dataset: str | None = None   # only requests for this dataset code
    on: str = "data"             # data | async-status | async-data | any

    @classmethod
    def unavailable(cls, times: int = 1, status: int = 503, **kw) -> "Fault":
        """A 5xx answer (503 by default)."""
        return cls("status", times=times, status=status, **kw)

    @classmethod
    def rate_limited(cls, retry_after: str, times: int = 1, **kw) -> "Fault":
        """429 Too Many Requests with a Retry-After header (seconds or an HTTP-date)."""
        return cls("status", times=times, status=429, retry_after=retry_after, **kw)

    @classmethod
    def slow(cls, seconds: float, times: int = 1, **kw) -> "Fault":
        """Sleep before answering, longer than the client's read timeout."""
        return cls("delay", times=times, seconds=seconds, **kw)

    @classmethod
    def declared_too_long(cls, times: int = 1, **kw) -> "Fault":
        """Declare a Content-Length larger than what is sent, then close the connection."""
        return cls("declared_too_long", times=times, **kw)

    @classmethod
    def cut_in_half(cls, times: int = 1, **kw) -> "Fault":
        """Send only the first half of the body, with a Content-Length that matches it."""
        return cls("cut_in_half", times=times, **kw)

    @classmethod
    def html(cls, times: int = 1, **kw) -> "Fault":
        """A maintenance HTML page with status 200."""
        return cls("html", times=times, **kw)

    @classmethod
    def asynchronous(cls, polls: int = 1, final_status: str = "AVAILABLE", **kw) -> "Fault":
        """SDMX async flow: SUBMITTED with a key, `polls` x PROCESSING, then final_status."""
        return cls("async", polls=polls, final_status=final_status, **kw)

    @classmethod
    def statistics_async(cls, times: int = 1, **kw) -> "Fault":
        """The Statistics API's keyless 'ASYNCHRONOUS_RESPONSE ... try again later' warning."""
        return cls("stats_async", times=times, **kw)


@dataclass(frozen=True)
class SeenRequest:
    """A request the server received."""

    path: str
    query: dict
    kind: str
    dataset: str | None
    raw_query: str = ""


@dataclass
class AsyncJob:
    """An asynchronous extraction in progress."""

    body: bytes
    content_type: str
    polls_left: int
    final_status: str
    status: str = "SUBMITTED"


class NotServed(Exception):
    """A request the recordings cannot answer; carries the HTTP status and Eurostat-like body."""

    def __init__(self, status: int, body: bytes, content_type: str = "application/json"):
        super().__init__(status)
        self.status, self.body, self.content_type = status, body, content_type


def eurostat_error(status: int, label: str) -> NotServed:
    """Eurostat's JSON error body, as the real API sends it."""
    body = json.dumps({"error": [{"status": status, "id": 100, "label": label}]}).encode()
    return NotServed(status, body)


def soap(inner: str) -> bytes:
    """A SOAP envelope as the async API answers."""
    return SOAP_ENVELOPE.format(inner=inner).encode()


@dataclass
class LoopbackEurostat:
    """A running loopback server, its recordings, scripted faults and request log."""

    data_dir: Path
    httpd: ThreadingHTTPServer | None = None
    thread: threading.Thread | None = None
    faults: list[Fault] = field(default_factory=list)
    requests: list[SeenRequest] = field(default_factory=list)
    jobs: dict[str, AsyncJob] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:<port>, what EurostatClient(base_url=...) or DSM_EUROSTAT_URL takes."""
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def add_fault(self, *faults: Fault) -> None:
        """Queue faults; each applies to the next matching requests, in order."""
        with self.lock:
            self.faults.extend(faults)

    def clear(self) -> None:
        """Forget faults, async jobs and the request log."""
        with self.lock:
            self.faults.clear()
            self.requests.clear()
            self.jobs.clear()

    def requests_of(self, kind: str | None = None, dataset: str | None = None) -> list[SeenRequest]:
        """Requests seen, optionally of one kind (statistics, sdmx3, sdmx21, async-status, async-data)."""
        with self.lock:
            return [r for r in self.requests if (kind is None or r.kind == kind)
                    and (dataset is None or r.dataset == dataset)]

    def take_fault(self, kind: str, dataset: str | None) -> Fault | None:
        """The first queued fault matching this request, using up one of its `times`."""
        group = "data" if kind in DATA_KINDS else kind
        with self.lock:
            for fault in self.faults:
                if fault.on not in ("any", group) or (fault.dataset and fault.dataset != dataset):
                    continue
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def find(self, name: str) -> Path | None:
        """A recorded file by name anywhere under the data folder."""
        matches = sorted(self.data_dir.rglob(name))
        return matches[0] if matches else None

    # -- answering the real request paths from recordings

    def answer(self, kind: str, match: re.Match, query: dict) -> tuple[bytes, str, dict]:
        """(body, content type, extra headers) for a request without faults."""
        if kind == "async-status":
            return self.async_status(match["key"]), "application/xml", {}
        if kind == "async-data":
            return self.async_data(match["key"])
        code = match["code"].lower()
        if kind == "sdmx21":
            return self.sdmx21(code, query)
        fmt = query.get("format", ["JSON"])[0].upper()
        if fmt != "JSON":
            raise eurostat_error(400, f"INVALID_FORMAT: format {fmt} is not served by this recording")
        selection = self.selection(kind, query)
        return self.jsonstat(code, selection), "application/json", {}

    @staticmethod
    def selection(kind: str, query: dict) -> list[str]:
        """Every code a request filters on, upper case (repeated params or c[dim]=a,b)."""
        codes = []
        for name, values in query.items():
            if kind == "sdmx3" and name.startswith("c[") and name.endswith("]"):
                codes += [c for v in values for c in v.split(",")]
            elif kind == "statistics" and name.lower() not in NOT_FILTERS:
                codes += values
        return [c.upper() for c in codes]

    def jsonstat(self, code: str, selection: list[str]) -> bytes:
        """The recorded JSON-stat of a dataset; a dataset recorded in parts answers by the requested code."""
        whole = self.find(f"{code}.json")
        if whole:
            return whole.read_bytes()
        parts = {p.name[len(code) + 1:-len(".json")].upper(): p for p in sorted(self.data_dir.rglob(f"{code}_*.json"))}
        for wanted in selection:
            if wanted in parts:
                return parts[wanted].read_bytes()
        if parts:
            raise eurostat_error(400, f"INVALID_QUERY: {code.upper()} is recorded in parts {sorted(parts)}; filter on one")
        raise eurostat_error(404, f"ERR_NOT_FOUND_4: {code.upper()} is not available for dissemination.")

    def sdmx21(self, code: str, query: dict) -> tuple[bytes, str, dict]:
        """SDMX 2.1 data: TSV gzip-compressed on the fly, or the recorded compressed JSON as served."""
        fmt = query.get("format", ["SDMX-ML"])[0].upper()
        compressed = query.get("compressed", ["false"])[0].lower() == "true"
        if fmt == "TSV":
            recorded = self.find(f"{code}.tsv")
            if recorded is None:
                raise eurostat_error(404, f"ERR_NOT_FOUND_4: {code.upper()} is not available for dissemination.")
            body = recorded.read_bytes()
            if compressed:
                return gzip.compress(body, mtime=0), "application/octet-stream", {
                    "Content-Disposition": f'attachment; filename="{code}.tsv.gz"'}
            return body, "text/tab-separated-values", {}
        if fmt == "JSON":
            recorded = self.find(f"{code}_all.json.gz")
            if recorded is None:
                raise eurostat_error(404, f"ERR_NOT_FOUND_4: {code.upper()} is not available for dissemination.")
            body = recorded.read_bytes()
            if compressed:
                return body, "application/octet-stream", {
                    "Content-Disposition": f'attachment; filename="{code}.json.gz"'}
            return gzip.decompress(body), "application/json", {}
        raise eurostat_error(400, f"INVALID_FORMAT: format {fmt} is not served by this recording")

    def start_job(self, body: bytes, content_type: str, fault: Fault) -> bytes:
        """Register an async extraction and answer SUBMITTED with its key."""
        key = str(uuid.uuid4())
        with self.lock:
            self.jobs[key] = AsyncJob(body, content_type, fault.polls, fault.final_status)
        return soap(ASYNC_STATUS.format(key=key, status="SUBMITTED"))

    def async_status(self, key: str) -> bytes:
        """PROCESSING for the scripted number of polls, then the job's final status."""
        with self.lock:
            job = self.jobs.get(key)
            if job is None:
                raise NotServed(400, soap(SOAP_FAULT.format(code=100, text="UNKNOWN_REQUEST: Unknown request.")),
                                "application/xml")
            if job.polls_left > 0:
                job.polls_left -= 1
                job.status = "PROCESSING"
            else:
                job.status = job.final_status
            return soap(ASYNC_STATUS.format(key=key, status=job.status))

    def async_data(self, key: str) -> tuple[bytes, str, dict]:
        """The extraction's body once AVAILABLE, else the documented SOAP faults."""
        with self.lock:
            job = self.jobs.get(key)
        if job is None:
            raise NotServed(400, soap(SOAP_FAULT.format(code=100, text="UNKNOWN_REQUEST: Unknown request.")),
                            "application/xml")
        if job.status != "AVAILABLE":
            text = ("DATA_NOT_YET_AVAILABLE: Requested data is not yet available for download. "
                    "Check the status of your request.")
            raise NotServed(400, soap(SOAP_FAULT.format(code=100, text=text)), "application/xml")
        return job.body, job.content_type, {}

    def close(self) -> None:
        """Stop serving and release the port."""
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join(timeout=5)
            self.httpd = None

    def __enter__(self) -> "LoopbackEurostat":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def make_handler(server: LoopbackEurostat) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to one LoopbackEurostat."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            """Quiet: tests assert on server.requests instead."""

        def do_GET(self) -> None:
            """Route, record, apply a scripted fault if one matches, answer."""
            parts = urlsplit(self.path)
            kind, match = next(((k, m) for k, rx in ROUTES if (m := rx.match(parts.path))), ("unknown", None))
            query = parse_qs(parts.query, keep_blank_values=True)
            dataset = match.groupdict().get("code") if match else None
            dataset = dataset.lower() if dataset else None
            with server.lock:
                server.requests.append(SeenRequest(parts.path, query, kind, dataset, parts.query))
            try:
                self.respond(kind, match, query, dataset)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test); nothing to tell it

        def respond(self, kind: str, match: re.Match | None, query: dict, dataset: str | None) -> None:
            """Answer one request, faults first."""
            if match is None:
                err = eurostat_error(404, f"ERR_NOT_FOUND: no such resource {urlsplit(self.path).path}")
                return self.send(err.status, err.body, err.content_type)
            fault = server.take_fault(kind, dataset)
            if fault and fault.kind == "status":
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                label = "Too Many Requests" if fault.status == 429 else "Service Unavailable"
                return self.send(fault.status, f"{fault.status} {label}\n".encode(), "text/plain", headers)
            if fault and fault.kind == "html":
                return self.send(200, MAINTENANCE_PAGE, "text/html; charset=UTF-8")
            if fault and fault.kind == "stats_async":
                body = json.dumps({"warning": {"status": 413, "label": "ASYNCHRONOUS_RESPONSE. Your request will "
                                   "be treated asynchronously. Please try again later."}}).encode()
                return self.send(200, body, "application/json")
            if fault and fault.kind == "delay":
                time.sleep(fault.seconds)
            try:
                body, content_type, headers = server.answer(kind, match, query)
            except NotServed as err:
                return self.send(err.status, err.body, err.content_type)
            if fault and fault.kind == "async":
                return self.send(200, server.start_job(body, content_type, fault), "application/xml")
            if fault and fault.kind == "cut_in_half":
                body = body[: len(body) // 2]
            if fault and fault.kind == "declared_too_long":
                return self.send(200, body, content_type, headers, declared=len(body) + 4096)
            return self.send(200, body, content_type, headers)

        def send(self, status: int, body: bytes, content_type: str, headers: dict | None = None,
                 declared: int | None = None) -> None:
            """Write status, headers and body; a declared length that lies ends the connection."""
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(declared if declared is not None else len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if declared is not None:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()

    return Handler


class QuietServer(ThreadingHTTPServer):
    """A threading HTTP server that does not print tracebacks when a client hangs up early."""

    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        """Ignore hang-ups; anything else is a bug worth seeing."""
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def start_server(data_dir: Path | str | None = None, faults: list[Fault] | tuple = ()) -> LoopbackEurostat:
    """Start a loopback Eurostat on 127.0.0.1 (free port) serving recordings from data_dir."""
    folder = Path(data_dir or SHARED_DATA).resolve()
    assert folder.is_dir(), f"loopback Eurostat: recorded data folder {folder} does not exist"
    server = LoopbackEurostat(data_dir=folder, faults=list(faults))
    server.httpd = QuietServer(("127.0.0.1", 0), make_handler(server))
    server.thread = threading.Thread(target=server.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                     name="loopback-eurostat", daemon=True)
    server.thread.start()
    return server
