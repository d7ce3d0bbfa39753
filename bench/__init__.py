"""Benchmarks (never run as tests): `make bench` runs `python -m bench`."""
