"""Unit test fixtures: a fresh fake store and plain-text passwords per test (tests/support/fakes.py)."""

from __future__ import annotations

import pytest

from tests.support.fakes import FakeStore, PlainPasswords


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def passwords() -> PlainPasswords:
    return PlainPasswords()
