"""SQLite storage: the persistent transfer queue and the hash-chained transfer log."""
