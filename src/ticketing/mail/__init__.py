"""Tickets by email: the outbox's sender, the messages it renders, and its commands.

A state change of a booking writes its message row in the same transaction (a trigger on
``bookings``, see migration 0005); the sender (sender.py) claims due rows, renders each from the
database at send time (content.py, render.py) and delivers it over SMTP (smtp.py). docs/mail.md
tells the whole story."""
