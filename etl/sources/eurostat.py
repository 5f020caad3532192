"""The live source: an HTTP client for the Eurostat dissemination API that only keeps bodies it could decode."""
from __future__ import annotations

import gzip
import importlib
import json
import re
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Callable, Mapping, Sequence
from urllib.parse import quote

import requests

from etl import config
from etl.model import DecodeError
from etl.sources import rawstore

API_ROOT = "/eurostat/api/dissemination"
STATISTICS_PATH = API_ROOT + "/statistics/1.0/data/{code}"
SDMX21_PATH = API_ROOT + "/sdmx/2.1/data/{code}"
SDMX30_PATH = API_ROOT + "/sdmx/3.0/data/dataflow/ESTAT/{code}/1.0/"
ASYNC_STATUS_PATH = API_ROOT + "/1.0/async/status/{key}"
ASYNC_DATA_PATH = API_ROOT + "/1.0/async/data/{key}"

# live_format (catalogue) -> decoder module under etl.formats
LIVE_FORMATS = {"jsonstat": "jsonstat", "jsonstat-sdmx3": "jsonstat", "tsv": "tsv"}
ASYNC_WAITING = {"SUBMITTED", "PROCESSING"}
CODE_PATTERN = re.compile(r"^[A-Za-z0-9_$]+$")
GZIP_MAGIC = b"\x1f\x8b"
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


class RejectedBody(EurostatError):
    """A body arrived but is not data we can trust (HTML page, truncated, undecodable)."""


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
    fault = re.search(r"<faultstring>(.*?)</faultstring>", text, re.S)
    if fault:
        return fault.group(1).strip()
    title = re.search(r"<title>(.*?)</title>", text, re.S | re.I)
    if title:
        return f"HTML page titled {title.group(1).strip()!r}"
    return text[:limit] or "(empty body)"


def is_async_warning(body: bytes) -> bool:
    """The Statistics API's 'ASYNCHRONOUS_RESPONSE ... try again later' warning (no key, just retry)."""
    return len(body) < 4096 and b"ASYNCHRONOUS_RESPONSE" in body


def async_status(body: bytes) -> tuple[str, str] | None:
    """(key, status) from an SDMX asynchronous answer (SOAP envelope with asyncResponse), else None."""
    if len(body) > 65536 or b"asyncResponse" not in body:
        return None
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    key = status = None
    for element in root.iter():
        name = element.tag.rsplit("}", 1)[-1]
        if name == "key" and element.text:
            key = element.text.strip()
        elif name == "status" and len(element) == 0 and element.text:
            status = element.text.strip()
    return (key, status) if key and status else None


def looks_like_html(body: bytes, content_type: str) -> bool:
    """An HTML page (portal, maintenance notice, login wall) instead of data."""
    if content_type.split(";")[0].strip().lower() in {"text/html", "application/xhtml+xml"}:
        return True
    head = body[:512].lstrip().lower()
    return head.startswith(b"<!doctype html") or head.startswith(b"<html")


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a Retry-After header asks for: delta-seconds or an HTTP-date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def http_date_to_iso(value: str | None) -> str | None:
    """A Last-Modified header as ISO 8601 UTC."""
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).astimezone(timezone.utc).replace(microsecond=0).isoformat()
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------- checking a body before it is accepted

def load_decoder(decoder: str):
    """The etl.formats module for a format, or None while it is not written yet."""
    name = f"etl.formats.{decoder}"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as err:
        if err.name != name:
            raise
        return None


def standin_check(decoder: str, body: bytes, source: str) -> str | None:
    """Minimal structural check used only while etl.formats.<decoder> does not exist; returns source_updated."""
    raw = body
    if raw[:2] == GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as err:
            raise DecodeError(source, "gzip stream", f"truncated or corrupt gzip: {err}") from err
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise DecodeError(source, f"byte {err.start}", "not UTF-8 text") from err
    if decoder == "jsonstat":
        try:
            doc = json.loads(text)
        except ValueError as err:
            raise DecodeError(source, "JSON", f"not valid JSON: {err}") from err
        missing = [k for k in ("id", "size", "dimension", "value") if k not in doc] if isinstance(doc, dict) else ["all"]
        if missing:
            raise DecodeError(source, "JSON-stat", f"not a JSON-stat dataset (missing {missing})")
        return doc.get("updated")
    if decoder == "tsv":
        lines = text.rstrip("\n").split("\n")
        header = lines[0]
        if "\\" not in header.split("\t")[0]:
            raise DecodeError(source, "line 1", "not a Eurostat TSV header (no 'geo\\TIME_PERIOD')")
        width = header.count("\t")
        for number, line in enumerate(lines[1:], start=2):
            if line.count("\t") != width:
                raise DecodeError(source, f"line {number}", f"{line.count(chr(9)) + 1} cells, header has {width + 1}")
        return None
    raise DecodeError(source, "format", f"no decoder for {decoder!r}")


def check_body(decoder: str, body: bytes, source: str, dataset: str) -> str | None:
    """Decode the body with its format's decoder (raising DecodeError if untrustworthy); returns source_updated."""
    module = load_decoder(decoder)
    if module is None:
        return standin_check(decoder, body, source)
    decoded = module.decode(body, source, dataset=dataset)
    return decoded.source_updated


# ---------------------------------------------------------------- the client

@dataclass
class Fetched:
    """One accepted answer: the final URL's body and what the server said about it."""

    url: str                      # the data request as sent
    body: bytes
    status: int
    headers: dict
    async_key: str | None = None  # set when the body came through the async API
    data_url: str | None = None   # async/data/{key} when it did


class EurostatClient:
    """Talks to the Eurostat dissemination API with timeouts, bounded retries and asynchronous extractions."""

    def __init__(self, base_url: str | None = None, session: requests.Session | None = None,
                 timeout: tuple[float, float] = (5, 60), max_retries: int = 4, backoff: float = 0.5,
                 sleep: Callable[[float], None] = time.sleep, *, async_poll_interval: float = 2.0,
                 async_max_polls: int = 90, max_retry_after: float = 600.0):
        self.base_url = (base_url or config.eurostat_base_url()).rstrip("/")
        self.session = session or self.default_session()
        self.timeout, self.max_retries, self.backoff, self.sleep = timeout, max_retries, backoff, sleep
        self.async_poll_interval, self.async_max_polls = async_poll_interval, async_max_polls
        self.max_retry_after = max_retry_after
        assert max_retries >= 0, f"max_retries must be >= 0, got {max_retries}"

    @staticmethod
    def default_session() -> requests.Session:
        """A session that says who we are and accepts compressed transfers."""
        session = requests.Session()
        session.headers.update({"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"})
        return session

    # -- one GET with retries

    def get(self, url: str, dataset: str) -> requests.Response:
        """GET url, retrying connection errors, timeouts, truncated bodies, 429 and 5xx; other 4xx fail at once."""
        failures: list[str] = []
        last_status = None
        for attempt in range(self.max_retries + 1):
            last = attempt == self.max_retries
            try:
                response = self.session.get(url, timeout=self.timeout)
            except requests.Timeout as err:
                failures.append(f"timed out ({err.__class__.__name__}, timeout={self.timeout})")
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError,
                    requests.exceptions.ContentDecodingError) as err:
                failures.append(self.describe_transport_error(err))
            else:
                last_status = response.status_code
                verdict = self.classify(response, dataset, url)
                if verdict is None:
                    return response
                failures.append(verdict)
                if not last:
                    self.sleep(self.wait_before_retry(response, attempt, dataset, url))
                continue
            if not last:
                self.sleep(self.backoff * 2 ** attempt)
        raise EurostatUnavailable(
            dataset, url, f"gave up after {self.max_retries + 1} attempts: " + summarize(failures),
            status=last_status,
        )

    @staticmethod
    def describe_transport_error(err: Exception) -> str:
        """A short reason for a network-level failure; a cut-short body says so."""
        text = str(err)
        if "IncompleteRead" in text or "prematurely" in text or "ChunkedEncoding" in err.__class__.__name__:
            return f"truncated body ({text[:200]})"
        return f"connection failed ({err.__class__.__name__}: {text[:200]})"

    def classify(self, response: requests.Response, dataset: str, url: str) -> str | None:
        """None for a usable 2xx answer, a reason string for a retryable one; raises for a hopeless one."""
        status = response.status_code
        body = response.content
        if status == 429 or status >= 500:
            return f"HTTP {status}: {error_message(body, 120)}"
        if 400 <= status < 500:
            if status == 413 and is_async_warning(body):
                return None  # handled by the caller's async-warning loop
            raise EurostatHTTPError(dataset, url, f"HTTP {status}: {error_message(body)}", status=status)
        if status >= 300:
            raise EurostatHTTPError(dataset, url, f"unexpected HTTP {status} (redirect not followed)", status=status)
        declared = response.headers.get("Content-Length")
        if declared and not response.headers.get("Content-Encoding") and int(declared) != len(body):
            return f"truncated body: Content-Length {declared}, received {len(body)} bytes"
        return None

    def wait_before_retry(self, response: requests.Response, attempt: int, dataset: str, url: str) -> float:
        """Retry-After when the server gives one (429/503), else exponential backoff."""
        asked = retry_after_seconds(response.headers.get("Retry-After"))
        if asked is None:
            return self.backoff * 2 ** attempt
        if asked > self.max_retry_after:
            raise EurostatHTTPError(
                dataset, url, f"HTTP {response.status_code} asks to retry after {asked:.0f} s, "
                f"longer than the {self.max_retry_after:.0f} s this client waits", status=response.status_code)
        return asked

    # -- asynchronous extractions

    def resolve_async(self, url: str, dataset: str, response: requests.Response) -> Fetched:
        """Follow Eurostat's asynchronous patterns until the data body itself is in hand."""
        polls = 0
        while is_async_warning(response.content):
            # Statistics API: no key, the same request answers once the extraction is cached.
            if polls >= self.async_max_polls:
                raise AsyncExtractionError(dataset, url, f"still ASYNCHRONOUS_RESPONSE after {polls} retries")
            polls += 1
            self.sleep(self.async_poll_interval)
            response = self.get(url, dataset)
        found = async_status(response.content)
        if found is None:
            return Fetched(url, response.content, response.status_code, dict(response.headers))
        key, status = found
        return self.await_async_key(url, dataset, key, status)

    def await_async_key(self, url: str, dataset: str, key: str, status: str) -> Fetched:
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
            found = async_status(answer.content)
            if found is None:
                raise AsyncExtractionError(dataset, status_url, f"unreadable async status: {error_message(answer.content)}")
            status = found[1]
        data_url = self.base_url + ASYNC_DATA_PATH.format(key=encode(key))
        response = self.get(data_url, dataset)
        if async_status(response.content):
            raise AsyncExtractionError(dataset, data_url, f"async key {key} answered a status, not data")
        return Fetched(url, response.content, response.status_code, dict(response.headers),
                       async_key=key, data_url=data_url)

    # -- the whole fetch

    def fetch_body(self, code: str, live_format: str, filters: Filters | None = None) -> tuple[Fetched, str | None]:
        """Download one dataset and check it with its decoder; returns the accepted body and its source_updated."""
        if live_format not in LIVE_FORMATS:
            raise ValueError(f"{code}: unknown live_format {live_format!r}; expected one of {sorted(LIVE_FORMATS)}")
        url = request_url(self.base_url, code, live_format, filters)
        fetched = self.resolve_async(url, code, self.get(url, code))
        self.reject_unusable(code, fetched)
        source = raw_filename(code, live_format, fetched.body)
        try:
            source_updated = check_body(LIVE_FORMATS[live_format], fetched.body, source, code)
        except Exception as err:  # any decoder failure means the body is not accepted
            reason = err.reason if isinstance(err, DecodeError) else f"{err.__class__.__name__}: {err}"
            where = f" at {err.where}" if isinstance(err, DecodeError) else ""
            raise RejectedBody(code, fetched.url, f"body rejected by the {LIVE_FORMATS[live_format]} decoder{where}: {reason}") from err
        return fetched, source_updated or http_date_to_iso(fetched.headers.get("Last-Modified"))

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
                      raw_dir=None) -> rawstore.RawFile:
        """Download, check and store one dataset in the raw store; nothing is written unless the body decoded."""
        fetched, source_updated = self.fetch_body(code, live_format, filters)
        meta = {
            "url": fetched.url,
            "retrieved_at": rawstore.utc_now_iso(),
            "http_status": fetched.status,
            "source_updated": source_updated,
            "content_type": fetched.headers.get("Content-Type"),
            "format": LIVE_FORMATS[live_format],
            "live_format": live_format,
            # Only filters that were part of the request; the bulk TSV is always the whole dataset.
            "filters": (dict(filter_pairs(filters)) or None) if live_format != "tsv" else None,
            "last_modified": fetched.headers.get("Last-Modified"),
        }
        if fetched.async_key:
            meta.update(async_key=fetched.async_key, async_data_url=fetched.data_url)
        return rawstore.write_raw(code, raw_filename(code, live_format, fetched.body), fetched.body, meta, raw_dir=raw_dir)


def summarize(reasons: list[str]) -> str:
    """Failure reasons in order, repeats folded into 'N x reason'."""
    folded: list[tuple[str, int]] = []
    for reason in reasons:
        if folded and folded[-1][0] == reason:
            folded[-1] = (reason, folded[-1][1] + 1)
        else:
            folded.append((reason, 1))
    return "; ".join(reason if n == 1 else f"{n} x {reason}" for reason, n in folded)


def raw_filename(code: str, live_format: str, body: bytes) -> str:
    """The raw store name for a live body; gzip bodies keep a .gz suffix since they are stored as served."""
    stem = code.lower() + (".tsv" if live_format == "tsv" else ".json")
    return stem + (".gz" if body[:2] == GZIP_MAGIC else "")


def fetch_dataset(code: str, live_format: str, filters: Filters | None = None, raw_dir=None,
                  client: EurostatClient | None = None) -> rawstore.RawFile:
    """Fetch one dataset from the live API (config.eurostat_base_url()) into the raw store."""
    return (client or EurostatClient()).fetch_dataset(code, live_format, filters, raw_dir=raw_dir)
