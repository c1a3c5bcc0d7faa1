"""bench/http_load.py's settings: the production settings with one extra bare "hello" view."""

from lending.settings import *  # noqa: F403

ROOT_URLCONF = "bench.http_urls"
