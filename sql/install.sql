-- Install, inspect and drop the extension.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS troubleshooting CASCADE;
RESET client_min_messages;
CREATE EXTENSION troubleshooting;

SELECT extversion, extrelocatable, extnamespace::regnamespace AS schema
FROM pg_extension WHERE extname = 'troubleshooting';

-- every relation the extension owns, by kind
SELECT c.relkind, c.relname
FROM pg_depend d JOIN pg_class c ON c.oid = d.objid AND d.classid = 'pg_class'::regclass
WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'troubleshooting')
ORDER BY 1, 2;

-- every function it owns
SELECT p.oid::regprocedure AS function, p.prorettype::regtype AS returns
FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid AND d.classid = 'pg_proc'::regclass
WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'troubleshooting')
ORDER BY p.proname, p.oid::regprocedure::text;

-- the four index names users' SQL relies on, with their columns
SELECT indexname, indexdef FROM pg_indexes
WHERE indexname IN ('idx_sessions_status_started_at', 'idx_sessions_customer_email_status',
                    'idx_attempts_session_success', 'idx_feedback_rating_collected_at')
ORDER BY 1;

-- tables registered for pg_dump, with their filters
SELECT c::regclass AS config_table
FROM pg_extension, unnest(extconfig) AS c
WHERE extname = 'troubleshooting' ORDER BY c::regclass::text;
SELECT extcondition FROM pg_extension WHERE extname = 'troubleshooting';

-- shipped templates
SELECT name, coalesce(channel, '*') AS channel, format, is_default
FROM support_troubleshooting_templates ORDER BY name, channel NULLS FIRST;

-- the realtime view answers on an empty database
SELECT * FROM vw_troubleshooting_realtime_metrics;

-- drop removes everything; a second install works
DROP EXTENSION troubleshooting;
SELECT count(*) AS leftover_relations FROM pg_class
WHERE relname LIKE 'support\_%' OR relname LIKE 'vw\_troubleshooting%' OR relname LIKE 'idx\_%';
SELECT count(*) AS leftover_functions FROM pg_proc
WHERE pronamespace = 'public'::regnamespace;
CREATE EXTENSION troubleshooting;
SELECT count(*) AS config_keys FROM support_troubleshooting_config;
-- installing twice is an error, IF NOT EXISTS is not
CREATE EXTENSION troubleshooting;
CREATE EXTENSION IF NOT EXISTS troubleshooting;
