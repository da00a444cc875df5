#!/usr/bin/env python3
"""examples/python/listen.py: receive live events with psycopg2: LISTEN on
troubleshooting_events, start a session from a second connection, and print
the event its commit publishes (or fail after a timeout).

Usage: python3 listen.py SESSION_ID
The connection comes from the libpq environment (PGHOST, PGPORT, PGUSER,
PGDATABASE); any role may LISTEN, the insert needs INSERT on the sessions.
"""
import json
import select
import sys
import time

import psycopg2

TIMEOUT = 10  # seconds


def wait_for_event(conn, session_id):
    """Waits for the first event about session_id; returns (payload, event)."""
    deadline = time.monotonic() + TIMEOUT
    while (left := deadline - time.monotonic()) > 0:
        if select.select([conn], [], [], left)[0]:
            conn.poll()
            while conn.notifies:
                payload = conn.notifies.pop(0).payload
                event = json.loads(payload)
                if event.get("session_id") == session_id:
                    return payload, event
    sys.exit(f"no event for session {session_id} within {TIMEOUT} s")


def main():
    """Listens, starts a session elsewhere, prints the event received."""
    if len(sys.argv) != 2:
        sys.exit("usage: listen.py SESSION_ID")
    session_id = sys.argv[1]
    listener, writer = psycopg2.connect(""), psycopg2.connect("")
    try:
        listener.autocommit = True  # notifications arrive between transactions
        listener.cursor().execute("LISTEN troubleshooting_events")
        print("listening on troubleshooting_events")
        with writer, writer.cursor() as cur:  # the event is sent at commit
            cur.execute("INSERT INTO support_troubleshooting_sessions"
                        " (session_id, customer_email, detected_problem_id)"
                        " VALUES (%s, %s, %s)", (session_id, "ana@example.com", "wifi_drops"))
        payload, event = wait_for_event(listener, session_id)
        print(f"received {payload}")
        print(f"{event['type']}: session {event['session_id']} is {event['status']}"
              f" (previous {event['previous'] or 'none'})")
    finally:
        listener.close()
        writer.close()


if __name__ == "__main__":
    main()
