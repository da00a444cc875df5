// examples/node/errors.js: handle the extension's errors by SQLSTATE with
// node-postgres: an invalid configuration value and an unknown period both
// raise 22023 (invalid_parameter_value), read from err.code; any other error
// is rethrown and ends the program with a failure.
//
// Usage: node errors.js
// The connection comes from the libpq environment (PGHOST, PGPORT, PGUSER,
// PGDATABASE); the role needs EXECUTE on set_troubleshooting_config (owner
// only by default) and get_troubleshooting_metrics_by_period.
'use strict';
const { Client } = require('pg');

const INVALID_PARAMETER_VALUE = '22023';
const BAD_CALLS = [
  ['SELECT set_troubleshooting_config($1, $2)', ['enable_llm_enhancement', 'maybe']],
  ['SELECT * FROM get_troubleshooting_metrics_by_period($1)', ['fortnight']],
];

// Runs each bad call and reports the SQLSTATE, message and detail or hint.
async function main() {
  const client = new Client();
  await client.connect();
  try {
    for (const [sql, params] of BAD_CALLS) {
      try {
        await client.query(sql, params);
      } catch (err) {
        if (err.code !== INVALID_PARAMETER_VALUE) throw err;
        console.log(`${err.code} ${err.message}`);
        if (err.detail) console.log(`  detail: ${err.detail}`);
        if (err.hint) console.log(`  hint: ${err.hint}`);
        continue;
      }
      throw new Error(`expected SQLSTATE 22023 from: ${sql}`);
    }
  } finally {
    await client.end();
  }
}

main().catch((err) => { console.error(err.message); process.exitCode = 1; });
