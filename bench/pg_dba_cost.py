#!/usr/bin/env python3
"""What the postgres probe's queries cost on a database with 10,000 tables.

    VIGIL_BUILD=build python3 bench/pg_dba_cost.py [TABLES]

Makes a throwaway PostgreSQL 15 cluster (tests/e2e/pg.py, as the e2e
tests do), creates TABLES tables (default 10,000; each with a primary key
and a text column, so a TOAST table too: four relations a table) with 50
rows each and dead tuples in every tenth, ANALYZEs, then runs vigild on it
(interval 1 s, the pg_monitor-only role) for 40 runs. It prints what
pg_stat_statements measured of each of vigild's statements (the exact text
vigild sends, run by vigild), and vigild's own run durations with and
without the per-table steps (every 10th run), and auto_explain's EXPLAIN
(ANALYZE, BUFFERS) of each statement of vigild's over 5 ms. Removes the
cluster.
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))

import pg  # noqa: E402
from harness import Vigild  # noqa: E402


def psql_file(c, sql):
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(sql)
    try:
        subprocess.run(c.psql_argv() + ["-f", f.name], check=True, capture_output=True,
                       timeout=1800)
    finally:
        os.unlink(f.name)


def main():
    ntables = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    c = pg.Cluster(max_connections=20, extra_conf="max_locks_per_transaction = 256\n")
    work = tempfile.mkdtemp(prefix="vigil-dba-cost-")
    v = None
    try:
        t0 = time.monotonic()
        # One statement each, in autocommit: 10,000 in one transaction
        # would need a lock apiece.
        psql_file(c, "".join(f"CREATE TABLE t{i} (id int PRIMARY KEY, v text);\n"
                             for i in range(ntables)))
        for lo in range(0, ntables, 500):
            c.psql("DO $$ BEGIN FOR i IN %d..%d LOOP EXECUTE format("
                   "'INSERT INTO t%%s SELECT g, ''x'' FROM generate_series(1, 50) g', i);"
                   " IF i %% 10 = 0 THEN EXECUTE format('UPDATE t%%s SET v = ''y''', i);"
                   " END IF; END LOOP; END $$" % (lo, min(lo + 499, ntables - 1)))
        c.psql("ANALYZE")
        rels = c.psql("SELECT count(*) FROM pg_class")
        print(f"{ntables} tables made in {time.monotonic() - t0:.0f} s; "
              f"pg_class has {rels} rows; database "
              f"{c.psql('SELECT pg_size_pretty(pg_database_size(current_database()))')}")
        c.psql("SELECT pg_stat_statements_reset()")
        # EXPLAIN (ANALYZE, BUFFERS) of what vigild's role runs over 5 ms,
        # into the server's log (at WARNING: the cluster logs no less).
        for k, val in (("session_preload_libraries", "auto_explain"),
                       ("auto_explain.log_min_duration", "5"),
                       ("auto_explain.log_analyze", "on"),
                       ("auto_explain.log_buffers", "on"),
                       ("auto_explain.log_level", "warning")):
            c.psql(f"ALTER ROLE vigil SET {k} = '{val}'")
        probe = {"name": "db", "type": "postgres", "interval": "1s", "timeout": "10s",
                 "conninfo": c.conninfo(), "password_file": c.password_file(work)}
        v = Vigild(work, {"probes": [probe]})
        light, heavy, seen = [], [], set()
        while len(light) + len(heavy) < 40:
            lr = (v.probe("db") or {}).get("last_run") or {}
            key = lr.get("time")
            if key and key not in seen and lr.get("metrics"):
                seen.add(key)
                m = lr["metrics"]
                (heavy if "dead_tuples_pct_max" in m else light).append(lr["duration_ms"])
            time.sleep(0.1)
        v.stop()
        v = None
        print(f"\nvigild runs (duration_ms, whole run, all steps): "
              f"{len(light)} without the per-table steps median "
              f"{statistics.median(light):.1f} max {max(light):.1f}; "
              f"{len(heavy)} with them median {statistics.median(heavy):.1f} "
              f"max {max(heavy):.1f}")
        print("\npg_stat_statements, vigild's statements (role vigil), by mean time:")
        print(c.psql(
            "SELECT rpad(calls::text, 5) || rpad(round(mean_exec_time::numeric, 2)::text, 9)"
            " || rpad(round(max_exec_time::numeric, 2)::text, 9)"
            " || rpad(((shared_blks_hit + shared_blks_read) / calls)::text, 9)"
            " || regexp_replace(left(query, 70), '\\s+', ' ', 'g')"
            " FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid"
            " WHERE r.rolname = 'vigil' ORDER BY mean_exec_time DESC"))
        print("(columns: calls, mean ms, max ms, shared buffers per call, the statement)")
        print("\nauto_explain (EXPLAIN ANALYZE, BUFFERS) of the last run of each over 5 ms:")
        plans = {}
        with open(c.logfile, errors="replace") as f:
            text = f.read()
        for chunk in text.split("duration: ")[1:]:
            lines = chunk.splitlines()
            q = next((l.split("Query Text:")[1].strip()[:60] for l in lines
                      if "Query Text:" in l), "?")
            top = next((l.strip()[:110] for l in lines if "actual time" in l), "")
            buf = next((l.strip() for l in lines if "Buffers:" in l), "")
            plans[q] = f"{lines[0].split()[0]} ms: {q}\n    {top}\n    {buf}"
        print("\n".join(plans.values()))
    finally:
        if v is not None:
            v.stop()
        c.destroy()


if __name__ == "__main__":
    main()
