"""test/fuzz/fuzz.py: the fuzz driver (run by test/fuzz/run).

Sends batches of generated inputs to fuzz.run() (test/fuzz/harness.sql), one
SQL entry point at a time, each batch in a transaction that is rolled back,
and raw HTTP requests to the HTTP worker on loopback.  Splits the time
between entry points, sizes batches to about half a second, and fails an
entry point on a lost connection (a crash), a server log line showing a
crash or an assertion, a statement that does not return within the bound
(statement_timeout, and a client-side timeout for a backend that does not
honour it), or an unexpected SQLSTATE.  Prints TAP, then a summary table;
exits 1 on any failure.  Inputs behind a failure are saved as JSON and as a
psql script under --artifacts.
"""
import argparse
import concurrent.futures
import json
import os
import random
import re
import subprocess
import sys
import threading
import time

import psycopg2
import psycopg2.extensions

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_http  # noqa: E402
import gen_mustache  # noqa: E402
import gen_values as gv  # noqa: E402

CRASH_RE = re.compile(r"terminated by signal|PANIC:|TRAP:|was terminated by exception|"
                      r"all server processes terminated|server process .* exited with exit code [^01]|"
                      r"background worker .* exited with exit code|terminating any other active server processes")


def targets(r_heavy, seeds, has_policy):
    """The SQL entry points: name -> (SQL with $1..$8, generator of one argument list)."""
    h = r_heavy
    t = {
        "render_troubleshooting_mustache": (
            "SELECT render_troubleshooting_mustache($1, $2::jsonb, $3::jsonb, $4)",
            lambda r: gen_mustache.array_case(r, h) if r.random() < 0.1 else gen_mustache.case(r, h)),
        "templates (ts_template_parses, render_troubleshooting_template)": (
            "SELECT fuzz.template_roundtrip($1, $2, $3, $4, $5, $6)",
            lambda r: gen_mustache.template_case(r, h)),
        "send_troubleshooting_notification": (
            "SELECT send_troubleshooting_notification($1, $2, $3, $4::jsonb, $5, $6::jsonb, $7, $8::timestamptz)",
            gv.enqueue_case),
        "send_troubleshooting_notifications_bulk": (
            "SELECT count(*) FROM send_troubleshooting_notifications_bulk($1::jsonb, $2::jsonb)", gv.bulk_case),
        "ts_recipient_is_valid (e-mail, E.164)": ("SELECT ts_recipient_is_valid($1, $2)", gv.recipient_case),
        "set_troubleshooting_config": ("SELECT set_troubleshooting_config($1, $2)", gv.config_case),
        "URL validators (config, webhook, chat, schedule, provider)": (
            "SELECT fuzz.url_path($1, $2)",
            lambda r: [r.choice(["tracking_url", "llm_base_url", "recipients", "webhook", "chat", "schedule",
                                 "schedule_webhook", "provider", "smtp"]), gv.url(r)]),
        "set_troubleshooting_provider": (
            "SELECT set_troubleshooting_provider($1, $2, $3::jsonb)", gv.provider_case),
        "generate_troubleshooting_report": (
            "SELECT generate_troubleshooting_report($1, $2::timestamptz, $3::timestamptz, $4::jsonb, "
            "$5::boolean, $6::boolean)", gv.report_case),
        "export_troubleshooting_report (csv, json)": (
            "SELECT length(export_troubleshooting_report($1::jsonb, $2))",
            lambda r: gv.export_case(r, seeds, ["csv", "csv", "json", "CSV", "xml", "", None])),
        "export_troubleshooting_report (pdf)": (
            "SELECT length(export_troubleshooting_report($1::jsonb, $2))",
            lambda r: gv.export_case(r, seeds, ["pdf"])),
        "ingest_troubleshooting_provider_event": (
            "SELECT count(*) FROM ingest_troubleshooting_provider_event($1, $2::jsonb)", gv.provider_event_case),
        "record_troubleshooting_notification_event": (
            "SELECT fuzz.record_event($1, $2, $3, $4, $5)", gv.record_event_case),
        "create_troubleshooting_report_schedule": ("SELECT fuzz.schedule($1)", gv.schedule_case),
        "ts_report_schedule_due": (
            "SELECT ts_report_schedule_due($1, $2::time, $3, $4::integer, $5::integer, $6::timestamptz, "
            "$7::boolean)", gv.schedule_due_case),
        "set_troubleshooting_llm_api_key": ("SELECT set_troubleshooting_llm_api_key($1)", gv.llm_key_case),
        "get_troubleshooting_metrics_by_period": (
            "SELECT count(*) FROM get_troubleshooting_metrics_by_period($1, $2::timestamptz, $3::timestamptz)",
            gv.metrics_case),
        "cleanup_old_troubleshooting_data": (
            "SELECT count(*) FROM cleanup_old_troubleshooting_data($1::interval, $2::boolean)", gv.cleanup_case),
        "ML training (record_troubleshooting_prediction, _correction)": (
            "SELECT fuzz.ml($1, $2, $3, $4, $5, $6)", gv.ml_case),
    }
    if has_policy:
        t["troubleshooting_destination_policy"] = ("SELECT troubleshooting_destination_policy($1)",
                                                   lambda r: [gv.url(r, any_host=True)])
    return t


class Log:
    """New lines of the server logs since the run started."""

    def __init__(self, paths):
        self.offsets = {p: (os.path.getsize(p) if os.path.exists(p) else 0) for p in paths}

    def crashes(self):
        """Lines written since the last call that show a crash."""
        out = []
        for p, off in self.offsets.items():
            if not os.path.exists(p):
                continue
            with open(p, "rb") as f:
                f.seek(off)
                data = f.read()
            self.offsets[p] = off + len(data)
            out += [f"{os.path.basename(os.path.dirname(p))}: {ln}" for ln in
                    data.decode("utf-8", "replace").splitlines() if CRASH_RE.search(ln)]
        return out


def sql_literal(v):
    """v as an SQL literal (standard_conforming_strings)."""
    return "NULL" if v is None else "'" + v.replace("'", "''") + "'"


class Fuzzer:
    """Runs the entry points and keeps their counts and findings."""

    def __init__(self, a):
        self.a = a
        self.dsn = a.dsn
        self.findings = []
        self.stats = {}
        self.conn = None
        self.pid = None
        os.makedirs(a.artifacts, exist_ok=True)

    # --- connection -------------------------------------------------------
    def connect(self, wait=120):
        """(Re)connects, sets the session up and puts the memory guard on the backend."""
        deadline = time.time() + wait
        while True:
            try:
                self.conn = psycopg2.connect(self.dsn, connect_timeout=10)
                break
            except psycopg2.OperationalError:
                if time.time() > deadline:
                    raise
                time.sleep(0.5)
        cur = self.conn.cursor()
        cur.execute("SET client_min_messages = notice; SET log_min_error_statement = panic; "
                    "SET log_min_messages = warning; SET statement_timeout = %s; SELECT pg_backend_pid()",
                    (f"{self.a.statement_timeout}s",))
        self.pid = cur.fetchone()[0]
        self.conn.commit()
        self.guard = False
        if self.a.memory_mb > 0:
            lim = str(self.a.memory_mb * 1024 * 1024)
            # as the server's user: lowering a limit needs no privilege
            cmd = ["prlimit", "--pid", str(self.pid), f"--as={lim}:{lim}"]
            if os.geteuid() == 0:
                cmd = ["runuser", "-u", "postgres", "--"] + cmd
            rc = subprocess.run(cmd, capture_output=True, text=True)
            self.guard = rc.returncode == 0
            if not self.guard:
                print(f"# prlimit on backend {self.pid}: {rc.stderr.strip()}", flush=True)

    def control(self):
        """A second connection, to cancel or terminate the fuzzing backend."""
        return psycopg2.connect(self.dsn, connect_timeout=10)

    # --- findings ---------------------------------------------------------
    def save(self, name, kind, sql, args, detail):
        """Saves the input behind a failure (JSON and a psql script), the first 3 per entry point and kind."""
        same = sum(1 for f in self.findings if f[0] == name and f[1] == kind)
        if same >= 3:
            if same == 3:
                print(f"# more {kind} in {name}: not saved", flush=True)
                self.findings.append((name, kind, "(not saved)", detail))
            return None
        n = len(self.findings) + 1
        base = os.path.join(self.a.artifacts, f"{n:03d}-{re.sub(r'[^a-z0-9]+', '_', name.lower())[:40]}")
        with open(base + ".json", "w") as f:
            json.dump({"entry_point": name, "kind": kind, "sql": sql, "args": args, "detail": detail,
                       "seed": self.a.seed}, f, ensure_ascii=False, indent=1)
        rows = args if args and isinstance(args[0], list) else [args]   # a whole batch, or one input
        script = ";\n".join(re.sub(r"\$(\d)", lambda m: (sql_literal(row[int(m.group(1)) - 1]) + "::text")
                                   if int(m.group(1)) <= len(row) else "NULL", sql) for row in rows)
        with open(base + ".sql", "w") as f:
            f.write(f"-- {kind} in {name} (seed {self.a.seed}): {detail[:300]!r}\n"
                    "SET search_path = public;\nBEGIN;\n" + script + ";\nROLLBACK;\n")
        self.findings.append((name, kind, base + ".sql", detail))
        print(f"# FOUND {kind} in {name}: {detail[:200]!r}; input saved to {base}.sql", flush=True)
        return base

    # --- one batch --------------------------------------------------------
    def batch(self, name, sql, inputs):
        """Runs one batch; returns (executions, sqlstate counts, failure kind or None)."""
        cols = [[row[i] if i < len(row) else None for row in inputs] for i in range(8)]
        state = {"hang": False}

        done = threading.Event()
        pid = self.pid

        def alive(cur):
            # still this run's backend, still running this batch
            cur.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s AND backend_type = 'client backend' "
                        "AND datname = current_database()", (pid,))
            return cur.fetchone()[0] > 0 and not done.is_set()

        def watchdog():
            # the backend ignored statement_timeout: cancel, terminate, then kill it
            state["hang"] = True
            try:
                with self.control() as c, c.cursor() as cur:
                    c.autocommit = True
                    cur.execute("SELECT pg_cancel_backend(%s)", (pid,))
                    for step in ("pg_terminate_backend", "kill"):
                        for _ in range(20):
                            if done.wait(0.5) or not alive(cur):
                                return
                        if step == "pg_terminate_backend":
                            cur.execute("SELECT pg_terminate_backend(%s)", (pid,))
                        elif alive(cur):
                            print(f"# backend {pid} ignores cancel and terminate: SIGKILL", flush=True)
                            os.kill(pid, 9)
            except Exception as e:  # noqa: BLE001
                print(f"# watchdog: {e}", flush=True)

        timer = threading.Timer(self.a.statement_timeout + self.a.grace, watchdog)
        timer.start()
        self.conn.notices.clear()
        cur = self.conn.cursor()
        err = None
        try:
            cur.execute("SELECT fuzz.run(%s, %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], "
                        "%s::text[], %s::text[], %s::text[])", [sql] + cols)
            res = cur.fetchone()[0]
        except psycopg2.Error as e:
            err = e
        finally:
            done.set()
            timer.cancel()
        running = None
        for msg in reversed(self.conn.notices):
            m = re.search(r"fz (\d+)", msg)
            if m:
                running = int(m.group(1)) - 1
                break
        if err is None:
            self.conn.rollback()
            for b in res["bad"]:
                self.save(name, f"SQLSTATE {b['sqlstate']}", sql, inputs[b["i"] - 1], b["message"])
            kind = "unexpected SQLSTATE" if res["bad"] else None
            return res["n"], dict(res["sqlstates"], succeeded=res["ok"]), kind
        lost = self.conn.closed or isinstance(err, (psycopg2.OperationalError, psycopg2.InterfaceError)) \
            and not isinstance(err, psycopg2.extensions.QueryCanceledError)
        if isinstance(err, psycopg2.extensions.QueryCanceledError) and not state["hang"]:
            # the batch ran past statement_timeout: try the running input on its own
            self.conn.rollback()
            if running is None:
                return 0, {}, None
            n, st, kind = self.batch(name, sql, [inputs[running]]) if len(inputs) > 1 else (0, {}, "hang")
            if kind == "hang" and len(inputs) == 1:
                self.save(name, "hang", sql, inputs[0],
                          f"did not return within statement_timeout = {self.a.statement_timeout}s")
            return running + n, st, kind
        if state["hang"] or lost:
            kind = "hang (statement_timeout ignored)" if state["hang"] else "crash (connection lost)"
            arg = inputs[running] if running is not None else inputs
            self.save(name, kind, sql, arg, f"{err}".strip()[:500])
            try:
                self.conn.close()
            except Exception:  # noqa: BLE001
                pass
            self.connect()
            return running or 0, {}, kind
        # any other error outside the subtransactions is a harness failure
        self.conn.rollback()
        self.save(name, "harness error", sql, inputs[running] if running is not None else inputs[0], str(err))
        return 0, {}, "harness error"

    # --- one entry point --------------------------------------------------
    def fuzz_sql(self, name, sql, gen, seconds, r, log):
        """Fuzzes one SQL entry point for about seconds; returns (executions, failure or None)."""
        end = time.time() + seconds
        size, total, counts, failure = 8, 0, {}, None
        while time.time() < end:
            inputs = [gen(r) for _ in range(size)]
            t0 = time.time()
            n, st, kind = self.batch(name, sql, inputs)
            dt = max(time.time() - t0, 1e-3)
            total += n
            for k, v in st.items():
                counts[k] = counts.get(k, 0) + v
            lines = log.crashes()
            if lines:
                for ln in lines[:10]:
                    print(f"# server log: {ln[:300]}", flush=True)
                if not (kind or "").startswith(("crash", "hang")):
                    self.save(name, "server log shows a crash", sql, inputs, "\n".join(lines)[:2000])
                    kind = "crash (server log)"
            if kind:
                failure = failure or kind
                if kind.startswith(("crash", "hang")):
                    break                      # one crash per entry point: spare the cluster
            size = max(1, min(self.a.max_batch, int(size * min(4.0, max(0.25, self.a.batch_seconds / dt)))))
        self.stats[name] = (total, counts)
        return total, failure

    def fuzz_http(self, name, seconds, r, log):
        """Fuzzes the HTTP worker with raw requests; a good request must still be answered after each batch."""
        end = time.time() + seconds
        total, counts, failure = 0, {}, None
        pid0 = self.http_pid()
        pool = concurrent.futures.ThreadPoolExecutor(8)
        while time.time() < end and not failure:
            sent = [gen_http.request(r) for _ in range(64)]

            def one(req):
                try:
                    code, timed_out = gen_http.send(self.a.http_port, req[0], req[1], 1.0)
                except OSError as e:
                    code, timed_out = f"connect: {e.__class__.__name__}", False
                return "timeout" if timed_out else str(code)
            for key in pool.map(one, sent):
                counts[key] = counts.get(key, 0) + 1
                total += 1
            sent = [raw for raw, _ in sent]
            # a good request must be answered; connections the worker has not
            # closed yet (it notices a client's close only at its 10 s idle
            # timeout) may fill the 64 per client for that long: wait it out
            ok, t0 = None, time.time()
            while time.time() - t0 < 30:
                try:
                    ok, _ = gen_http.send(self.a.http_port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", True, 5)
                except OSError:
                    ok = None
                if ok == 200:
                    break
                time.sleep(0.5)
            waited = time.time() - t0
            if waited > 1:
                counts["health check waits (s)"] = round(counts.get("health check waits (s)", 0) + waited)
            lines = log.crashes()
            pid = self.http_pid()
            detail = None
            if lines:
                detail = "server log: " + "\n".join(lines)
            elif ok != 200:
                detail = f"GET / answered {ok} after the batch (no 200 within 30 s: hang)"
            elif pid != pid0:
                detail = f"HTTP worker pid changed from {pid0} to {pid} (restarted)"
            if detail:
                failure = "crash or hang"
                self.save_http(name, sent, detail)
        pool.shutdown()
        self.stats[name] = (total, counts)
        return total, failure

    def http_pid(self):
        """Pid of the HTTP worker of the HTTP cluster."""
        with psycopg2.connect(self.a.http_dsn, connect_timeout=10) as c, c.cursor() as cur:
            cur.execute("SELECT pid FROM pg_stat_activity WHERE backend_type = 'troubleshooting http'")
            row = cur.fetchone()
            return row and row[0]

    def save_http(self, name, sent, detail):
        """Saves the requests of a failed HTTP batch (a Python list of bytes literals)."""
        path = os.path.join(self.a.artifacts, f"{len(self.findings) + 1:03d}-http.py")
        with open(path, "w") as f:
            f.write(f"# {detail}\n# send each to 127.0.0.1:<http_port>, in order\nREQUESTS = [\n")
            for raw in sent:
                f.write(f"    {raw!r},\n")
            f.write("]\n")
        self.findings.append((name, "crash or hang", path, detail))
        print(f"# FOUND crash or hang in {name}: {detail[:300]!r}; requests saved to {path}", flush=True)


def report_seeds(conn):
    """Report documents to mutate: one generated per type (in a rolled-back transaction)."""
    cur = conn.cursor()
    docs = []
    for t, charts in [("daily", True), ("weekly", False), ("monthly", True), ("problem_analysis", False),
                      ("customer_satisfaction", True)]:
        cur.execute("SELECT generate_troubleshooting_report(%s, now() - interval '40 days', now(), '{}', %s, true)"
                    if t == "custom" else "SELECT generate_troubleshooting_report(%s, p_include_charts => %s)",
                    (t, charts))
        docs.append(cur.fetchone()[0])
    cur.execute("SELECT generate_troubleshooting_report('custom', now() - interval '40 days', now(), '{}', true)")
    docs.append(cur.fetchone()[0])
    conn.rollback()
    return docs


def main():
    """Parses the options, runs every entry point, prints TAP and the summary."""
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--dsn", required=True)
    p.add_argument("--http-dsn")
    p.add_argument("--http-port", type=int, default=0)
    p.add_argument("--log", action="append", default=[])
    p.add_argument("--artifacts", required=True)
    p.add_argument("--heavy", action="store_true")
    p.add_argument("--statement-timeout", type=int, default=30)
    p.add_argument("--grace", type=int, default=15)
    p.add_argument("--memory-mb", type=int, default=2048)
    p.add_argument("--batch-seconds", type=float, default=0.5)
    p.add_argument("--max-batch", type=int, default=4000)
    p.add_argument("--only", default="")
    a = p.parse_args()

    fz = Fuzzer(a)
    fz.connect()
    log = Log(a.log)
    print(f"# seed {a.seed} (TS_FUZZ_SEED={a.seed} reproduces this run); heavy cases {'on' if a.heavy else 'off'}; "
          f"memory guard {str(a.memory_mb) + ' MB of address space' if fz.guard else 'not set'}", flush=True)
    cur = fz.conn.cursor()
    cur.execute("SELECT to_regproc('troubleshooting_destination_policy') IS NOT NULL")
    has_policy = cur.fetchone()[0]
    fz.conn.rollback()
    if not has_policy:
        print("# troubleshooting_destination_policy() does not exist here: URLs are fuzzed through the "
              "validators only", flush=True)
    seeds = report_seeds(fz.conn)
    tg = targets(a.heavy, seeds, has_policy)
    names = list(tg) + (["HTTP worker (raw requests on loopback)"] if a.http_port else [])
    if a.only:
        names = [n for n in names if a.only in n]
    share = a.seconds / max(1, len(names))
    results = []
    for i, name in enumerate(names, 1):
        r = random.Random(f"{a.seed}:{name}")
        t0 = time.time()
        if name.startswith("HTTP"):
            n, failure = fz.fuzz_http(name, share, r, log)
        else:
            n, failure = fz.fuzz_sql(name, tg[name][0], tg[name][1], share, r, log)
        dt = time.time() - t0
        results.append((name, n, dt, failure))
        if failure:
            print(f"not ok {i} - {name}: {n} executions, {failure}", flush=True)
        else:
            print(f"ok {i} - {name}: {n} executions, no crash", flush=True)
    print(f"1..{len(names)}")
    total = sum(x[1] for x in results)
    wall = sum(x[2] for x in results)
    print("\n| entry point | executions | seconds | executions/s | result | outcomes (SQLSTATE or HTTP status: count) |")
    print("|---|---:|---:|---:|---|---|")
    for name, n, dt, failure in results:
        counts = fz.stats.get(name, (0, {}))[1]
        top = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])[:6])
        print(f"| {name} | {n} | {dt:.0f} | {n / max(dt, 1e-9):.0f} | {failure or 'ok'} | {top} |")
    print(f"| **total** | **{total}** | {wall:.0f} | {total / max(wall, 1e-9):.0f} | "
          f"{sum(1 for x in results if x[3])} failed | |")
    if fz.findings:
        print(f"\n# {len(fz.findings)} finding(s), inputs in {a.artifacts}:")
        for name, kind, path, detail in fz.findings:
            print(f"#   {kind} in {name}: {path}")
    sys.exit(1 if any(x[3] for x in results) else 0)


if __name__ == "__main__":
    main()
