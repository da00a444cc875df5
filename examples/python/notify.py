#!/usr/bin/env python3
"""examples/python/notify.py: enqueue a Slack notification about an escalated
session with psycopg2, under an idempotency key, so that a retried call (say,
after a lost reply) enqueues nothing twice.

Usage: python3 notify.py SESSION_ID WEBHOOK_URL
The connection comes from the libpq environment (PGHOST, PGPORT, PGUSER,
PGDATABASE); the role needs EXECUTE on send_troubleshooting_notification.
"""
import sys

import psycopg2
from psycopg2.extras import Json

ENQUEUE = """
SELECT send_troubleshooting_notification(
    p_channel => 'slack', p_recipient => '#support-team',
    p_template => 'session_escalated', p_data => %(data)s,
    p_priority => 'critical', p_metadata => %(metadata)s,
    p_idempotency_key => %(key)s)
"""


def enqueue(conn, session_id, webhook_url, key):
    """Enqueues the notification in a transaction of its own; returns its id."""
    data = {"session_id": session_id, "customer_name": "Juan Pérez",
            "customer_email": "juan@example.com", "ticket_id": "T-1001",
            "detected_problem_title": "Wi-Fi keeps dropping", "failed_attempts": 3}
    with conn, conn.cursor() as cur:  # commits, or rolls back on an error
        cur.execute(ENQUEUE, {"data": Json(data), "key": key,
                              "metadata": Json({"webhook_url": webhook_url})})
        return cur.fetchone()[0]


def main():
    """Enqueues once, then again with the same key."""
    if len(sys.argv) != 3:
        sys.exit("usage: notify.py SESSION_ID WEBHOOK_URL")
    session_id, webhook_url = sys.argv[1:]
    key = f"escalated:{session_id}:T-1001"  # one notification per escalation
    conn = psycopg2.connect("")
    try:
        first = enqueue(conn, session_id, webhook_url, key)
        print(f"notification {first} enqueued, idempotency key {key}")
        again = enqueue(conn, session_id, webhook_url, key)
        print(f"same key again: notification {again}")
    finally:
        conn.close()


if __name__ == "__main__":
    main()
