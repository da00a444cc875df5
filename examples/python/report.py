#!/usr/bin/env python3
"""examples/python/report.py: generate a report of the last 24 hours with
psycopg2 and download it as a PDF file (export_troubleshooting_report returns
bytea, which arrives as bytes).

Usage: python3 report.py OUTPUT.pdf
The connection comes from the libpq environment (PGHOST, PGPORT, PGUSER,
PGDATABASE); the role needs EXECUTE on generate_troubleshooting_report and
export_troubleshooting_report(bigint, text).
"""
import sys

import psycopg2

GENERATE = """
SELECT generate_troubleshooting_report('custom', now() - interval '1 day', now(),
                                       p_include_charts => true)
"""


def main():
    """Generates, stores and exports one report; writes the PDF."""
    if len(sys.argv) != 2:
        sys.exit("usage: report.py OUTPUT.pdf")
    conn = psycopg2.connect("")
    try:
        with conn, conn.cursor() as cur:  # the stored report is committed
            cur.execute(GENERATE)
            report = cur.fetchone()[0]
            summary = report["summary"]
            print(f"report {report['id']}: {report['report_type']},"
                  f" {summary['total_sessions']} sessions,"
                  f" resolution rate {summary['resolution_rate']}")
            cur.execute("SELECT export_troubleshooting_report(%s::bigint, 'pdf')", (report["id"],))
            pdf = bytes(cur.fetchone()[0])
        with open(sys.argv[1], "wb") as out:
            out.write(pdf)
        print(f"saved {sys.argv[1]} ({len(pdf)} bytes)")
    finally:
        conn.close()


if __name__ == "__main__":
    main()
