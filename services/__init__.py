"""The four Cortesia services: each owns its database and talks to the others through events."""
