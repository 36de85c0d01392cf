"""The password every test account signs in with and the key test apps and servers sign tokens with."""

from __future__ import annotations

PASSWORD = "correct horse battery"
# Long enough for HS256 (pyjwt warns below 32 bytes); tests that forge tokens sign with it too.
SECRET_KEY = "test-secret-key-that-is-long-enough-for-hs256"
