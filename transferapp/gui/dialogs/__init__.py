"""Dialogs (one per file)."""
