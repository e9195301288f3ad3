-- The schema-1 DDL grader 0.1 created (frozen for the migration tests). Statements end with ';' at a line end.
CREATE TABLE grader_meta (
	key VARCHAR(64) NOT NULL, 
	value TEXT NOT NULL, 
	PRIMARY KEY (key)
);
CREATE TABLE import_record (
	id SERIAL NOT NULL, 
	kind VARCHAR(32) NOT NULL, 
	fingerprint VARCHAR(64) NOT NULL, 
	source TEXT NOT NULL, 
	rows_added INTEGER NOT NULL, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (fingerprint)
);
CREATE TABLE reviewer (
	id SERIAL NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (name)
);
CREATE TABLE submission (
	id SERIAL NOT NULL, 
	benchmark VARCHAR(200) NOT NULL, 
	name VARCHAR(300) NOT NULL, 
	model_name TEXT, 
	source TEXT NOT NULL, 
	meta TEXT NOT NULL, 
	imported_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (benchmark, name)
);
CREATE TABLE task (
	id SERIAL NOT NULL, 
	benchmark VARCHAR(200) NOT NULL, 
	instance_id VARCHAR(300) NOT NULL, 
	repo VARCHAR(300) NOT NULL, 
	problem_statement TEXT NOT NULL, 
	hints_text TEXT NOT NULL, 
	reference_patch TEXT NOT NULL, 
	test_patch TEXT NOT NULL, 
	meta TEXT NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (benchmark, instance_id)
);
CREATE TABLE patch (
	id SERIAL NOT NULL, 
	task_id INTEGER NOT NULL, 
	submission_id INTEGER NOT NULL, 
	raw_patch TEXT, 
	diff_text TEXT, 
	patch_kind VARCHAR(16) NOT NULL, 
	verifier_status VARCHAR(64), 
	verifier_verdict VARCHAR(16) NOT NULL, 
	input_tokens INTEGER, 
	output_tokens INTEGER, 
	input_cost_usd FLOAT, 
	output_cost_usd FLOAT, 
	content_hash VARCHAR(64) NOT NULL, 
	norm_hash VARCHAR(64), 
	line_count INTEGER NOT NULL, 
	extra TEXT NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (submission_id, task_id), 
	FOREIGN KEY(task_id) REFERENCES task (id), 
	FOREIGN KEY(submission_id) REFERENCES submission (id)
);
CREATE INDEX ix_patch_task ON patch (task_id);
CREATE TABLE verdict (
	id SERIAL NOT NULL, 
	uid VARCHAR(64) NOT NULL, 
	patch_id INTEGER NOT NULL, 
	reviewer_id INTEGER NOT NULL, 
	verdict VARCHAR(16) NOT NULL, 
	note TEXT NOT NULL, 
	tags TEXT NOT NULL, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	seconds_spent FLOAT, 
	revealed_before BOOLEAN NOT NULL, 
	supersedes_id INTEGER, 
	source VARCHAR(32) NOT NULL, 
	session_id INTEGER, 
	PRIMARY KEY (id), 
	UNIQUE (uid), 
	FOREIGN KEY(patch_id) REFERENCES patch (id), 
	FOREIGN KEY(reviewer_id) REFERENCES reviewer (id), 
	UNIQUE (supersedes_id), 
	FOREIGN KEY(supersedes_id) REFERENCES verdict (id)
);
CREATE INDEX ix_verdict_patch_reviewer ON verdict (patch_id, reviewer_id);
CREATE TABLE reveal (
	id SERIAL NOT NULL, 
	patch_id INTEGER NOT NULL, 
	reviewer_id INTEGER NOT NULL, 
	verdict_id INTEGER, 
	revealed_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(patch_id) REFERENCES patch (id), 
	FOREIGN KEY(reviewer_id) REFERENCES reviewer (id), 
	FOREIGN KEY(verdict_id) REFERENCES verdict (id)
);
CREATE OR REPLACE FUNCTION grader_append_only() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION '% rows are append-only', TG_TABLE_NAME; END; $$ LANGUAGE plpgsql;
CREATE TRIGGER verdict_append_only BEFORE UPDATE OR DELETE ON verdict FOR EACH ROW EXECUTE FUNCTION grader_append_only();
CREATE TRIGGER reveal_append_only BEFORE UPDATE OR DELETE ON reveal FOR EACH ROW EXECUTE FUNCTION grader_append_only();
INSERT INTO grader_meta (key, value) VALUES ('schema_version', '1');
