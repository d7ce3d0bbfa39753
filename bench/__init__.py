"""Benchmarks (never run as tests): `make bench` runs `python -m bench`."""

from __future__ import annotations

import os

ALL_SCALES = ("S", "M", "L", "P")


def scales() -> tuple[str, ...]:
    """The demo scales to measure: BENCH_SCALES="S,M,L" (default S,M; L, a province, takes about half an hour;
    P, about 5 million records, is measured on PostgreSQL by `python -m bench province`)."""
    wanted = tuple(s.strip().upper() for s in os.environ.get("BENCH_SCALES", "S,M").split(",") if s.strip())
    unknown = [s for s in wanted if s not in ALL_SCALES]
    if unknown or not wanted:
        raise SystemExit(
            f"BENCH_SCALES 应为 S、M、L、P 中的一个或几个（用逗号分隔），而不是“{','.join(unknown)}”"
        )
    return wanted
