"""gunicorn settings shared by the Procfile and `dsm serve` (gunicorn -c python:dashboard.gunicorn_conf).

Workers and threads: $DSM_WORKERS / $DSM_THREADS (default 2 x 4, the load-tested setup) or gunicorn's own flags.
limit_request_line sits above the app's own 4,096-character URL check (dashboard/security.py), so a long query gets
the app's plain 414 message; only a line over 8,190 bytes meets gunicorn's own refusal.
"""
import os

workers = int(os.environ.get("DSM_WORKERS", "2"))
threads = int(os.environ.get("DSM_THREADS", "4"))
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
timeout = 120
graceful_timeout = 30
