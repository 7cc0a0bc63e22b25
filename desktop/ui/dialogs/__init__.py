"""Dialogs of the main window: import, refresh progress, version history, what changed, export."""
