"""The Baltic DSM dashboard (Dash app, data access, pages).

Arrow's default allocator (mimalloc) keeps a heap of its own in every web thread; the dashboard's Arrow buffers are
small (a few MB at most), so the C library's allocator serves them with ~10 MB less resident memory per gunicorn
worker. Set before pyarrow is first imported (pyarrow reads it once); an operator's own setting wins.
"""
import os

os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
