"""Log lines that a client cannot forge: control characters in logged values are escaped.

A path, header or email decoded from a request may hold CR, LF, ESC or NUL. Written raw, a CR/LF
starts a fake log line and an escape sequence can rewrite a terminal. So every record of the
"ticketing" loggers is one line: its message is escaped, and the lines of an attached traceback
are indented, so that only a record's first line starts at column 0.
"""

from __future__ import annotations

import logging
import re

# C0 controls, DEL and C1 controls; plus the Unicode line and paragraph separators, which some
# log viewers break lines on.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _NAMED.get(char) or (f"\\x{ord(char):02x}" if ord(char) <= 0xFF else f"\\u{ord(char):04x}")


def printable(value: object) -> str:
    """``str(value)`` with every control character written as an escape (``\\r``, ``\\x00``)."""
    return _CONTROL.sub(_escape, str(value))


class OneLineFormatter(logging.Formatter):
    """Escapes the message of each record; indents the continuation lines of a traceback or
    stack (their own control characters other than the line breaks escaped as well)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = printable(record.message)
        return super().formatMessage(record)

    def formatException(self, ei: logging._SysExcInfoType) -> str:
        return _indented(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return _indented(super().formatStack(stack_info))


def _indented(text: str) -> str:
    return "\n".join("    " + printable(line) for line in text.splitlines())
