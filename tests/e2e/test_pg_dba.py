"""The postgres probe's DBA signals (lib/probe/probe_pg_dba.c) end to end:
the real vigild, as the pg_monitor-only role `vigil`, against a real,
throwaway PostgreSQL 15 (tests/e2e/pg.py), with psql cross-checks.

A slot without a consumer retains WAL until a rule fires; a prepared
transaction holds the xmin horizon back and the note names its gid; a
table with autovacuum off and churn shows its dead tuples; and every other
signal is present and plausible on a normal run. The per-table steps run
every 10th run: at 300 ms, every 3 s.
"""
import os
import subprocess

import pg
from harness import ROOT, wait_for
from test_postgres import PgCase, pg_probe


def dba_probe(cluster, workdir, **extra):
    # A holder is named once it has held the horizon this long.
    extra.setdefault("dba_note_after", "1s")
    return pg_probe(cluster, workdir, **extra)


class DbaCase(PgCase):
    @classmethod
    def setUpClass(cls):
        # PREPARE TRANSACTION needs max_prepared_transactions > 0.
        cls.cluster = pg.Cluster(max_connections=20,
                                 extra_conf="max_prepared_transactions = 5\n")
        cls.addClassCleanup(cls.cluster.destroy)

    def notes(self, v, name="db"):
        return self.last(v, name).get("notes", "")

    def assert_pg_monitor_enough(self, lr):
        # Everything read is readable with pg_monitor alone: no step's
        # error note ("grant pg_monitor", "permission denied").
        n = lr.get("notes", "")
        self.assertNotIn("pg_monitor", n)
        self.assertNotIn("permission denied", n)


class Signals(DbaCase):
    def test_role_is_pg_monitor_only(self):
        c = self.cluster
        row = c.psql("SELECT rolsuper, rolcreaterole, rolreplication, "
                     "array_to_string(ARRAY(SELECT b.rolname FROM pg_auth_members m "
                     "JOIN pg_roles b ON b.oid = m.roleid WHERE m.member = r.oid), ',') "
                     "FROM pg_roles r WHERE rolname = 'vigil'")
        self.assertEqual(row, "f|f|f|pg_monitor")

    def test_normal_run_has_every_signal(self):
        c = self.cluster
        v = self.vigild({"probes": [dba_probe(c, self.workdir)]})
        # A per-table run after a second one: rates and growth exist.
        lr = self.wait_run(v, lambda lr: "wal_bytes_per_s" in lr["metrics"] and
                           "dead_tuples_pct_max" in lr["metrics"], 15, "a full DBA run")
        m = lr["metrics"]
        self.assert_pg_monitor_enough(lr)
        # Wraparound: within a few xids of psql's view.
        xa = int(c.psql("SELECT max(age(datfrozenxid)) FROM pg_database"))
        self.assertGreater(m["xid_age_max"], 0)
        self.assertLess(abs(m["xid_age_max"] - xa), 1000)
        ma = int(c.psql("SELECT max(mxid_age(datminmxid)) FROM pg_database"))
        self.assertLess(abs(m["mxid_age_max"] - ma), 1000)
        self.assertGreaterEqual(m["xmin_horizon_age"], 0)
        self.assertGreaterEqual(m["xmin_horizon_held_s"], 0)
        # No slot.
        self.assertEqual(m["slots"], 0)
        self.assertEqual(m["slots_inactive"], 0)
        self.assertEqual(m["slots_wal_lost"], 0)
        self.assertEqual(m["slot_inactive_longest_s"], 0)
        self.assertEqual(m["slot_wal_retained_max_bytes"], 0)
        # WAL: the position, close to psql's, and a rate.
        lsn = float(c.psql("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')"))
        self.assertGreater(m["wal_bytes_total"], 1e6)
        self.assertLessEqual(m["wal_bytes_total"], lsn)
        self.assertGreater(m["wal_bytes_total"], lsn - 50e6)
        self.assertGreaterEqual(m["wal_bytes_per_s"], 0)
        # Archiving is off: nothing archived, nothing failing.
        self.assertEqual(m["archiver_failed_total"], 0)
        self.assertEqual(m["archiver_failing"], 0)
        for k in ("checkpoints_timed_total", "checkpoints_req_total", "checkpoints_total",
                  "checkpoint_write_s_total", "checkpoint_sync_s_total",
                  "buffers_checkpoint_total", "buffers_clean_total", "maxwritten_clean_total",
                  "buffers_backend_total", "checkpoints_timed", "checkpoints_req",
                  "archiver_archived_total"):
            self.assertIn(k, m)
            self.assertGreaterEqual(m[k], 0, k)
        self.assertEqual(m["checkpoints_total"],
                         m["checkpoints_timed_total"] + m["checkpoints_req_total"])
        # The server: up since it started, no setting pending.
        up = float(c.psql("SELECT extract(epoch FROM now() - pg_postmaster_start_time())"))
        self.assertLess(abs(m["uptime_s"] - up), 30)
        self.assertGreaterEqual(m["conf_load_age_s"], 0)
        self.assertEqual(m["settings_pending_restart"], 0)
        self.assertNotIn("conn_limit_used_pct_max", m)   # no role or database limited
        self.assertEqual(m["vacuums_running"], 0)
        self.assertEqual(m["vacuum_longest_s"], 0)
        # Sizes: the database as psql sees it (within 10 %), the largest table.
        size = int(c.psql("SELECT pg_database_size(current_database())"))
        self.assertLess(abs(m["db_size_bytes"] - size), size * 0.1)
        self.assertGreater(m["table_largest_bytes"], 8192)
        self.assertEqual(m["indexes_invalid"], 0)
        for k in ("tables_watched", "dead_tuples", "dead_tuples_max", "indexes_unused",
                  "indexes_unused_bytes"):
            self.assertGreaterEqual(m[k], 0, k)
        # A checkpoint asked for is counted as requested, in its interval.
        before = m["checkpoints_req_total"]
        c.psql("CHECKPOINT")
        lr = self.wait_run(v, lambda lr: lr["metrics"].get("checkpoints_req_total", 0) > before,
                           8, "the requested checkpoint counted")
        self.assertGreaterEqual(lr["metrics"]["checkpoints_req"], 0)
        # Growth per hour, once two size reads are a second apart.
        lr = self.wait_run(v, lambda lr: "db_growth_bytes_per_h" in lr["metrics"], 15,
                           "database growth")
        # docs/probes.md lists every metric a run records.
        with open(os.path.join(ROOT, "docs", "probes.md"), encoding="utf-8") as f:
            doc = f.read()
        missing = [n for n in lr["metrics"] if f"`{n}`" not in doc and
                   not n.startswith(("active_wait_", "index_", "custom_"))]
        self.assertEqual(missing, [], "metrics not in docs/probes.md")

    def test_settings_limits_indexes_and_restart(self):
        c = self.cluster
        try:
            c.psql("ALTER SYSTEM SET shared_buffers = '24MB'; ")
            c.psql("SELECT pg_reload_conf()")
            c.psql("ALTER ROLE app CONNECTION LIMIT 2")
            # A failed CREATE UNIQUE INDEX CONCURRENTLY leaves an invalid index.
            c.psql("CREATE TABLE dup (v int); INSERT INTO dup VALUES (1), (1)")
            c.psql("CREATE UNIQUE INDEX CONCURRENTLY dup_v_idx ON dup (v)", check=False)
            # An index never scanned, over 1 MiB.
            c.psql("CREATE TABLE big (id int, v int); "
                   "INSERT INTO big SELECT g, g FROM generate_series(1, 60000) g; "
                   "CREATE INDEX big_v_idx ON big (v); ANALYZE big")
            c.hold(2)
            wait_for(lambda: c.count_sessions() >= 2, 10, what="two app sessions")
            v = self.vigild({"probes": [dba_probe(c, self.workdir)]})
            lr = self.wait_run(v, lambda lr: lr["metrics"].get("settings_pending_restart") == 1
                               and lr["metrics"].get("conn_limit_used_pct_max") == 100
                               and lr["metrics"].get("indexes_invalid", 0) >= 1, 15,
                               "pending setting, a full role, an invalid index")
            m, n = lr["metrics"], lr.get("notes", "")
            self.assert_pg_monitor_enough(lr)
            self.assertIn('waiting for a restart: "shared_buffers"', n)
            self.assertIn('role "app" uses 2 of its 2 connections', n)
            self.assertIn("dup_v_idx", n)
            self.assertEqual(m["indexes_invalid"],
                             int(c.psql("SELECT count(*) FROM pg_index WHERE NOT indisvalid")))
            self.assertGreaterEqual(m["indexes_unused"], 1)
            self.assertGreater(m["indexes_unused_bytes"], 1 << 20)
            lr = self.wait_run(v, lambda lr: "big_v_idx" in lr.get("notes", ""), 8,
                               "the unused index named")
            self.assertIn("never scanned", lr["notes"])
            # A restart: the setting applies, and the next run says so.
            c.release()
            c.psql("ALTER ROLE app CONNECTION LIMIT -1")
            start = c.psql("SELECT pg_postmaster_start_time()")
            c.stop()
            c.start()
            self.assertNotEqual(start, c.psql("SELECT pg_postmaster_start_time()"))
            lr = self.wait_run(v, lambda lr: "server restarted at" in lr.get("notes", ""), 15,
                               "the restart noted")
            self.assertEqual(lr["metrics"]["settings_pending_restart"], 0)
            self.assertLess(lr["metrics"]["uptime_s"], 30)
            self.assertNotIn("conn_limit_used_pct_max", lr["metrics"])
        finally:
            c.release()
            c.psql("ALTER ROLE app CONNECTION LIMIT -1", check=False)
            c.psql("ALTER SYSTEM RESET shared_buffers", check=False)
            c.psql("SELECT pg_reload_conf()", check=False)
            c.psql("DROP TABLE IF EXISTS dup, big", check=False)


class Slots(DbaCase):
    def test_slot_without_consumer_retains_wal_and_rule_fires(self):
        c = self.cluster
        # A physical slot reserves from the last checkpoint's redo point.
        c.psql("CHECKPOINT")
        c.psql("SELECT pg_create_physical_replication_slot('stuck_slot', true)")
        try:
            r0 = float(c.psql("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn) "
                              "FROM pg_replication_slots WHERE slot_name = 'stuck_slot'"))
            limit = r0 + 4 * 1024 * 1024
            v = self.vigild({"probes": [dba_probe(c, self.workdir)], "rules": [
                {"name": "db_slot_wal", "metric": "db.slot_wal_retained_max_bytes",
                 "op": ">", "crit": limit, "depends_on": "db_down",
                 "summary": "a slot retains {value} bytes of WAL"}]})
            lr = self.wait_run(v, lambda lr: lr["metrics"].get("slots") == 1, 10, "the slot")
            m = lr["metrics"]
            self.assertEqual(m["slots_inactive"], 1)
            self.assertEqual(m["slots_wal_lost"], 0)
            self.assertIn("slot_wal_retained_max_bytes", m)
            wait_for(lambda: v.rule("db_slot_wal")["state"] == "ok", 10, what="rule ok")
            # WAL the slot must keep: nothing consumes it.
            c.psql("CREATE TABLE walgen (v text); "
                   "INSERT INTO walgen SELECT repeat('x', 100) FROM generate_series(1, 80000)")
            wait_for(lambda: v.rule("db_slot_wal")["state"] == "firing", 15,
                     what="the slot rule firing")
            lr = self.last(v)
            retained = float(c.psql("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn) "
                                    "FROM pg_replication_slots WHERE slot_name = 'stuck_slot'"))
            self.assertGreater(lr["metrics"]["slot_wal_retained_max_bytes"], limit)
            self.assertLessEqual(lr["metrics"]["slot_wal_retained_max_bytes"], retained)
            self.assert_pg_monitor_enough(lr)
            # Inactive since vigild first saw it (PostgreSQL 15 does not
            # say), so the time grows from there.
            t0 = lr["metrics"]["slot_inactive_longest_s"]
            self.wait_run(v, lambda lr: lr["metrics"].get("slot_inactive_longest_s", 0) > t0 + 1,
                          8, "the slot's inactivity growing")
        finally:
            c.psql("SELECT pg_drop_replication_slot('stuck_slot')", check=False)
            c.psql("DROP TABLE IF EXISTS walgen", check=False)


class Horizon(DbaCase):
    def test_prepared_transaction_holds_xmin_and_is_named(self):
        c = self.cluster
        c.psql("CREATE TABLE twopc (v int)")
        c.psql("BEGIN; INSERT INTO twopc VALUES (1); PREPARE TRANSACTION 'vigil-e2e-gid'")
        try:
            v = self.vigild({"probes": [dba_probe(c, self.workdir)], "rules": [
                {"name": "db_xmin_held", "metric": "db.xmin_horizon_held_s", "op": ">",
                 "warn": 1, "depends_on": "db_down",
                 "summary": "xmin held {value} s: {note:xmin horizon held}"}]})
            # Transactions after it age it.
            for _ in range(5):
                c.psql("SELECT txid_current()")
            lr = self.wait_run(v, lambda lr: "vigil-e2e-gid" in lr.get("notes", ""), 10,
                               "the gid in a note")
            m = lr["metrics"]
            self.assertRegex(lr["notes"], r'xmin horizon held [0-9.]+ s \([0-9]+ xids\) by '
                             r'prepared transaction gid "vigil-e2e-gid" \(prepared '
                             r'[0-9T:-]+Z by "postgres"')
            age = int(c.psql("SELECT age(transaction) FROM pg_prepared_xacts "
                             "WHERE gid = 'vigil-e2e-gid'"))
            self.assertGreaterEqual(m["xmin_horizon_age"], 5)
            self.assertLessEqual(m["xmin_horizon_age"], age)
            self.assertGreaterEqual(m["xmin_horizon_held_s"], 1)
            held = m["xmin_horizon_held_s"]
            # A page carries the holder (rules' {note:TEXT}).
            wait_for(lambda: "vigil-e2e-gid" in v.rule("db_xmin_held").get("summary", ""), 8,
                     what="the gid in the rule's summary")
            lr = self.wait_run(v, lambda lr: lr["metrics"].get("xmin_horizon_held_s", 0) > held + 0.5,
                               8, "the hold growing")
        finally:
            c.psql("ROLLBACK PREPARED 'vigil-e2e-gid'", check=False)
            c.psql("DROP TABLE IF EXISTS twopc", check=False)
        # Released: another holder, or none, but not the gid.
        lr = self.wait_run(v, lambda lr: "vigil-e2e-gid" not in lr.get("notes", "") and
                           lr["metrics"].get("xmin_horizon_age", 1e9) < 5, 8, "released")

    def test_long_transaction_holds_xmin_and_is_named(self):
        # The culprit a DBA needs during a wraparound incident: the
        # session's pid, how long, and its statement without literals.
        c = self.cluster
        c.psql("CREATE TABLE longtx (v int)")
        p = subprocess.Popen(c.psql_argv("postgres"), stdin=subprocess.PIPE,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        c.held.append(p)
        try:
            p.stdin.write(b"BEGIN;\nINSERT INTO longtx VALUES (4242);\n")
            p.stdin.flush()
            pid = wait_for(lambda: c.psql("SELECT pid FROM pg_stat_activity WHERE query "
                                          "LIKE 'INSERT INTO longtx%'") or None, 10,
                           what="the long transaction")
            # Five xids past the holder's before vigild starts: a run that
            # began while they were being taken saw an age of 4 (CI, ASan).
            for _ in range(5):
                c.psql("SELECT txid_current()")
            v = self.vigild({"probes": [dba_probe(c, self.workdir)]})
            lr = self.wait_run(v, lambda lr: f"by session pid {pid} " in lr.get("notes", ""),
                               10, "the session in a note")
            self.assertRegex(lr["notes"], r"xmin horizon held [0-9.]+ s \([0-9]+ xids\) by "
                             rf'session pid {pid} \(.*\) "INSERT INTO longtx VALUES \(\?\);?"')
            self.assertNotIn("4242", lr["notes"])
            self.assertGreaterEqual(lr["metrics"]["xmin_horizon_age"], 5)
        finally:
            c.release([p])
            c.psql("DROP TABLE IF EXISTS longtx", check=False)

    def test_no_note_while_the_horizon_is_young(self):
        c = self.cluster
        v = self.vigild({"probes": [dba_probe(c, self.workdir, dba_note_after="5m")]})
        c.psql("CREATE TABLE twopc2 (v int)")
        c.psql("BEGIN; INSERT INTO twopc2 VALUES (1); PREPARE TRANSACTION 'young-gid'")
        try:
            lr = self.wait_run(v, lambda lr: lr["metrics"].get("xmin_horizon_held_s", 0) > 1, 10,
                               "a held horizon")
            self.assertNotIn("young-gid", lr.get("notes", ""))
        finally:
            c.psql("ROLLBACK PREPARED 'young-gid'", check=False)
            c.psql("DROP TABLE IF EXISTS twopc2", check=False)


class Vacuum(DbaCase):
    def test_dead_tuples_rise_without_autovacuum(self):
        c = self.cluster
        c.psql("CREATE TABLE churn (id int, v int) WITH (autovacuum_enabled = off); "
               "INSERT INTO churn SELECT g, 0 FROM generate_series(1, 20000) g")
        try:
            v = self.vigild({"probes": [dba_probe(c, self.workdir)], "rules": [
                {"name": "db_dead_tuples", "metric": "db.dead_tuples_pct_max", "op": ">",
                 "warn": 20, "depends_on": "db_down", "summary": "{value} % dead"}]})
            lr = self.wait_run(v, lambda lr: "dead_tuples_max" in lr["metrics"], 10,
                               "a per-table run")
            before = lr["metrics"]["dead_tuples_max"]
            c.psql("UPDATE churn SET v = v + 1")
            c.psql("UPDATE churn SET v = v + 1")
            lr = self.wait_run(v, lambda lr: lr["metrics"].get("dead_tuples_max", 0) >= 40000,
                               15, "dead tuples risen")
            m = lr["metrics"]
            self.assertGreater(m["dead_tuples_max"], before)
            self.assertGreater(m["dead_tuples_pct_max"], 60)
            dead = int(c.psql("SELECT n_dead_tup FROM pg_stat_user_tables "
                              "WHERE relname = 'churn'"))
            self.assertEqual(m["dead_tuples_max"], dead)
            self.assertRegex(lr["notes"], r'table "public\.churn": [0-9]+ % dead tuples '
                             r'\([0-9]+ dead, [0-9]+ live; last vacuum never\); most dead tuples: '
                             r'"public\.churn [0-9]+')
            self.assertGreaterEqual(m["tables_never_vacuumed"], 1)
            wait_for(lambda: v.rule("db_dead_tuples")["state"] == "firing", 10,
                     what="the dead tuples rule firing")
            # A VACUUM clears them, and the table's last vacuum is recent.
            c.psql("VACUUM churn")
            lr = self.wait_run(v, lambda lr: lr["metrics"].get("dead_tuples_max", 1) == 0 or
                               lr["metrics"].get("dead_tuples_pct_max", 100) < 20, 15,
                               "dead tuples vacuumed")
            self.assert_pg_monitor_enough(lr)
        finally:
            c.psql("DROP TABLE IF EXISTS churn", check=False)


class Checkpoints(DbaCase):
    def test_requested_checkpoints_fire_the_ratio_rule(self):
        c = self.cluster
        # The shipped db_checkpoints_requested, over a shorter window.
        v = self.vigild({"probes": [dba_probe(c, self.workdir)], "rules": [
            {"name": "db_checkpoints_requested",
             "ratio": {"numerator": "db.checkpoints_req_total",
                       "denominator": "db.checkpoints_total", "scale": 100,
                       "min_denominator": 3},
             "aggregate": "delta", "window": "1m", "op": ">", "warn": 50, "unit": "%",
             "depends_on": "db_down", "summary": "{value} % requested"}]})
        self.wait_run(v, lambda lr: "checkpoints_total" in lr["metrics"], 10, "a run")
        for i in range(3):
            total = self.last(v)["metrics"]["checkpoints_total"]
            c.psql("CHECKPOINT")
            self.wait_run(v, lambda lr: lr["metrics"].get("checkpoints_total", 0) > total, 8,
                          f"checkpoint {i + 1} counted")
        wait_for(lambda: v.rule("db_checkpoints_requested")["state"] == "firing", 8,
                 what="the requested-checkpoints rule firing")
        self.assertEqual(v.rule("db_checkpoints_requested")["value"], 100)


class StandbyFeedback(DbaCase):
    """A hot standby whose open snapshot holds the primary's horizon back
    through hot_standby_feedback; and the DBA steps on the standby itself."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.standby = cls.cluster.standby()
        cls.addClassCleanup(cls.standby.destroy)

    def test_standby_feedback_is_named_and_the_standby_reads_clean(self):
        c, s = self.cluster, self.standby
        s.psql("ALTER SYSTEM SET hot_standby_feedback = on")
        s.psql("SELECT pg_reload_conf()")
        v = self.vigild({"probes": [dba_probe(c, self.workdir),
                                    dba_probe(s, self.workdir, name="replica")]})
        # A snapshot kept open on the standby (repeatable read).
        p = subprocess.Popen(s.psql_argv("app"), stdin=subprocess.PIPE,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        s.held.append(p)
        p.stdin.write(b"BEGIN ISOLATION LEVEL REPEATABLE READ;\n"
                      b"SELECT count(*) FROM orders;\n")
        p.stdin.flush()
        try:
            wait_for(lambda: c.psql("SELECT count(*) FROM pg_stat_replication "
                                    "WHERE backend_xmin IS NOT NULL") == "1", 10,
                     what="the standby's feedback on the primary")
            for _ in range(5):
                c.psql("SELECT txid_current()")
            lr = self.wait_run(v, lambda lr: "by standby" in lr.get("notes", ""), 10,
                               "the standby named")
            self.assertRegex(lr["notes"], r'xmin horizon held [0-9.]+ s or more \([0-9]+ xids\) '
                             r'by standby "[^"]*@127\.0\.0\.1"')
            self.assertGreaterEqual(lr["metrics"]["xmin_horizon_age"], 5)
            self.assertEqual(lr["metrics"]["slots"], 0)
            # The standby: every step reads (no error note), no WAL position.
            lr = self.wait_run(v, lambda lr: "dead_tuples_pct_max" in lr["metrics"], 10,
                               "a full standby run", name="replica")
            self.assertEqual(lr["result"], "up")
            self.assertEqual(lr["metrics"]["in_recovery"], 1)
            self.assertNotIn("wal_bytes_total", lr["metrics"])
            self.assertIn("xid_age_max", lr["metrics"])
            self.assertIn("checkpoints_total", lr["metrics"])
            for what in ("(xmin horizon):", "pg_replication_slots:", "(WAL):",
                         "pg_stat_progress_vacuum:", "(sizes):", "pg_stat_user_indexes:"):
                self.assertNotIn(what, lr.get("notes", ""))
        finally:
            s.release()
            s.psql("ALTER SYSTEM RESET hot_standby_feedback", check=False)
            s.psql("SELECT pg_reload_conf()", check=False)


class Archiver(DbaCase):
    """A cluster whose archive_command always fails."""

    @classmethod
    def setUpClass(cls):
        cls.cluster = pg.Cluster(max_connections=20, extra_conf=(
            "archive_mode = on\narchive_command = 'false'\n"))
        cls.addClassCleanup(cls.cluster.destroy)

    def test_failing_archiver_is_counted_and_said(self):
        c = self.cluster
        v = self.vigild({"probes": [dba_probe(c, self.workdir)]})
        c.psql("SELECT pg_switch_wal()")
        c.psql("CREATE TABLE walgen2 AS SELECT 1 AS v")
        c.psql("SELECT pg_switch_wal()")
        lr = self.wait_run(v, lambda lr: lr["metrics"].get("archiver_failing") == 1 and
                           lr["metrics"].get("archiver_failed_total", 0) >= 1, 15,
                           "the archiver failing")
        self.assertIn("WAL archiving is failing", lr["notes"])
        failed = int(c.psql("SELECT failed_count FROM pg_stat_archiver"))
        self.assertLessEqual(lr["metrics"]["archiver_failed_total"], failed)
        self.assertEqual(lr["metrics"]["archiver_archived_total"], 0)


class Locked(DbaCase):
    def test_a_locked_table_delays_nothing(self):
        # A migration's ALTER TABLE holds (or queues for) an exclusive
        # lock: the per-table steps take no lock on a user table, so they
        # neither wait for it nor fail on lock_timeout.
        c = self.cluster
        c.psql("CREATE TABLE biglock (id int PRIMARY KEY, v int); "
               "INSERT INTO biglock SELECT g, g FROM generate_series(1, 60000) g; "
               "ANALYZE biglock")
        # Measured before the lock: pg_total_relation_size() would wait for it.
        size = int(c.psql("SELECT pg_total_relation_size('biglock')"))
        try:
            p = subprocess.Popen(c.psql_argv(), stdin=subprocess.PIPE,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            c.held.append(p)
            p.stdin.write(b"BEGIN;\nLOCK TABLE biglock IN ACCESS EXCLUSIVE MODE;\n")
            p.stdin.flush()
            wait_for(lambda: c.psql("SELECT count(*) FROM pg_locks WHERE mode = "
                                    "'AccessExclusiveLock' AND relation = 'biglock'::regclass")
                     == "1", 10, what="the lock held")
            v = self.vigild({"probes": [dba_probe(c, self.workdir, timeout="2s")]})
            lr = self.wait_run(v, lambda lr: "table_largest_bytes" in lr["metrics"], 10,
                               "a per-table run")
            self.assertEqual(lr["result"], "up")
            self.assertNotIn("lock timeout", lr.get("notes", ""))
            self.assertLess(lr["duration_ms"], 1000)
            self.assertLess(abs(lr["metrics"]["table_largest_bytes"] - size), size * 0.1)
        finally:
            c.release()
            c.psql("DROP TABLE IF EXISTS biglock", check=False)
