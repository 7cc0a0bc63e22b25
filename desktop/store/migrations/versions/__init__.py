"""Schema revisions, oldest first: 0001 (first release), 0002 (raw cache, snapshot member count)."""
