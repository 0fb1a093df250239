"""The platform library shared by every Cortesia service.

Configuration, logging, database helpers, event contracts, the bus (outbox,
relay, consumers, inbox, the embedded bus) and web helpers. No domain logic
lives here: each service keeps its own rules in ``services/<name>/``.
"""
