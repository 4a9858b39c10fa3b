"""Dates as Cytomine sends and takes them.

Servers send dates as epoch milliseconds (strings or numbers), which parse into UTC-aware
datetimes, or, for 2026 repository records, as ISO local datetimes without a zone, which parse
into naive datetimes in the server's zone. `aware()` makes every date comparable; `epoch_ms()`
turns a datetime into what date filters (afterThan, beforeThan...) take.
"""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo


def aware(value: datetime | None, assume: tzinfo = timezone.utc) -> datetime | None:
    """`value` with a timezone: naive dates (ISO local, no zone) are taken to be in `assume`.

    Pass the server's zone as `assume` when it is not UTC (Cytomine's default deployments are).
    """
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=assume)


def epoch_ms(value: datetime, assume: tzinfo = timezone.utc) -> int:
    """Epoch milliseconds of `value`, the encoding of every date input of the API."""
    moment = aware(value, assume)
    assert moment is not None
    return int(moment.timestamp() * 1000)
