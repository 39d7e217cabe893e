-- A campaign database written by gbs before Alembic (gbs_meta.schema_version 1): one campaign,
-- one iteration, two proposals, one ingested job. `sqlite3 .dump` of it; see test_migrations.py.
BEGIN TRANSACTION;
CREATE TABLE campaigns (
	id INTEGER NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	config_json TEXT NOT NULL, 
	status VARCHAR(32) NOT NULL, 
	message TEXT, 
	mlflow_run_id VARCHAR(64), 
	mlflow_experiment_id VARCHAR(64), 
	lease_owner VARCHAR(200), 
	lease_until DATETIME, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (name)
);
INSERT INTO "campaigns" VALUES(1,'legacy','{"batch_size": null, "budget": 2, "cycler_url": "http://127.0.0.1:1", "initial_data": null, "max_fault_retries": 5, "max_reruns": 2, "name": "legacy", "plots": true, "poll_interval_s": 1.0, "poll_max_s": 30.0, "protocols": null, "seed": 0, "strategy": "physics-gp", "thresholds": {"sigma_total_ms_cm": 1.0}, "tracking": true, "tracking_uri": null, "version": 1}','active',NULL,NULL,NULL,NULL,NULL,'2026-11-26 13:51:42.279771','2026-11-26 13:51:42.279777');
CREATE TABLE gbs_meta (
	"key" VARCHAR(64) NOT NULL, 
	value TEXT NOT NULL, 
	PRIMARY KEY ("key")
);
INSERT INTO "gbs_meta" VALUES('schema_version','1');
CREATE TABLE iterations (
	id INTEGER NOT NULL, 
	campaign_id INTEGER NOT NULL, 
	iteration INTEGER NOT NULL, 
	n_rows INTEGER NOT NULL, 
	n_pending INTEGER NOT NULL, 
	fit_seconds FLOAT NOT NULL, 
	info_json TEXT NOT NULL, 
	mlflow_run_id VARCHAR(64), 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (campaign_id, iteration), 
	FOREIGN KEY(campaign_id) REFERENCES campaigns (id)
);
INSERT INTO "iterations" VALUES(1,1,1,0,0,0.25,'{"fit_seconds": 0.25, "n_pending": 0, "n_rows": 0, "seed": 1, "strategy": "physics-gp"}',NULL,'2026-11-26 13:51:42.287610');
CREATE TABLE jobs (
	id INTEGER NOT NULL, 
	campaign_id INTEGER NOT NULL, 
	proposal_id INTEGER NOT NULL, 
	attempt INTEGER NOT NULL, 
	idempotency_key VARCHAR(128) NOT NULL, 
	request_json TEXT NOT NULL, 
	job_id VARCHAR(128), 
	status VARCHAR(32) NOT NULL, 
	service_status VARCHAR(32), 
	post_attempts INTEGER NOT NULL, 
	fetch_errors INTEGER NOT NULL, 
	error_code VARCHAR(64), 
	error_message TEXT, 
	tracked BOOLEAN NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (campaign_id, job_id), 
	FOREIGN KEY(campaign_id) REFERENCES campaigns (id), 
	FOREIGN KEY(proposal_id) REFERENCES proposals (id), 
	UNIQUE (idempotency_key)
);
INSERT INTO "jobs" VALUES(1,1,1,1,'legacy-p1-a1-73e8077218d847578b19bf27eb66ba4d','{"campaign": "legacy", "recipe": {"dwell_h": 6.0, "sinter_temperature_c": 1000.0, "zbo_fraction": 0.2}}','j-000001','done','succeeded',1,0,NULL,NULL,0,'2026-11-26 13:51:42.289692','2026-11-26 13:51:42.323244');
INSERT INTO "jobs" VALUES(2,1,2,1,'legacy-p2-a1-9fd8d48845f74cfc9254e9a3f9fd343c','{"campaign": "legacy", "recipe": {"dwell_h": 6.0, "sinter_temperature_c": 1000.0, "zbo_fraction": 0.3}}',NULL,'created',NULL,0,0,NULL,NULL,0,'2026-11-26 13:51:42.290447','2026-11-26 13:51:42.290449');
CREATE TABLE proposals (
	id INTEGER NOT NULL, 
	campaign_id INTEGER NOT NULL, 
	iteration INTEGER NOT NULL, 
	recipe_json TEXT NOT NULL, 
	prediction_json TEXT NOT NULL, 
	acquisition_value FLOAT, 
	status VARCHAR(32) NOT NULL, 
	reason TEXT, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(campaign_id) REFERENCES campaigns (id)
);
INSERT INTO "proposals" VALUES(1,1,1,'{"dwell_h": 6.0, "sinter_temperature_c": 1000.0, "zbo_fraction": 0.2}','{}',0.5,'done',NULL,'2026-11-26 13:51:42.288395');
INSERT INTO "proposals" VALUES(2,1,1,'{"dwell_h": 6.0, "sinter_temperature_c": 1000.0, "zbo_fraction": 0.3}','{}',NULL,'open',NULL,'2026-11-26 13:51:42.290189');
CREATE TABLE results (
	id INTEGER NOT NULL, 
	job_pk INTEGER NOT NULL, 
	job_id VARCHAR(128) NOT NULL, 
	raw_json TEXT NOT NULL, 
	received_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (job_pk), 
	FOREIGN KEY(job_pk) REFERENCES jobs (id)
);
INSERT INTO "results" VALUES(1,1,'j-000001','{"job_id": "j-000001"}','2026-11-26 13:51:42.312616');
CREATE TABLE rows (
	id INTEGER NOT NULL, 
	campaign_id INTEGER NOT NULL, 
	job_pk INTEGER, 
	proposal_id INTEGER, 
	sample_id VARCHAR(200) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	origin VARCHAR(16) NOT NULL, 
	row_json TEXT NOT NULL, 
	notes_json TEXT NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (campaign_id, sample_id), 
	FOREIGN KEY(campaign_id) REFERENCES campaigns (id), 
	UNIQUE (job_pk), 
	FOREIGN KEY(job_pk) REFERENCES jobs (id), 
	UNIQUE (proposal_id), 
	FOREIGN KEY(proposal_id) REFERENCES proposals (id)
);
INSERT INTO "rows" VALUES(1,1,1,1,'S-1','ok','campaign','{"activation_energy_ev": null, "ccd_censored": null, "ccd_ma_cm2": null, "dwell_h": 6.0, "electronic_fraction": null, "r_int_ohm_cm2": null, "relative_density": null, "sample_id": "S-1", "sigma_bulk_ms_cm": null, "sigma_gb_ms_cm": null, "sigma_total_ms_cm": 1.2, "sinter_temperature_c": 1000.0, "source": "j-000001", "status": "ok", "thickness_cm": null, "zbo_fraction": 0.2}','["note"]','2026-11-26 13:51:42.324963');
CREATE INDEX ix_iterations_campaign_id ON iterations (campaign_id);
CREATE INDEX ix_proposals_campaign_id ON proposals (campaign_id);
CREATE INDEX ix_jobs_status ON jobs (status);
CREATE INDEX ix_jobs_proposal_id ON jobs (proposal_id);
CREATE INDEX ix_jobs_campaign_id ON jobs (campaign_id);
CREATE INDEX ix_rows_campaign_id ON rows (campaign_id);
COMMIT;
