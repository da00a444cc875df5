// examples/node/report.js: generate a report of the last 24 hours with
// node-postgres and download it as a PDF file (export_troubleshooting_report
// returns bytea, which arrives as a Buffer).
//
// Usage: node report.js OUTPUT.pdf
// The connection comes from the libpq environment (PGHOST, PGPORT, PGUSER,
// PGDATABASE); the role needs EXECUTE on generate_troubleshooting_report and
// export_troubleshooting_report(bigint, text).
'use strict';
const fs = require('fs');
const { Client } = require('pg');

const GENERATE = `
SELECT generate_troubleshooting_report('custom', now() - interval '1 day', now(),
                                       p_include_charts => true) AS report`;

// Generates, stores and exports one report; writes the PDF.
async function main() {
  if (process.argv.length !== 3) throw new Error('usage: node report.js OUTPUT.pdf');
  const file = process.argv[2];
  const client = new Client();
  await client.connect();
  try {
    const { rows: [{ report }] } = await client.query(GENERATE); // stored and committed
    const s = report.summary;
    console.log(`report ${report.id}: ${report.report_type}, ${s.total_sessions} sessions,`
      + ` resolution rate ${s.resolution_rate}`);
    const { rows: [{ pdf }] } = await client.query(
      "SELECT export_troubleshooting_report($1::bigint, 'pdf') AS pdf", [report.id]);
    fs.writeFileSync(file, pdf);
    console.log(`saved ${file} (${pdf.length} bytes)`);
  } finally {
    await client.end();
  }
}

main().catch((err) => { console.error(err.message); process.exitCode = 1; });
