"""Transports move bytes to and from one kind of server behind one contract (see base.py)."""
