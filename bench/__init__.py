"""Benchmark harness for the booking hot path: ``python -m bench`` (see bench/README.md)."""
