// examples/node/listen.js: receive live events with node-postgres: LISTEN on
// troubleshooting_events, start a session from a second connection, and print
// the event its commit publishes (or fail after a timeout).
//
// Usage: node listen.js SESSION_ID
// The connection comes from the libpq environment (PGHOST, PGPORT, PGUSER,
// PGDATABASE); any role may LISTEN, the insert needs INSERT on the sessions.
'use strict';
const { Client } = require('pg');

const TIMEOUT_MS = 10000;

// Resolves with the first notification about sessionId; rejects after TIMEOUT_MS.
function nextEvent(listener, sessionId) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no event for session ${sessionId} within ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS);
    listener.on('notification', (msg) => {
      const event = JSON.parse(msg.payload);
      if (event.session_id === sessionId) { clearTimeout(timer); resolve({ payload: msg.payload, event }); }
    });
  });
}

// Listens, starts a session elsewhere, prints the event received.
async function main() {
  if (process.argv.length !== 3) throw new Error('usage: node listen.js SESSION_ID');
  const sessionId = process.argv[2];
  const listener = new Client();
  const writer = new Client();
  await listener.connect();
  await writer.connect();
  try {
    await listener.query('LISTEN troubleshooting_events');
    console.log('listening on troubleshooting_events');
    const received = nextEvent(listener, sessionId);
    await writer.query( // the event is sent when this statement's transaction commits
      `INSERT INTO support_troubleshooting_sessions (session_id, customer_email, detected_problem_id)
       VALUES ($1, $2, $3)`, [sessionId, 'ana@example.com', 'wifi_drops']);
    const { payload, event } = await received;
    console.log(`received ${payload}`);
    console.log(`${event.type}: session ${event.session_id} is ${event.status}`
      + ` (previous ${event.previous ?? 'none'})`);
  } finally {
    await listener.end();
    await writer.end();
  }
}

main().catch((err) => { console.error(err.message); process.exitCode = 1; });
