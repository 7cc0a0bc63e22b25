"""Schema revisions, oldest first: 0001 (first release), 0002 (raw cache, snapshot member count),
0003 (snapshot checksums), 0004 (cached metric tables). A file is named after its revision
(``NNNN_what.py``): ``desktop.store.db.known_revisions`` reads the chain from the names."""
