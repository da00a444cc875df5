-- Template limits: whatever template, data and partials a caller hands in,
-- rendering ends in an error naming the limit it reached (nesting, partial
-- recursion, output size, render steps), or in statement_timeout; never in a
-- crash, an endless render or "out of memory".
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS troubleshooting;
RESET client_min_messages;
CREATE TEMP TABLE big AS
SELECT (SELECT jsonb_agg(i) FROM generate_series(1, 1000) i) AS a1000;

-- sections nest at most 100 deep: the issue's 100,000 levels is an error
SELECT render_troubleshooting_mustache(repeat('{{#a}}', 100000) || 'x' || repeat('{{/a}}', 100000), '{"a": true}');
SELECT render_troubleshooting_mustache(repeat('{{#a}}', 100) || 'x' || repeat('{{/a}}', 100), '{"a": true}') AS depth_100;
SELECT render_troubleshooting_mustache(repeat('{{^a}}', 101) || 'x' || repeat('{{/a}}', 101), '{}');
-- the same for a stored template: it cannot be saved
INSERT INTO support_troubleshooting_templates (name, body)
VALUES ('too_deep', repeat('{{#a}}', 101) || repeat('{{/a}}', 101));
-- ... and counting the sections of included partials
SELECT render_troubleshooting_mustache(repeat('{{#a}}', 60) || '{{>p}}' || repeat('{{/a}}', 60), '{"a": true}',
    jsonb_build_object('p', repeat('{{#a}}', 60) || 'x' || repeat('{{/a}}', 60)));

-- partials include partials at most 32 deep
SELECT render_troubleshooting_mustache('{{>self}}', '{}', '{"self": "again {{>self}}"}');
SELECT render_troubleshooting_mustache('{{>p0}}', '{}',
    (SELECT jsonb_object_agg('p' || i, CASE WHEN i < 31 THEN '{{>p' || (i + 1) || '}}' ELSE 'end' END)
       FROM generate_series(0, 31) i)) AS depth_32;
-- the partial bomb of the issue (each partial includes the next twice, 40 levels)
SELECT render_troubleshooting_mustache('{{>p0}}', '{}',
    (SELECT jsonb_object_agg('p' || i, CASE WHEN i < 40 THEN '{{>p' || (i + 1) || '}}{{>p' || (i + 1) || '}}' ELSE 'x' END)
       FROM generate_series(0, 40) i));
-- within the depth limit (25 levels, 2^25 copies): the output limit
SELECT render_troubleshooting_mustache('{{>p0}}', '{}',
    (SELECT jsonb_object_agg('p' || i, CASE WHEN i < 25 THEN '{{>p' || (i + 1) || '}}{{>p' || (i + 1) || '}}' ELSE 'x' END)
       FROM generate_series(0, 25) i));
-- ... and when it renders nothing: the step limit
SELECT render_troubleshooting_mustache('{{>p0}}', '{}',
    (SELECT jsonb_object_agg('p' || i, CASE WHEN i < 25 THEN '{{>p' || (i + 1) || '}}{{>p' || (i + 1) || '}}' ELSE '' END)
       FROM generate_series(0, 25) i));

-- partial source compiled in one render: at most 4 MiB, each indentation of
-- a standalone partial counted (an indented self-inclusion copies it per level)
SELECT render_troubleshooting_mustache('{{>p}}', '{}',
    jsonb_build_object('p', E'  {{>p}}\n' || repeat('x', 1000000)));
SELECT length(render_troubleshooting_mustache('{{>p}}{{>p}}{{>p}}', '{}',
    jsonb_build_object('p', repeat('x', 300000)))) AS one_partial_compiled_once;

-- output: at most 1 MiB (1048576 bytes), escaping included
SELECT length(render_troubleshooting_mustache('{{b}}', jsonb_build_object('b', repeat('x', 1048576)))) AS at_limit;
SELECT render_troubleshooting_mustache('{{b}}.', jsonb_build_object('b', repeat('x', 1048576)));
SELECT render_troubleshooting_mustache('{{b}}', jsonb_build_object('b', repeat('<', 300000)));
SELECT render_troubleshooting_mustache('{{b}}', jsonb_build_object('b', repeat(E'\n', 600000)), '{}', 'json');
SELECT render_troubleshooting_mustache('{{b}}', jsonb_build_object('b', repeat('x', 20000000)), '{}', 'text');
SELECT render_troubleshooting_mustache(repeat('x', 1048577), '{}');
-- three nested sections over a 1,000-element array: the output limit
SELECT render_troubleshooting_mustache('{{#a}}{{#a}}{{#a}}x{{/a}}{{/a}}{{/a}}', jsonb_build_object('a', a1000)) FROM big;
-- the same rendering nothing: the step limit (20,000,000)
SELECT render_troubleshooting_mustache('{{#a}}{{#a}}{{#a}}{{/a}}{{/a}}{{/a}}', jsonb_build_object('a', a1000)) FROM big;
-- a section over a large array within the limits renders in full
SELECT length(render_troubleshooting_mustache('{{#a}}{{.}},{{/a}}', jsonb_build_object('a', a1000))) AS items FROM big;

-- statement_timeout stops a heavy render (the timeout, not a limit, not OOM)
SET statement_timeout = '50ms';
SELECT render_troubleshooting_mustache('{{#a}}{{#a}}{{#a}}{{/a}}{{/a}}{{/a}}', jsonb_build_object('a', a1000)) FROM big;
SELECT render_troubleshooting_mustache('{{>p0}}', '{}',
    (SELECT jsonb_object_agg('p' || i, CASE WHEN i < 30 THEN '{{>p' || (i + 1) || '}}{{>p' || (i + 1) || '}}' ELSE '' END)
       FROM generate_series(0, 30) i));
RESET statement_timeout;

-- a long line of tags parses in linear time (it used to walk back to the
-- line's start for every tag): 200,000 tags well within a generous timeout
SET statement_timeout = '60s';
SELECT length(render_troubleshooting_mustache(repeat('{{a}} ', 200000), '{"a": "y"}')) AS long_line;
RESET statement_timeout;

-- the limits hold for stored templates and their partials too
INSERT INTO support_troubleshooting_templates (name, body) VALUES
    ('bomb_leaf', 'x'),
    ('bomb', '{{#a}}{{#a}}{{#a}}{{> bomb_leaf}}{{/a}}{{/a}}{{/a}}');
SELECT render_troubleshooting_template('bomb', jsonb_build_object('a', a1000)) FROM big;
DELETE FROM support_troubleshooting_templates WHERE name LIKE 'bomb%';

-- only the extension's owner (and whom it grants) may render or check
-- templates: PUBLIC has no EXECUTE
SELECT p.proname, has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute
  FROM pg_proc p
 WHERE p.proname IN ('render_troubleshooting_mustache', 'render_troubleshooting_template', 'ts_template_parses')
 ORDER BY 1;
