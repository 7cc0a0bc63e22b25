-- A Pickaxe database at schema revision 0001 (first release), with fictional data.
-- Made once with desktop.store.db._migrate(engine, ..., '0001') plus the INSERTs below; frozen.
BEGIN TRANSACTION;
CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
INSERT INTO "alembic_version" VALUES('0001');
CREATE TABLE blobs (
	digest VARCHAR(64) NOT NULL, 
	codec VARCHAR(16) NOT NULL, 
	raw_size INTEGER NOT NULL, 
	payload BLOB NOT NULL, 
	PRIMARY KEY (digest)
);
CREATE TABLE run_members (
	run_id INTEGER NOT NULL, 
	symbol VARCHAR(32) NOT NULL, 
	rank INTEGER NOT NULL, 
	score FLOAT, 
	PRIMARY KEY (run_id, symbol), 
	FOREIGN KEY(run_id) REFERENCES screen_runs (id) ON DELETE CASCADE
);
INSERT INTO "run_members" VALUES(1,'ZQBB',1,NULL);
INSERT INTO "run_members" VALUES(1,'ZQAA',2,0.5);
CREATE TABLE screen_runs (
	id INTEGER NOT NULL, 
	screen_name VARCHAR(200) NOT NULL, 
	screen_version INTEGER, 
	definition JSON NOT NULL, 
	snapshot_id INTEGER, 
	snapshot_as_of DATE NOT NULL, 
	ran_at DATETIME NOT NULL, 
	n_passed INTEGER NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(snapshot_id) REFERENCES snapshots (id) ON DELETE SET NULL
);
INSERT INTO "screen_runs" VALUES(1,'Old survivors',2,'{"version": 1}',1,'2026-03-02','2026-03-02 18:05:00.000000',2);
CREATE TABLE screen_versions (
	id INTEGER NOT NULL, 
	screen_id INTEGER NOT NULL, 
	version INTEGER NOT NULL, 
	description TEXT NOT NULL, 
	definition JSON NOT NULL, 
	saved_at DATETIME NOT NULL, 
	restored_from INTEGER, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_screen_versions_screen_version UNIQUE (screen_id, version), 
	FOREIGN KEY(screen_id) REFERENCES screens (id) ON DELETE CASCADE
);
INSERT INTO "screen_versions" VALUES(1,1,1,'first try','{"version": 1, "name": "Old survivors", "criteria": [{"field": "market_cap", "max": 2000000000}]}','2026-03-01 10:00:00.000000',NULL);
INSERT INTO "screen_versions" VALUES(2,1,2,'tighter','{"version": 1, "name": "Old survivors", "criteria": [{"field": "market_cap", "max": 1000000000}]}','2026-03-02 10:00:00.000000',NULL);
CREATE TABLE screens (
	id INTEGER NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	current_version INTEGER NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (name)
);
INSERT INTO "screens" VALUES(1,'Old survivors','2026-03-01 10:00:00.000000','2026-03-02 10:00:00.000000',2);
CREATE TABLE snapshot_parts (
	snapshot_id INTEGER NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	symbol VARCHAR(32) NOT NULL, 
	digest VARCHAR(64) NOT NULL, 
	n_rows INTEGER NOT NULL, 
	PRIMARY KEY (snapshot_id, kind, symbol), 
	FOREIGN KEY(snapshot_id) REFERENCES snapshots (id) ON DELETE CASCADE, 
	FOREIGN KEY(digest) REFERENCES blobs (digest)
);
CREATE TABLE snapshot_securities (
	snapshot_id INTEGER NOT NULL, 
	symbol VARCHAR(32) NOT NULL, 
	in_index BOOLEAN, 
	data JSON NOT NULL, 
	PRIMARY KEY (snapshot_id, symbol), 
	FOREIGN KEY(snapshot_id) REFERENCES snapshots (id) ON DELETE CASCADE
);
INSERT INTO "snapshot_securities" VALUES(1,'ZQAA',1,'{"name": "Zqaa Widgets Inc"}');
INSERT INTO "snapshot_securities" VALUES(1,'ZQBB',1,'{"name": "Zqbb Gadgets Corp", "market_cap": 512000000.0}');
INSERT INTO "snapshot_securities" VALUES(1,'ZQCC',0,'{"name": "Zqcc Holdings", "market_cap": 1.5e9}');
CREATE TABLE snapshots (
	id INTEGER NOT NULL, 
	as_of DATE NOT NULL, 
	created_at DATETIME NOT NULL, 
	sources JSON NOT NULL, 
	summary JSON NOT NULL, 
	securities_schema JSON NOT NULL, 
	n_securities INTEGER NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "snapshots" VALUES(1,'2026-03-02','2026-03-02 18:00:00.000000','[{"source": "ishares", "origin": "fictional.csv", "as_of": "2026-03-02", "fetched_at": "2026-03-02T17:59:00", "rows": 3}]','{"rows_read": 3}','[["__index__", "object"], ["name", "object"], ["in_index", "bool"], ["market_cap", "float64"]]',3);
CREATE TABLE watchlist (
	symbol VARCHAR(32) NOT NULL, 
	note TEXT NOT NULL, 
	added_at DATETIME NOT NULL, 
	PRIMARY KEY (symbol)
);
INSERT INTO "watchlist" VALUES('ZQBB','fictional note','2026-03-02 12:00:00.000000');
CREATE INDEX ix_snapshots_as_of ON snapshots (as_of);
CREATE INDEX ix_snapshot_parts_digest ON snapshot_parts (digest);
CREATE INDEX ix_screen_runs_name ON screen_runs (screen_name, id);
COMMIT;
