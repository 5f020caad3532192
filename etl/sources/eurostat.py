"""The live source: an HTTP client for the Eurostat dissemination API that only keeps bodies it could decode.

The protocol as Eurostat documents it (API guidelines; the `eurostat` PyPI package; rOpenGov/eurostat):
- data requests: Statistics API JSON-stat, SDMX 3.0 JSON-stat (c[dim]=a,b), SDMX 2.1 TSV with compressed=true
  (a gzip body without Content-Encoding). We ask for `Accept-Encoding: identity` and open any compression
  (Content-Encoding, gzip or ZIP signature) before looking at a body, within the download limit.
- SDMX asynchronous delivery: HTTP 200 with Envelope/Body/syncResponse/queued/{id,status} (namespace
  .../disschain/soap/extraction); poll /1.0/async/status/{id}, answered Envelope/Body/asyncResponse/status/
  {key,status} (.../soap/asynchronous, .../asynchronous), until AVAILABLE; then /1.0/async/data/{id}.
  UNKNOWN_REQUEST and DATA_NOT_YET_AVAILABLE are HTTP 400 SOAP faults.
- Statistics API: HTTP 413 ASYNCHRONOUS_RESPONSE means ask the same URL again later; 413 EXTRACTION_TOO_BIG is final.
- 429, 5xx and the maintenance redirect to sorry.ec.europa.eu are retried with backoff (urllib3 Retry, Retry-After
  honoured), then "Eurostat is unavailable".
- update dates: the UPDATE_DATA annotation of /sdmx/2.1/dataflow/ESTAT/{code}.
"""
from __future__ import annotations

import dataclasses
import io
import json
import re
import time
import xml.etree.ElementTree as ET
import zipfile
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Callable, Mapping, Sequence
from urllib.parse import quote

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.exceptions import InvalidHeader
from urllib3.util.retry import Retry

from etl import config
from etl.formats import registry
from etl.formats.scoreboard import LIVE_FORMAT as SCOREBOARD_LIVE
from etl.model import DecodeError
from etl.sources import rawstore

API_ROOT = "/eurostat/api/dissemination"
STATISTICS_PATH = API_ROOT + "/statistics/1.0/data/{code}"
SDMX21_PATH = API_ROOT + "/sdmx/2.1/data/{code}"
SDMX30_PATH = API_ROOT + "/sdmx/3.0/data/dataflow/ESTAT/{code}/1.0/"
ASYNC_STATUS_PATH = API_ROOT + "/1.0/async/status/{key}"
ASYNC_DATA_PATH = API_ROOT + "/1.0/async/data/{key}"
DATAFLOW_PATH = API_ROOT + "/sdmx/2.1/dataflow/ESTAT/{code}"
DATAFLOW_QUERY = "?format=JSON&compressed=true&lang=en"  # as the eurostat package asks (get_toc)
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
NS_EXTRACTION = "http://estat.ec.europa.eu/disschain/soap/extraction"
NS_SOAP_ASYNC = "http://estat.ec.europa.eu/disschain/soap/asynchronous"
NS_ASYNC = "http://estat.ec.europa.eu/disschain/asynchronous"
QUEUED = f"{{{SOAP_ENV}}}Body/{{{NS_EXTRACTION}}}syncResponse/queued/"
ASYNC_STATUS = f"{{{SOAP_ENV}}}Body/{{{NS_SOAP_ASYNC}}}asyncResponse/{{{NS_ASYNC}}}status/{{{NS_ASYNC}}}"
FAULT = f"{{{SOAP_ENV}}}Fault"
FAULT_STRING = f"{{{SOAP_ENV}}}Body/{FAULT}/faultstring"
# Retried by urllib3: rate limiting, server errors, and redirects (the API itself never redirects; a maintenance
# window sends everything to sorry.ec.europa.eu).
TRANSIENT_STATUSES = frozenset({301, 302, 303, 307, 308, 429, 500, 502, 503, 504})
CHUNK = 1 << 16
INFLATE_STEP = 1 << 20

# live_format (catalogue) -> the format its bodies come in (etl/formats/registry.py)
LIVE_FORMATS = {live: registry.for_live(live).name for live in registry.live_names() if live != SCOREBOARD_LIVE}
ASYNC_WAITING = {"SUBMITTED", "PROCESSING"}
CODE_PATTERN = re.compile(r"^[A-Za-z0-9_$]+$")
GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
USER_AGENT = "baltic-dsm-dashboard/0.1 (DIGINNO WP4; +https://github.com/)"
Filters = Mapping[str, Sequence[str]]


class EurostatError(RuntimeError):
    """Eurostat could not deliver a trustworthy body; the message names the dataset, the URL and the reason."""

    def __init__(self, dataset: str, url: str, reason: str, *, status: int | None = None):
        self.dataset, self.url, self.reason, self.status = dataset, url, reason, status
        super().__init__(f"Eurostat {dataset}: {reason} ({url})")


class EurostatHTTPError(EurostatError):
    """Eurostat answered with an HTTP error that retrying will not fix, or after retries ran out."""


class EurostatUnavailable(EurostatHTTPError):
    """Every attempt failed with something retryable (timeouts, 5xx, 429, cut-off bodies): the service is down for us."""


class DeadlinePassed(EurostatUnavailable):
    """A download, its retries included, did not finish within the client's deadline."""


class RejectedBody(EurostatError):
    """A body arrived but is not data we can trust (HTML page, truncated, too large, undecodable)."""


class TooLarge(ValueError):
    """A compressed body inflates beyond the download limit."""


class AsyncExtractionError(EurostatError):
    """An asynchronous extraction expired, failed or did not finish within the polling budget."""


# ---------------------------------------------------------------- URL builders

def check_code(code: str) -> str:
    """A dataset code safe to put into a URL path."""
    if not CODE_PATTERN.match(code or ""):
        raise ValueError(f"not a Eurostat dataset code: {code!r}")
    return code


def encode(text: str, safe: str = "") -> str:
    """Percent-encode one URL component."""
    return quote(str(text), safe=safe)


def filter_pairs(filters: Filters | None) -> list[tuple[str, list[str]]]:
    """Filters as (dimension, [codes]) with a lone string accepted as one code."""
    pairs = []
    for dim, codes in (filters or {}).items():
        codes = [codes] if isinstance(codes, str) else list(codes)
        assert codes, f"filter on {dim!r} names no codes"
        pairs.append((str(dim), [str(c) for c in codes]))
    return pairs


def statistics_url(base_url: str, code: str, filters: Filters | None = None, lang: str = "EN") -> str:
    """Statistics API JSON-stat request; several codes of a dimension are repeated parameters."""
    params = [f"lang={encode(lang)}", "format=JSON"]
    for dim, codes in filter_pairs(filters):
        params += [f"{encode(dim)}={encode(c)}" for c in codes]
    return base_url + STATISTICS_PATH.format(code=check_code(code)) + "?" + "&".join(params)


def sdmx21_url(base_url: str, code: str, fmt: str = "TSV", key: str | None = None,
               compressed: bool = True, lang: str | None = None) -> str:
    """SDMX 2.1 data request (TSV or JSON), optionally with a dotted series key such as 'A.PC_HH..EE+LV'."""
    path = SDMX21_PATH.format(code=check_code(code))
    if key:
        path += "/" + encode(key, safe=".+")
    params = [f"format={encode(fmt)}", f"compressed={'true' if compressed else 'false'}"]
    if lang:
        params.append(f"lang={encode(lang)}")
    return base_url + path + "?" + "&".join(params)


def sdmx30_url(base_url: str, code: str, filters: Filters | None = None, lang: str = "EN") -> str:
    """SDMX 3.0 JSON-stat request; filters are c[dim]=a,b as Eurostat documents them."""
    params = [f"lang={encode(lang)}", "format=JSON"]
    for dim, codes in filter_pairs(filters):
        params.append(f"c[{encode(dim)}]=" + ",".join(encode(c) for c in codes))
    return base_url + SDMX30_PATH.format(code=check_code(code)) + "?" + "&".join(params)


def dataflow_url(base_url: str, code: str) -> str:
    """The SDMX 2.1 dataflow of a dataset (its UPDATE_DATA annotation is the source's update date)."""
    return base_url + DATAFLOW_PATH.format(code=check_code(code))


def request_url(base_url: str, code: str, live_format: str, filters: Filters | None = None) -> str:
    """The URL the catalogue's live_format stands for."""
    if live_format == "jsonstat":
        return statistics_url(base_url, code, filters)
    if live_format == "jsonstat-sdmx3":
        return sdmx30_url(base_url, code, filters)
    if live_format == "tsv":
        # The bulk TSV is the whole dataset; an SDMX 2.1 key needs the dimension order, which the
        # catalogue does not carry, so the catalogue's selection is applied after decoding instead.
        return sdmx21_url(base_url, code, "TSV")
    raise ValueError(f"{code}: unknown live_format {live_format!r}; expected one of {sorted(LIVE_FORMATS)}")


# ---------------------------------------------------------------- reading Eurostat's answers

def error_message(body: bytes, limit: int = 300) -> str:
    """The human message inside a Eurostat error body (JSON error/warning, SOAP fault), else its start."""
    text = body[:20000].decode("utf-8", "replace").strip()
    try:
        doc = json.loads(text)
    except ValueError:
        doc = None
    if isinstance(doc, dict):
        for field_name in ("error", "warning"):
            item = doc.get(field_name)
            items = item if isinstance(item, list) else [item]
            labels = [str(i.get("label")) for i in items if isinstance(i, dict) and i.get("label")]
            if labels:
                return "; ".join(labels)
    fault = soap_text(body, FAULT_STRING)
    if fault:
        return fault
    title = re.search(r"<title>(.*?)</title>", text, re.S | re.I)
    if title:
        return f"HTML page titled {title.group(1).strip()!r}"
    return text[:limit] or "(empty body)"


def soap_root(body: bytes) -> ET.Element | None:
    """The root element of a SOAP envelope or bare SOAP fault, else None."""
    if not body[:200].lstrip().startswith(b"<") or len(body) > 1 << 20 or b"schemas.xmlsoap.org/soap" not in body[:2000]:
        return None
    try:
        return ET.fromstring(body)
    except ET.ParseError:
        return None


def soap_text(body: bytes, path: str) -> str | None:
    """The text at an ElementTree path of a SOAP answer (a bare Fault is looked at as its own faultstring)."""
    root = soap_root(body)
    if root is None:
        return None
    found = root.find("faultstring") if root.tag == FAULT and path == FAULT_STRING else root.find(path)
    return found.text.strip() if found is not None and found.text else None


def queued_extraction(body: bytes) -> tuple[str, str] | None:
    """(id, status) of the SDMX APIs' first asynchronous answer (Envelope/Body/syncResponse/queued), else None."""
    key, status = soap_text(body, QUEUED + "id"), soap_text(body, QUEUED + "status")
    return (key, status) if key and status else None


def async_status(body: bytes) -> tuple[str, str] | None:
    """(key, status) of an async/status answer (Envelope/Body/asyncResponse/status/{key,status}), else None."""
    key, status = soap_text(body, ASYNC_STATUS + "key"), soap_text(body, ASYNC_STATUS + "status")
    return (key, status) if key and status else None


def looks_like_html(body: bytes, content_type: str) -> bool:
    """An HTML page (portal, maintenance notice, login wall) instead of data."""
    if content_type.split(";")[0].strip().lower() in {"text/html", "application/xhtml+xml"}:
        return True
    head = body[:512].lstrip().lower()
    return head.startswith(b"<!doctype html") or head.startswith(b"<html")


def http_date_to_iso(value: str | None) -> str | None:
    """An HTTP date (Last-Modified) as ISO 8601 UTC."""
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).astimezone(timezone.utc).replace(microsecond=0).isoformat()
    except (TypeError, ValueError):
        return None


def dataflow_update(body: bytes) -> str | None:
    """The UPDATE_DATA annotation of a dataflow answered as JSON (extension.annotation), else None."""
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    annotations = ((doc.get("extension") or {}).get("annotation") or []) if isinstance(doc, dict) else []
    dates = [a.get("date") for a in annotations if isinstance(a, dict) and a.get("type") == "UPDATE_DATA"]
    return str(dates[0]) if dates and dates[0] else None


def same_instant(first: str | None, second: str | None) -> bool:
    """Two ISO 8601 stamps naming the same moment (zones and notations may differ); False when either is missing."""
    if not first or not second:
        return False
    try:
        one, two = datetime.fromisoformat(first), datetime.fromisoformat(second)
    except ValueError:
        return first == second
    if (one.tzinfo is None) != (two.tzinfo is None):
        one, two = one.replace(tzinfo=one.tzinfo or timezone.utc), two.replace(tzinfo=two.tzinfo or timezone.utc)
    return one == two


# ---------------------------------------------------------------- compressed bodies, bounded

def inflate(data: bytes, limit: int, what: str) -> bytes:
    """A gzip or zlib stream inflated, every member, refusing output beyond `limit` bytes while inflating."""
    out, size = [], 0
    while data:
        inflater = zlib.decompressobj(wbits=47)  # gzip or zlib header, detected
        chunk = inflater.decompress(data, INFLATE_STEP)  # small steps: zlib's output buffer never outgrows one
        while True:
            size += len(chunk)
            if size > limit:
                raise TooLarge(f"{what} inflates to more than {limit:,} bytes (the download limit)")
            out.append(chunk)
            if not inflater.unconsumed_tail:
                break
            chunk = inflater.decompress(inflater.unconsumed_tail, INFLATE_STEP)
        if not inflater.eof:
            raise zlib.error(f"{what} is cut short (compressed stream not finished)")
        data = inflater.unused_data if inflater.unused_data[:2] == GZIP_MAGIC else b""
    return b"".join(out)


def unzip(data: bytes, limit: int, what: str) -> bytes:
    """The one member of a ZIP archive (as the async data endpoint may serve), refusing it beyond `limit` bytes."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) != 1:
            raise zlib.error(f"{what} is a ZIP holding {len(members)} files, expected one")
        with archive.open(members[0]) as handle:
            body = handle.read(limit + 1)
    if len(body) > limit:
        raise TooLarge(f"{what} unzips to more than {limit:,} bytes (the download limit)")
    return body


def real_bytes(served: bytes, limit: int, what: str = "the body") -> bytes:
    """The body to inspect and decode: a gzip or ZIP body (known by its signature) opened within the limit."""
    if served[:2] == GZIP_MAGIC:
        return inflate(served, limit, what)
    if served[:4] == ZIP_MAGIC:
        return unzip(served, limit, what)
    return served


# ---------------------------------------------------------------- decoding a body once

def decode_body(decoder: str, body: bytes, source: str, dataset: str):
    """The body decoded by its format's decoder (raises DecodeError if untrustworthy)."""
    return registry.decode(decoder, body, source, dataset=dataset)


# ---------------------------------------------------------------- the client

@dataclass
class Fetched:
    """One accepted answer: the data body (inflated), the bytes to store, and what the server said."""

    url: str                      # the data request as sent
    body: bytes                   # what was inspected and decoded
    status: int
    headers: dict
    stored: bytes | None = None   # what goes into the raw store (gzip kept as served); None = body
    async_key: str | None = None  # set when the body came through the async API
    data_url: str | None = None   # async/data/{key} when it did


class PacedRetry(Retry):
    """urllib3's Retry whose waits go through the client: its sleep function, Retry-After cap and download deadline."""

    RETRY_AFTER_STATUS_CODES = frozenset({429, 503})  # never 413: EXTRACTION_TOO_BIG is final

    def __init__(self, *args, pause: Callable[[float, bool], None] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.pause = pause

    def new(self, **kw) -> "PacedRetry":
        """A copy for the next attempt, keeping the pause function."""
        retry = super().new(**kw)
        retry.pause = self.pause
        return retry

    def get_backoff_time(self) -> float:
        """urllib3's exponential backoff, counting redirects too (a maintenance redirect is a failed attempt)."""
        attempts = len(self.history)
        return 0.0 if attempts <= 1 else float(min(self.backoff_max, self.backoff_factor * 2 ** (attempts - 1)))

    def sleep(self, response=None) -> None:
        """Wait what Retry-After asks (429/503), else the exponential backoff."""
        try:
            asked = self.get_retry_after(response) if response is not None else None
        except InvalidHeader:
            asked = None
        wait = asked if asked is not None else self.get_backoff_time()
        (self.pause or (lambda seconds, _: time.sleep(seconds)))(wait, asked is not None)


class EurostatClient:
    """Talks to the Eurostat dissemination API: urllib3 retries, bounded downloads, asynchronous extractions."""

    def __init__(self, base_url: str | None = None, session: requests.Session | None = None,
                 timeout: tuple[float, float] = (5, 60), max_retries: int = 4, backoff: float = 0.5,
                 sleep: Callable[[float], None] = time.sleep, *, async_poll_interval: float = 2.0,
                 async_max_polls: int = 90, max_retry_after: float = 600.0, max_bytes: int | None = None,
                 deadline: float | None = None):
        assert max_retries >= 0, f"max_retries must be >= 0, got {max_retries}"
        self.base_url = (base_url or config.eurostat_base_url()).rstrip("/")
        self.timeout, self.max_retries, self.backoff, self.sleep = timeout, max_retries, backoff, sleep
        self.async_poll_interval, self.async_max_polls = async_poll_interval, async_max_polls
        self.max_retry_after = max_retry_after
        self.max_bytes = max_bytes or config.download_max_bytes()
        self.deadline = deadline or config.download_deadline()
        self.session = session or requests.Session()
        self.session.headers.update({"User-Agent": USER_AGENT, "Accept-Encoding": "identity"})
        adapter = HTTPAdapter(max_retries=PacedRetry(
            total=max_retries, connect=max_retries, read=max_retries, status=max_retries, other=0,
            backoff_factor=backoff, status_forcelist=TRANSIENT_STATUSES, allowed_methods={"GET"},
            raise_on_status=False, respect_retry_after_header=True, retry_after_max=10 ** 9, pause=self.pause))
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.current: tuple[str, str, float] = ("", "", 0.0)  # dataset, url, deadline of the download under way

    # -- one download: GET with retries, body read within the size limit and the deadline

    def pause(self, seconds: float, from_header: bool) -> None:
        """Wait between attempts, unless Retry-After asks too much or the wait would pass the download's deadline."""
        dataset, url, deadline = self.current
        if from_header and seconds > self.max_retry_after:
            raise EurostatHTTPError(dataset, url, f"Eurostat asks to retry after {seconds:.0f} s, "
                                    f"longer than the {self.max_retry_after:.0f} s this client waits")
        if time.monotonic() + seconds > deadline:
            raise DeadlinePassed(dataset, url, f"Eurostat is unavailable: no answer within the {self.deadline:g} s "
                                 "deadline of a download (retries included)")
        self.sleep(seconds)

    def get(self, url: str, dataset: str) -> Fetched:
        """One download (urllib3 retries timeouts, 429, 5xx and maintenance redirects); the body inflated, checked later."""
        deadline = time.monotonic() + self.deadline
        self.current = (dataset, url, deadline)
        timeout = (self.timeout[0], min(self.timeout[1], self.deadline))
        try:
            response = self.session.get(url, timeout=timeout, stream=True, allow_redirects=False)
        except requests.RequestException as err:
            raise EurostatUnavailable(dataset, url, f"Eurostat is unavailable: gave up after {self.max_retries + 1} "
                                      f"attempts: {describe_transport_error(err)}") from err
        with response:
            served = self.read_body(response, dataset, url, deadline)
        stored = self.open_body(served, response.headers.get("Content-Encoding"), dataset, url)
        try:
            body = real_bytes(stored, self.max_bytes)
        except (zlib.error, zipfile.BadZipFile, EOFError) as err:
            raise RejectedBody(dataset, url, f"corrupt compressed body: {err}") from err
        except TooLarge as err:
            raise RejectedBody(dataset, url, str(err)) from err
        status = response.status_code
        if status in TRANSIENT_STATUSES:
            where = response.headers.get("Location")
            reason = f"redirected to {where}" if where else f"HTTP {status}: {error_message(body, 120)}"
            raise EurostatUnavailable(dataset, url, f"Eurostat is unavailable: gave up after {self.max_retries + 1} "
                                      f"attempts: {reason}", status=status)
        return Fetched(url, body, status, dict(response.headers), stored=stored)

    def read_body(self, response: requests.Response, dataset: str, url: str, deadline: float) -> bytes:
        """The body as sent, read as it arrives; refused past max_bytes or past the deadline, before anything is kept."""
        raw, chunks, size = response.raw, [], 0
        pieces = raw.stream(CHUNK, decode_content=False) if raw.chunked else \
            iter(lambda: raw.read1(CHUNK, decode_content=False), b"")
        try:
            for piece in pieces:
                size += len(piece)
                if size > self.max_bytes:
                    raise RejectedBody(dataset, url, f"body larger than {self.max_bytes:,} bytes (the download limit)")
                if time.monotonic() > deadline:
                    raise DeadlinePassed(dataset, url, f"Eurostat is unavailable: body not complete within the "
                                         f"{self.deadline:g} s deadline of a download ({size:,} bytes so far)")
                chunks.append(piece)
        except (urllib3.exceptions.HTTPError, OSError) as err:
            raise RejectedBody(dataset, url, describe_transport_error(err)) from err
        return b"".join(chunks)

    def open_body(self, served: bytes, encoding: str | None, dataset: str, url: str) -> bytes:
        """The body with its Content-Encoding undone (within the limit); identity is what we ask for."""
        encoding = (encoding or "identity").strip().lower()
        if encoding == "identity":
            return served
        if encoding not in {"gzip", "x-gzip", "deflate"}:
            raise RejectedBody(dataset, url, f"unsupported Content-Encoding {encoding!r}")
        try:
            return inflate(served, self.max_bytes, f"the {encoding} body")
        except zlib.error as err:
            raise RejectedBody(dataset, url, f"corrupt {encoding} body: {err}") from err
        except TooLarge as err:
            raise RejectedBody(dataset, url, str(err)) from err

    # -- asynchronous extractions

    def data_answer(self, url: str, dataset: str) -> Fetched:
        """The data for url, through Eurostat's asynchronous patterns when it answers with them."""
        answer = self.get(url, dataset)
        polls = 0
        while answer.status == 413 and "ASYNCHRONOUS_RESPONSE" in error_message(answer.body):
            # Statistics API: the extraction is being prepared; the same request answers once it is cached.
            if polls >= self.async_max_polls:
                raise AsyncExtractionError(dataset, url, f"still ASYNCHRONOUS_RESPONSE after {polls} retries")
            polls += 1
            self.sleep(self.async_poll_interval)
            answer = self.get(url, dataset)
        self.refuse_error(answer, dataset)
        queued = queued_extraction(answer.body)
        if queued:
            return self.await_extraction(url, dataset, *queued)
        return answer

    @staticmethod
    def refuse_error(answer: Fetched, dataset: str) -> None:
        """Raise for a 4xx (EXTRACTION_TOO_BIG, INVALID_QUERY_..., SOAP faults) or an unexpected status."""
        if answer.status >= 400:
            raise EurostatHTTPError(dataset, answer.url, f"HTTP {answer.status}: {error_message(answer.body)}",
                                    status=answer.status)
        if answer.status >= 300 or answer.status < 200:
            raise EurostatHTTPError(dataset, answer.url, f"unexpected HTTP {answer.status}", status=answer.status)

    def await_extraction(self, url: str, dataset: str, key: str, status: str) -> Fetched:
        """Poll async/status/{key} until AVAILABLE (bounded), then GET async/data/{key}."""
        status_url = self.base_url + ASYNC_STATUS_PATH.format(key=encode(key))
        polls = 0
        while status != "AVAILABLE":
            if status not in ASYNC_WAITING:
                raise AsyncExtractionError(dataset, url, f"asynchronous extraction {key} ended with status {status}")
            if polls >= self.async_max_polls:
                raise AsyncExtractionError(
                    dataset, url, f"asynchronous extraction {key} not AVAILABLE after {polls} polls "
                    f"(last status {status}; every {self.async_poll_interval} s)")
            self.sleep(self.async_poll_interval)
            answer = self.get(status_url, dataset)
            polls += 1
            if answer.status >= 400:  # UNKNOWN_REQUEST comes as an HTTP 400 SOAP fault
                raise AsyncExtractionError(dataset, status_url, f"asynchronous extraction {key}: HTTP {answer.status}: "
                                           f"{error_message(answer.body)}")
            found = async_status(answer.body)
            if found is None:
                raise AsyncExtractionError(dataset, status_url, f"unreadable async status: {error_message(answer.body)}")
            status = found[1]
        data_url = self.base_url + ASYNC_DATA_PATH.format(key=encode(key))
        answer = self.get(data_url, dataset)
        if answer.status >= 400:  # DATA_NOT_YET_AVAILABLE, UNKNOWN_REQUEST
            raise AsyncExtractionError(dataset, data_url, f"asynchronous extraction {key}: HTTP {answer.status}: "
                                       f"{error_message(answer.body)}")
        if async_status(answer.body) or queued_extraction(answer.body):
            raise AsyncExtractionError(dataset, data_url, f"async key {key} answered a status, not data")
        answer.url, answer.async_key, answer.data_url = url, key, data_url
        return answer

    # -- update dates

    def update_date(self, code: str) -> str | None:
        """The dataset's last data update as the service states it (dataflow annotation UPDATE_DATA), else None."""
        url = dataflow_url(self.base_url, code) + DATAFLOW_QUERY
        try:
            answer = self.get(url, code)
            self.refuse_error(answer, code)
        except EurostatUnavailable:
            raise
        except EurostatError:
            return None  # no date to compare: the dataset is downloaded, and its own errors are reported then
        return dataflow_update(answer.body)

    # -- the whole fetch

    def fetch_body(self, code: str, live_format: str, filters: Filters | None = None):
        """Download one dataset and decode it once; returns (accepted Fetched, Decoded)."""
        if live_format not in LIVE_FORMATS:
            raise ValueError(f"{code}: unknown live_format {live_format!r}; expected one of {sorted(LIVE_FORMATS)}")
        url = request_url(self.base_url, code, live_format, filters)
        fetched = self.data_answer(url, code)
        self.reject_unusable(code, fetched)
        source = raw_filename(code, live_format, fetched.stored or fetched.body)
        try:
            decoded = decode_body(LIVE_FORMATS[live_format], fetched.body, source, code)
        except Exception as err:  # any decoder failure means the body is not accepted
            reason = err.reason if isinstance(err, DecodeError) else f"{err.__class__.__name__}: {err}"
            where = f" at {err.where}" if isinstance(err, DecodeError) else ""
            raise RejectedBody(code, fetched.url, f"body rejected by the {LIVE_FORMATS[live_format]} decoder{where}: {reason}") from err
        return fetched, decoded

    @staticmethod
    def reject_unusable(code: str, fetched: Fetched) -> None:
        """Refuse bodies that are plainly not data: empty, an HTML page, or an error document served with 200."""
        content_type = fetched.headers.get("Content-Type", "")
        if not fetched.body:
            raise RejectedBody(code, fetched.url, f"HTTP {fetched.status} with an empty body")
        if looks_like_html(fetched.body, content_type):
            raise RejectedBody(code, fetched.url, f"HTTP {fetched.status} but the body is an HTML page, not data "
                               f"({error_message(fetched.body)})")
        if fetched.body[:1] == b"{" and b'"error"' in fetched.body[:300]:
            raise RejectedBody(code, fetched.url, f"HTTP {fetched.status} carrying an error: {error_message(fetched.body)}")

    def fetch_dataset(self, code: str, live_format: str, filters: Filters | None = None,
                      raw_dir=None, update_data: str | None = None) -> rawstore.RawFile:
        """Download, decode and store one dataset; nothing is written unless the body decoded. Carries the decoded body."""
        fetched, decoded = self.fetch_body(code, live_format, filters)
        decoded.source_updated = update_data or decoded.source_updated or \
            http_date_to_iso(fetched.headers.get("Last-Modified"))
        stored = fetched.stored if fetched.stored is not None else fetched.body
        if stored[:4] == ZIP_MAGIC:
            stored = fetched.body  # the decoders read gzip but not ZIP: keep the one member
        meta = {
            "url": fetched.url,
            "retrieved_at": rawstore.utc_now_iso(),
            "http_status": fetched.status,
            "source_updated": decoded.source_updated,
            "update_data": update_data,
            "content_type": fetched.headers.get("Content-Type"),
            "format": LIVE_FORMATS[live_format],
            "live_format": live_format,
            # Only filters that were part of the request; the bulk TSV is always the whole dataset.
            "filters": (dict(filter_pairs(filters)) or None) if live_format != "tsv" else None,
            "last_modified": fetched.headers.get("Last-Modified"),
        }
        if fetched.async_key:
            meta.update(async_key=fetched.async_key, async_data_url=fetched.data_url)
        raw = rawstore.write_raw(code, raw_filename(code, live_format, stored), stored, meta, raw_dir=raw_dir)
        return dataclasses.replace(raw, decoded=decoded)


def describe_transport_error(err: Exception) -> str:
    """A short reason for a network-level failure; a timeout or a cut-short body says so."""
    text = str(err)
    if "timed out" in text.lower() or isinstance(err, (requests.Timeout, urllib3.exceptions.TimeoutError)):
        return f"timed out ({err.__class__.__name__}: {text[:200]})"
    if "IncompleteRead" in text or "prematurely" in text or isinstance(err, urllib3.exceptions.ProtocolError):
        return f"truncated body ({text[:200]})"
    return f"connection failed ({root_reason(err)})"


def root_reason(err: BaseException) -> str:
    """The innermost cause of a network error, whole: 'NewConnectionError: Failed to establish ... refused'."""
    seen = {id(err)}
    while True:
        inner = getattr(err, "reason", None)
        if not isinstance(inner, BaseException):
            inner = next((a for a in err.args if isinstance(a, BaseException)), None) or err.__cause__
        if not isinstance(inner, BaseException) or id(inner) in seen:
            break
        seen.add(id(inner))
        err = inner
    text = re.sub(r"^<[^>]*>: ", "", str(err))  # urllib3 starts with the connection object's repr
    return f"{err.__class__.__name__}: {text}"


def raw_filename(code: str, live_format: str, body: bytes) -> str:
    """The raw store name for a live body; gzip bodies keep a .gz suffix since they are stored as served."""
    stem = code.lower() + (".tsv" if live_format == "tsv" else ".json")
    return stem + (".gz" if body[:2] == GZIP_MAGIC else "")


def fetch_dataset(code: str, live_format: str, filters: Filters | None = None, raw_dir=None,
                  client: EurostatClient | None = None) -> rawstore.RawFile:
    """Fetch one dataset from the live API (config.eurostat_base_url()) into the raw store."""
    return (client or EurostatClient()).fetch_dataset(code, live_format, filters, raw_dir=raw_dir)
