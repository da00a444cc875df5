#!/usr/bin/env python3
"""examples/python/metrics.py: read the realtime metrics with psycopg2, as the
JSON document of get_troubleshooting_realtime_metrics() (a dict here) and as a
row of the view vw_troubleshooting_realtime_metrics.

Usage: python3 metrics.py
The connection comes from the libpq environment (PGHOST, PGPORT, PGUSER,
PGDATABASE); the role needs EXECUTE on the function, SELECT on the view.
"""
import psycopg2


def main():
    """Prints the headline figures, the top problems and the view's row."""
    conn = psycopg2.connect("")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT get_troubleshooting_realtime_metrics()")
            doc = cur.fetchone()[0]  # jsonb arrives as a dict
            print(f"active sessions: {doc['metrics']['active_sessions']}")
            print(f"resolved in the last hour: {doc['metrics']['resolved_last_hour']}")
            for p in doc["top_problems"]:
                print(f"top problem {p['problem_id']}: sessions={p['sessions']} resolved={p['resolved']}")
            cur.execute("SELECT active_sessions, resolved_last_hour, escalated_last_hour"
                        " FROM vw_troubleshooting_realtime_metrics")
            active, resolved, escalated = cur.fetchone()
            print(f"view: active_sessions={active} resolved_last_hour={resolved}"
                  f" escalated_last_hour={escalated}")
    finally:
        conn.close()


if __name__ == "__main__":
    main()
