"""HTTP/1.1 over a bare socket, for the tests that must send what no client library would
(slow heads, lying lengths, requests held open on purpose)."""

from __future__ import annotations

import socket


def read_answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Reads one HTTP/1.1 answer with a Content-Length: status, lower-cased headers, body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before an answer: {data!r}"
        data += chunk
    raw_head, body = data.split(b"\r\n\r\n", 1)
    lines = raw_head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed in the middle of an answer"
        body += chunk
    return int(lines[0].split()[1]), headers, body[:length]
