"""Pages of a list: `page` (from 1) and `page_size` (1–200) in, `count`, `page`, `pages`, `page_size` out.

A page past the end is empty (never the last page again), so a script that reads until it gets no rows stops.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet

from dangjian.records import counts

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


def page_of(rows: QuerySet | Sequence[Any], page: int, page_size: int) -> tuple[list[Any], dict[str, int]]:
    """The rows of one page and the page's numbers (one COUNT and one LIMIT/OFFSET query for a queryset)."""
    count = rows.count() if isinstance(rows, QuerySet) else len(rows)
    start = (page - 1) * page_size
    chosen = list(rows[start : start + page_size]) if start < count else []
    return chosen, numbers(count, page, page_size)


def page_of_records(rows: QuerySet, page: int, page_size: int) -> tuple[list[Any], dict[str, int]]:
    """Like page_of, for a large table: the count kept until the next write (`records.counts`), the page's ids
    (read from an index alone, however deep the page, as the web's records list does), then those rows with
    their orgs, in the same order."""
    keys = rows.values_list("pk", flat=True)
    count = counts.count(keys)
    start = (page - 1) * page_size
    ids = list(keys[start : start + page_size]) if start < count else []
    found = rows.model.objects.select_related("org").in_bulk(ids)
    return [found[pk] for pk in ids], numbers(count, page, page_size)


def numbers(count: int, page: int, page_size: int) -> dict[str, int]:
    return {
        "count": count,
        "page": page,
        "pages": max(1, math.ceil(count / page_size)),
        "page_size": page_size,
    }
