"""The sandbox bank: the bank's side of the agreement-payment protocol (PROTOCOL.md) as a server
of its own, with its own SQLite database, deterministic by card number and with switchable
faults (README.md). It imports nothing from the platform."""
