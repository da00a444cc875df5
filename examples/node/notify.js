// examples/node/notify.js: enqueue a Slack notification about an escalated
// session with node-postgres, under an idempotency key, so that a retried call
// (say, after a lost reply) enqueues nothing twice.
//
// Usage: node notify.js SESSION_ID WEBHOOK_URL
// The connection comes from the libpq environment (PGHOST, PGPORT, PGUSER,
// PGDATABASE); the role needs EXECUTE on send_troubleshooting_notification.
'use strict';
const { Client } = require('pg');

const ENQUEUE = `
SELECT send_troubleshooting_notification(
    p_channel => 'slack', p_recipient => '#support-team',
    p_template => 'session_escalated', p_data => $1,
    p_priority => 'critical', p_metadata => $2,
    p_idempotency_key => $3) AS id`;

// Enqueues the notification (one statement, its own transaction); returns its id.
async function enqueue(client, sessionId, webhookUrl, key) {
  const data = {
    session_id: sessionId, customer_name: 'Juan Pérez',
    customer_email: 'juan@example.com', ticket_id: 'T-1001',
    detected_problem_title: 'Wi-Fi keeps dropping', failed_attempts: 3,
  };
  const { rows } = await client.query(ENQUEUE, [data, { webhook_url: webhookUrl }, key]);
  return rows[0].id; // bigint arrives as a string
}

// Enqueues once, then again with the same key.
async function main() {
  if (process.argv.length !== 4) throw new Error('usage: node notify.js SESSION_ID WEBHOOK_URL');
  const [sessionId, webhookUrl] = process.argv.slice(2);
  const key = `escalated:${sessionId}:T-1001`; // one notification per escalation
  const client = new Client();
  await client.connect();
  try {
    const first = await enqueue(client, sessionId, webhookUrl, key);
    console.log(`notification ${first} enqueued, idempotency key ${key}`);
    const again = await enqueue(client, sessionId, webhookUrl, key);
    console.log(`same key again: notification ${again}`);
  } finally {
    await client.end();
  }
}

main().catch((err) => { console.error(err.message); process.exitCode = 1; });
