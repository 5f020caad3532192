"""A loopback Eurostat server for tests: the real request paths, answered with the recorded files, with scriptable faults.

It answers as Eurostat documents (API guidelines, the `eurostat` PyPI package, rOpenGov/eurostat), not as our client
expects: a client that accepts gzip gets gzip bodies WITHOUT a Content-Encoding header (as Eurostat does), the SDMX
asynchronous answer is Envelope/Body/syncResponse/queued/{id,status}, async/status answers asyncResponse/status/
{key,status}, async/data is gzip'd (or a ZIP), the Statistics API says 413 ASYNCHRONOUS_RESPONSE, a maintenance
window is a 302 to sorry.ec.europa.eu, and the dataflow carries UPDATE_DATA.

Usage:
    server = start_server()                       # serves <repo>/../shared/data on 127.0.0.1:<free port>
    server.add_fault(Fault.unavailable(times=1))   # next data request gets a 503, then normal answers
    EurostatClient(base_url=server.base_url)...
    server.requests                                # every request seen: SeenRequest(path, query, kind, dataset)
    server.close()
"""
from __future__ import annotations

import csv
import functools
import gzip
import io
import json
import re
import sys
import threading
import time
import uuid
import zipfile
import zlib
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
    ("dataflow", re.compile(rf"^{API}/sdmx/2\.1/dataflow/ESTAT/(?P<code>[^/?]+)/?$")),
    # the Digital Scoreboard API, answered from the recorded fact export
    ("sb-group", re.compile(r"^/api/v1/chart-groups/(?P<group>[^/]+)/facts/?$")),
    ("sb-facts", re.compile(r"^/api/v1/facts/?$")),
    ("sb-indicators", re.compile(r"^/api/v1/indicators/?$")),
]
DATA_KINDS = {"statistics", "sdmx3", "sdmx21", "sb-group", "sb-facts"}
SCOREBOARD_EXPORT = "digital_decade_2026_facts.json"
SCOREBOARD_GROUPS = {"desi": SCOREBOARD_EXPORT, "desi-2022": None, "dd-trajectories": "digital_decade_trajectories.json",
                     "key-indicators": None, "e-gov-2020-2022": None}  # group -> its recording (None: recorded nowhere)
SCOREBOARD_DEFINITIONS = "scoreboard_indicators.json"
# indicators/?format=csv: the fields of the scoreboard's IndicatorListSerializer (digital_agenda/apps/core/serializers.py)
SCOREBOARD_INDICATOR_FIELDS = ["code", "label", "alt_label", "definition", "periods", "data_source"]
SCOREBOARD_FIELDS = ["period", "country", "indicator", "breakdown", "unit", "value", "flags", "reference_period",
                     "remarks"]
NOT_FILTERS = {"lang", "format", "lasttimeperiod", "sincetimeperiod", "untiltimeperiod"}  # Statistics API options
SOAP_ENVELOPE = (
    '<?xml version="1.0" encoding="UTF-8" ?>'
    '<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Header/><env:Body>{inner}'
    '</env:Body></env:Envelope>'
)
QUEUED = (  # the SDMX APIs' first answer to a request they deliver asynchronously
    '<ns0:syncResponse xmlns:ns0="http://estat.ec.europa.eu/disschain/soap/extraction">'
    '<processingTime>92</processingTime><queued><id>{key}</id><status>SUBMITTED</status></queued></ns0:syncResponse>'
)
ASYNC_STATUS = (
    '<ns0:asyncResponse xmlns:ns1="http://estat.ec.europa.eu/disschain/asynchronous" '
    'xmlns:ns0="http://estat.ec.europa.eu/disschain/soap/asynchronous">'
    "<ns1:status><ns1:key>{key}</ns1:key><ns1:status>{status}</ns1:status></ns1:status></ns0:asyncResponse>"
)
SOAP_FAULT = ('<?xml version="1.0" encoding="UTF-8"?><S:Fault xmlns:S="http://schemas.xmlsoap.org/soap/envelope/">'
              "<faultcode>{code}</faultcode><faultstring>{text}</faultstring></S:Fault>")
MAINTENANCE_URL = "https://sorry.ec.europa.eu/"
DEFAULT_UPDATE = "2025-06-30T23:00:00+0200"  # UPDATE_DATA of a dataflow unless a test sets one
MAINTENANCE_PAGE = (
    b"<!DOCTYPE html><html><head><title>Eurostat - Service temporarily unavailable</title></head>"
    b"<body><h1>We are performing maintenance</h1><p>Please come back later.</p></body></html>"
)


@dataclass
class Fault:
    """One scripted misbehaviour, applied to the next `times` matching requests."""

    kind: str                    # status | html | delay | declared_too_long | cut_in_half | async | stats_async
                                 # | too_big | maintenance | bomb | drip | extra_dimension | drop_dimension
    times: int = 1
    status: int = 503
    retry_after: str | None = None
    seconds: float = 0.0
    polls: int = 1               # async: how many status answers say PROCESSING before AVAILABLE
    final_status: str = "AVAILABLE"  # async: EXPIRED to make the extraction fail
    dataset: str | None = None   # only requests for this dataset code
    on: str = "data"             # data | async-status | async-data | dataflow | any
    zipped: bool = False         # async: the data endpoint answers a ZIP instead of gzip
    inflated: int = 0            # bomb: bytes the body inflates to
    encoding: str = "gzip"       # bomb: "content" = Content-Encoding: gzip, "gzip" = a gzip body without header
    dimension: str = ""          # extra_dimension / drop_dimension: the JSON-stat dimension added or removed

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
    def extra_dimension(cls, dimension: str = "extra", times: int = 1, **kw) -> "Fault":
        """A JSON-stat body with one more dimension of two categories (the cube doubles; the second is x10)."""
        return cls("extra_dimension", times=times, dimension=dimension, **kw)

    @classmethod
    def drop_dimension(cls, dimension: str = "unit", times: int = 1, **kw) -> "Fault":
        """A JSON-stat body without one of its single-category dimensions."""
        return cls("drop_dimension", times=times, dimension=dimension, **kw)

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
        """The Statistics API's HTTP 413 ASYNCHRONOUS_RESPONSE: ask the same URL again later."""
        return cls("stats_async", times=times, **kw)

    @classmethod
    def too_big(cls, times: int = 1, **kw) -> "Fault":
        """HTTP 413 EXTRACTION_TOO_BIG (JSON error for the Statistics API, SOAP fault for SDMX): final."""
        return cls("too_big", times=times, **kw)

    @classmethod
    def maintenance(cls, times: int = 1, **kw) -> "Fault":
        """A maintenance window: 302 to sorry.ec.europa.eu."""
        return cls("maintenance", times=times, **kw)

    @classmethod
    def bomb(cls, inflated: int, encoding: str = "gzip", times: int = 1, **kw) -> "Fault":
        """A small gzip body inflating to `inflated` bytes, with Content-Encoding ("content") or without ("gzip")."""
        return cls("bomb", times=times, inflated=inflated, encoding=encoding, **kw)

    @classmethod
    def drip(cls, seconds: float, times: int = 1, **kw) -> "Fault":
        """Headers at once, then the body one byte every `seconds`."""
        return cls("drip", times=times, seconds=seconds, **kw)


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


def zipped(body: bytes, name: str = "data") -> bytes:
    """A ZIP archive holding one file, as rOpenGov receives an async SDMX-CSV extraction."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, body)
    return buffer.getvalue()


@functools.lru_cache(maxsize=4)
def gzip_bomb(inflated: int) -> bytes:
    """A gzip stream of `inflated` zero bytes (about a thousandth of that size), built in pieces."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    piece = bytes(1 << 20)
    parts = [packer.compress(piece) for _ in range(inflated // len(piece))]
    parts.append(packer.compress(bytes(inflated % len(piece))))
    parts.append(packer.flush())
    return b"".join(parts)


@dataclass
class LoopbackEurostat:
    """A running loopback server, its recordings, scripted faults and request log."""

    data_dir: Path
    httpd: ThreadingHTTPServer | None = None
    thread: threading.Thread | None = None
    faults: list[Fault] = field(default_factory=list)
    requests: list[SeenRequest] = field(default_factory=list)
    jobs: dict[str, AsyncJob] = field(default_factory=dict)
    update_dates: dict[str, str] = field(default_factory=dict)  # dataset -> UPDATE_DATA its dataflow states
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
        if kind.startswith("sb-"):
            return self.scoreboard(kind, match, query)
        code = match["code"].lower()
        if kind == "dataflow":
            return self.dataflow(code, query)
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

    def scoreboard_facts(self, group: str = "desi") -> list[dict]:
        """The facts of a chart group as the API's flat records (the export's one-element lists unwrapped)."""
        name = SCOREBOARD_GROUPS.get(group)
        recorded = self.find(name) if name else None
        if group not in SCOREBOARD_GROUPS or (name and recorded is None):
            raise NotServed(404, b'{"detail": "Not found."}')
        records = json.loads(recorded.read_bytes()) if recorded else []
        flat = []
        for record in records:
            fields = record["fields"]
            flat.append({name: (fields.get(name)[0] if isinstance(fields.get(name), list) else fields.get(name))
                         for name in SCOREBOARD_FIELDS})
        return flat

    def scoreboard(self, kind: str, match: re.Match, query: dict) -> tuple[bytes, str, dict]:
        """chart-groups/{group}/facts/ as CSV, facts/?... as a JSON list, indicators/?chart_group= as CSV."""
        if kind == "sb-group":
            buffer = io.StringIO()
            writer = csv.DictWriter(buffer, SCOREBOARD_FIELDS, lineterminator="\r\n")
            writer.writeheader()
            for fact in self.scoreboard_facts(match["group"]):
                writer.writerow({k: "" if v is None else v for k, v in fact.items()})
            return buffer.getvalue().encode(), "text/csv; charset=utf-8", {}
        if kind == "sb-facts":
            wanted = {k: v[0] for k, v in query.items() if k in SCOREBOARD_FIELDS}
            facts = [f for f in self.scoreboard_facts() if all(str(f[k]) == v for k, v in wanted.items())]
            return json.dumps(facts).encode(), "application/json", {}
        group = query.get("chart_group", ["desi"])[0]
        facts = self.scoreboard_facts(group)
        codes = sorted({fact["indicator"] for fact in facts})
        recorded = self.find(SCOREBOARD_DEFINITIONS)
        known = {r["fields"]["code"]: r["fields"] for r in json.loads(recorded.read_bytes())} if recorded else {}
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, SCOREBOARD_INDICATOR_FIELDS, lineterminator="\r\n")
        writer.writeheader()
        for code in codes:
            fields = known.get(code, {})
            periods = sorted({str(f["period"]) for f in facts if f["indicator"] == code})
            writer.writerow({"code": code, "label": fields.get("label") or "", "alt_label": fields.get("alt_label") or "",
                             "definition": fields.get("definition") or "", "periods": ",".join(periods),
                             "data_source": ""})
        return buffer.getvalue().encode(), "text/csv; charset=utf-8", {}

    def dataflow(self, code: str, query: dict) -> tuple[bytes, str, dict]:
        """The dataflow as JSON with its UPDATE_DATA annotation (gzip'd when compressed=true, as the API does)."""
        if not any(self.data_dir.rglob(f"{code}.*")) and not any(self.data_dir.rglob(f"{code}_*")):
            raise eurostat_error(404, f"ERR_NOT_FOUND_4: {code.upper()} is not available for dissemination.")
        with self.lock:
            updated = self.update_dates.get(code, DEFAULT_UPDATE)
        doc = {"version": "2.0", "class": "dataset", "label": code, "extension": {
            "id": code.upper(), "agencyId": "ESTAT", "version": "1.0", "annotation": [
                {"type": "UPDATE_STRUCTURE", "date": "2024-02-01T11:00:00+0100"},
                {"type": "UPDATE_DATA", "date": updated},
                {"type": "OBS_PERIOD_OVERALL_OLDEST", "title": "2002"}]}}
        body = json.dumps(doc).encode()
        if query.get("compressed", ["false"])[0].lower() == "true":
            return gzip.compress(body, mtime=0), "application/octet-stream", {}
        return body, "application/json", {}

    def start_job(self, body: bytes, content_type: str, fault: Fault) -> bytes:
        """Register an async extraction and answer the queued envelope (SUBMITTED) with its id."""
        key = str(uuid.uuid4())
        plain = gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body
        packed = zipped(plain) if fault.zipped else gzip.compress(plain, mtime=0)
        with self.lock:
            self.jobs[key] = AsyncJob(packed, "application/octet-stream", fault.polls, fault.final_status)
        return soap(QUEUED.format(key=key))

    def async_status(self, key: str) -> bytes:
        """PROCESSING for the scripted number of polls, then the job's final status."""
        with self.lock:
            job = self.jobs.get(key)
            if job is None:
                raise NotServed(400, SOAP_FAULT.format(code=100, text="UNKNOWN_REQUEST: Unknown request.").encode(),
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
            raise NotServed(400, SOAP_FAULT.format(code=100, text="UNKNOWN_REQUEST: Unknown request.").encode(),
                            "application/xml")
        if job.status != "AVAILABLE":
            text = ("DATA_NOT_YET_AVAILABLE: Requested data is not yet available for download. "
                    "Check the status of your request.")
            raise NotServed(400, SOAP_FAULT.format(code=100, text=text).encode(), "application/xml")
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


def reshape_jsonstat(body: bytes, fault: Fault) -> bytes:
    """A JSON-stat 2.0 body with a dimension appended (two categories) or a one-category dimension removed."""
    doc = json.loads(body)
    name = fault.dimension
    if fault.kind == "drop_dimension":
        at = doc["id"].index(name)
        assert doc["size"][at] == 1, f"only a one-category dimension can be dropped, {name} has {doc['size'][at]}"
        del doc["id"][at], doc["size"][at], doc["dimension"][name]
        return json.dumps(doc).encode()
    doc["id"].append(name)
    doc["size"].append(2)
    doc["dimension"][name] = {"label": name, "category": {"index": {"A": 0, "B": 1},
                                                          "label": {"A": "first", "B": "second"}}}
    for key in ("value", "status"):
        cells = doc.get(key)
        if isinstance(cells, dict):
            doc[key] = {str(2 * int(i) + c): (v * 10 if c and key == "value" and v is not None else v)
                        for i, v in cells.items() for c in (0, 1)}
        elif isinstance(cells, list):
            doc[key] = [(v * 10 if c and key == "value" and v is not None else v) for v in cells for c in (0, 1)]
    return json.dumps(doc).encode()


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
            dataset = dataset.lower() if dataset else ("digital_decade" if kind.startswith("sb-") else None)
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
                err = eurostat_error(413, "ASYNCHRONOUS_RESPONSE. Your request will be treated asynchronously. "
                                     "Please try again later.")
                return self.send(err.status, err.body, err.content_type)
            if fault and fault.kind == "too_big":
                text = ("EXTRACTION_TOO_BIG: The requested extraction is too big, estimated 420709314 rows, max "
                        "authorised is 5000000, please change your filters to reduce the extraction size")
                if kind == "statistics":
                    err = eurostat_error(413, text)
                    return self.send(err.status, err.body, err.content_type)
                return self.send(413, SOAP_FAULT.format(code=413, text=text).encode(), "application/xml")
            if fault and fault.kind == "maintenance":
                return self.send(302, MAINTENANCE_PAGE, "text/html; charset=UTF-8", {"Location": MAINTENANCE_URL})
            if fault and fault.kind == "bomb":
                headers = {"Content-Encoding": "gzip"} if fault.encoding == "content" else {}
                return self.send(200, gzip_bomb(fault.inflated), "application/octet-stream", headers, packed=True)
            if fault and fault.kind == "delay":
                time.sleep(fault.seconds)
            try:
                body, content_type, headers = server.answer(kind, match, query)
            except NotServed as err:
                return self.send(err.status, err.body, err.content_type)
            if fault and fault.kind == "async":
                return self.send(200, server.start_job(body, content_type, fault), "application/xml")
            if fault and fault.kind in ("extra_dimension", "drop_dimension"):
                body = reshape_jsonstat(body, fault)
            if fault and fault.kind == "cut_in_half":
                body = body[: len(body) // 2]
            if fault and fault.kind == "declared_too_long":
                return self.send(200, body, content_type, headers, declared=len(body) + 4096)
            if fault and fault.kind == "drip":
                return self.send(200, body, content_type, headers, drip=fault.seconds)
            return self.send(200, body, content_type, headers)

        def send(self, status: int, body: bytes, content_type: str, headers: dict | None = None,
                 declared: int | None = None, packed: bool = False, drip: float = 0.0) -> None:
            """Write status, headers and body; gzip'd without saying so when the client accepts gzip (as Eurostat
            does); a declared length that lies ends the connection; drip sends one byte every `drip` seconds."""
            if not packed and body[:2] != b"\x1f\x8b" and "gzip" in self.headers.get("Accept-Encoding", ""):
                body = gzip.compress(body, mtime=0)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(declared if declared is not None else len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if declared is not None:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if drip:
                for index in range(len(body)):
                    self.wfile.write(body[index:index + 1])
                    self.wfile.flush()
                    time.sleep(drip)
                return
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
