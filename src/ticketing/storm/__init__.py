"""``ticketing storm``: concurrent bookings against a running server, checked against the contract.

Usable as a library (the fault tests drive load with it)::

    async with Api(url, concurrency=32) as api:
        tokens = await register_accounts(api, 10)
        storm = Storm(api, event_id, tokens, quantities=QuantityPlan(1, 1), requests=500, concurrency=32)
        result = await storm.run()
"""

from ticketing.storm.accounts import read_token_file, register_accounts
from ticketing.storm.client import Answer, Api
from ticketing.storm.plan import QuantityPlan
from ticketing.storm.runner import Outcome, Storm, StormResult

__all__ = ["Answer", "Api", "Outcome", "QuantityPlan", "Storm", "StormResult", "read_token_file", "register_accounts"]
