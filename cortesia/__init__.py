"""The ``cortesia`` command and the composition of the four services into one platform."""
