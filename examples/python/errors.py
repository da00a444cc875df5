#!/usr/bin/env python3
"""examples/python/errors.py: handle the extension's errors by SQLSTATE with
psycopg2: an invalid configuration value and an unknown period both raise
22023 (invalid_parameter_value), caught as psycopg2.errors.InvalidParameterValue;
any other error is not caught and ends the program with a failure.

Usage: python3 errors.py
The connection comes from the libpq environment (PGHOST, PGPORT, PGUSER,
PGDATABASE); the role needs EXECUTE on set_troubleshooting_config (owner only
by default) and get_troubleshooting_metrics_by_period.
"""
import sys

import psycopg2
import psycopg2.errors

BAD_CALLS = [
    ("SELECT set_troubleshooting_config(%s, %s)", ("enable_llm_enhancement", "maybe")),
    ("SELECT * FROM get_troubleshooting_metrics_by_period(%s)", ("fortnight",)),
]


def main():
    """Runs each bad call and reports the SQLSTATE, message and detail or hint."""
    conn = psycopg2.connect("")
    conn.autocommit = True  # each statement is its own transaction
    try:
        for sql, params in BAD_CALLS:
            try:
                with conn.cursor() as cur:
                    cur.execute(sql, params)
            except psycopg2.errors.InvalidParameterValue as e:  # SQLSTATE 22023
                print(f"{e.pgcode} {e.diag.message_primary}")
                if e.diag.message_detail:
                    print(f"  detail: {e.diag.message_detail}")
                if e.diag.message_hint:
                    print(f"  hint: {e.diag.message_hint}")
            else:
                sys.exit(f"expected SQLSTATE 22023 from: {sql}")
    finally:
        conn.close()


if __name__ == "__main__":
    main()
