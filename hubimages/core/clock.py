"""The one timestamp format of records and labels (UTC, ISO 8601), the date of tags, and the
time a build says it ran at: $SOURCE_DATE_EPOCH when set (reproducible builds), else now."""

from __future__ import annotations

import os
import time

TIMESTAMP = "%Y-%m-%dT%H:%M:%SZ"
DATE = "%Y-%m-%d"
SOURCE_DATE_EPOCH = "SOURCE_DATE_EPOCH"


def utc_timestamp(seconds: float | None = None) -> str:
    return time.strftime(TIMESTAMP, time.gmtime(seconds))


def utc_date(seconds: float | None = None) -> str:
    return time.strftime(DATE, time.gmtime(seconds))


def build_time() -> float:
    """Seconds since the epoch that a build records (created label, release tag date)."""
    value = os.environ.get(SOURCE_DATE_EPOCH, "")
    return float(value) if value.isdigit() else time.time()
