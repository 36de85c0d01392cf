"""Every row a request could create or change, to prove that a refused request changed nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from ticketing.db import tables
from ticketing.db.database import Database

Rows = dict[str, list[tuple[Any, ...]]]


async def table_rows(db: Database) -> Rows:
    """Users, events, bookings and tickets (sign-in failures aside), in id order."""

    async def read(conn: AsyncConnection) -> Rows:
        rows = {}
        for table in (tables.users, tables.events, tables.bookings, tables.tickets):
            result = await conn.execute(select(table).order_by(table.c.id))
            rows[table.name] = [tuple(row) for row in result]
        return rows

    return await db.read(read)
