"""Times and money as a buyer reads them, in English or Thai (Jinja filters for render.py).

Times are shown in the event's own time zone, with its name, so that a buyer abroad is not
misled; Thai dates use Thai month names and the Buddhist Era year, as Thai readers expect."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

_EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
              "October", "November", "December")
_EN_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_TH_MONTHS = ("มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน", "กรกฎาคม", "สิงหาคม", "กันยายน",
              "ตุลาคม", "พฤศจิกายน", "ธันวาคม")
_TH_DAYS = ("วันจันทร์", "วันอังคาร", "วันพุธ", "วันพฤหัสบดี", "วันศุกร์", "วันเสาร์", "วันอาทิตย์")
# The Buddhist Era counts from 543 BCE.
_BUDDHIST_ERA_OFFSET = 543


def local_time(moment: datetime, timezone: str, language: str) -> str:
    """``Saturday 31 December 2099, 19:00 (Asia/Bangkok)`` or its Thai form."""
    at = moment.astimezone(ZoneInfo(timezone))
    clock = f"{at.hour:02d}:{at.minute:02d}"
    if language == "th":
        year = at.year + _BUDDHIST_ERA_OFFSET
        return f"{_TH_DAYS[at.weekday()]}ที่ {at.day} {_TH_MONTHS[at.month - 1]} พ.ศ. {year} เวลา {clock} น. ({timezone})"
    return f"{_EN_DAYS[at.weekday()]} {at.day} {_EN_MONTHS[at.month - 1]} {at.year}, {clock} ({timezone})"


def money(amount: Decimal, currency: str) -> str:
    """``1,500.00 THB``: the same in both languages (Thai writes amounts with Arabic digits)."""
    return f"{amount:,.2f} {currency}"
