"""Hardening tests: hostile input, ETL faults, served security. Shared helpers: the app over loopback, raw HTTP."""
from __future__ import annotations

import http.client
import json
import logging
import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

REPO = Path(__file__).resolve().parents[2]
# What a leaked Python error looks like in a response body. Offline HTML exports inline plotly.js, whose source
# names JavaScript errors, so for those only the Python traceback shape itself counts (strict=False).
TRACEBACK_SHAPES = ("Traceback (most recent call last)", 'File "/', "werkzeug.debug")
TRACEBACK_MARKERS = TRACEBACK_SHAPES + ("Traceback", "AssertionError", "KeyError", "TypeError", "ValueError",
                                        "IndexError", "AttributeError", "duckdb.", "BinderException", "ParserException")


@contextmanager
def serving(data_dir: Path) -> Iterator[int]:
    """The dashboard's Flask server (dashboard.app.server) on 127.0.0.1:<free port> reading `data_dir`; yields the port."""
    from werkzeug.serving import make_server

    from dashboard.data import connection

    previous = os.environ.get("DSM_DATA_DIR")
    os.environ["DSM_DATA_DIR"] = str(data_dir)
    connection.clear_cache()
    from dashboard.app import app

    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join(10)
        connection.clear_cache()
        if previous is None:
            os.environ.pop("DSM_DATA_DIR", None)
        else:
            os.environ["DSM_DATA_DIR"] = previous


def request(port: int, method: str, path: str, body: bytes | None = None,
            headers: dict | None = None) -> tuple[int, dict, bytes]:
    """One HTTP request over loopback: (status, headers, body), whatever the status."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def callback_payload(output: str, outputs, inputs: list[dict], state: list | None = None) -> bytes:
    """A /_dash-update-component body shaped as dash-renderer sends it (recorded from Chromium once)."""
    body = {"output": output, "outputs": outputs, "inputs": inputs, "changedPropIds": [], "parsedChangedPropsIds": []}
    if state is not None:
        body["state"] = state
    return json.dumps(body).encode()


def pages_content_payload(pathname: str, search: str) -> bytes:
    """The callback that renders a page for a URL (dash pages' _pages_content)."""
    return callback_payload(
        ".._pages_content.children..._pages_store.data..",
        [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
        [{"id": "_pages_location", "property": "pathname", "value": pathname},
         {"id": "_pages_location", "property": "search", "value": search}],
    )


def leaked_traceback(body: bytes | str, *, strict: bool = True) -> str | None:
    """The first traceback marker found in a response body, or None (strict: exception class names count too)."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    return next((marker for marker in (TRACEBACK_MARKERS if strict else TRACEBACK_SHAPES) if marker in text), None)
