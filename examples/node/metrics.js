// examples/node/metrics.js: read the realtime metrics with node-postgres, as
// the JSON document of get_troubleshooting_realtime_metrics() (an object here)
// and as a row of the view vw_troubleshooting_realtime_metrics.
//
// Usage: node metrics.js
// The connection comes from the libpq environment (PGHOST, PGPORT, PGUSER,
// PGDATABASE); the role needs EXECUTE on the function, SELECT on the view.
'use strict';
const { Client } = require('pg');

// Prints the headline figures, the top problems and the view's row.
async function main() {
  const client = new Client();
  await client.connect();
  try {
    const { rows: [{ doc }] } = await client.query('SELECT get_troubleshooting_realtime_metrics() AS doc');
    console.log(`active sessions: ${doc.metrics.active_sessions}`);
    console.log(`resolved in the last hour: ${doc.metrics.resolved_last_hour}`);
    for (const p of doc.top_problems) {
      console.log(`top problem ${p.problem_id}: sessions=${p.sessions} resolved=${p.resolved}`);
    }
    const { rows: [v] } = await client.query(
      'SELECT active_sessions, resolved_last_hour, escalated_last_hour FROM vw_troubleshooting_realtime_metrics');
    console.log(`view: active_sessions=${v.active_sessions} resolved_last_hour=${v.resolved_last_hour}`
      + ` escalated_last_hour=${v.escalated_last_hour}`);
  } finally {
    await client.end();
  }
}

main().catch((err) => { console.error(err.message); process.exitCode = 1; });
