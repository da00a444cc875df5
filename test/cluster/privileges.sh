#!/usr/bin/env bash
# The privilege audit: every extension function, procedure, table, view and
# sequence PUBLIC can use, with the privileges it has, equals the README's
# "PUBLIC allow-list" (under "Security"), both ways; every SECURITY DEFINER
# function and every PL/pgSQL function pins search_path to
# pg_catalog, pg_temp; a plain role cannot attach the extension's trigger
# functions to a table of its own.  Self-checks show the audit sees a stray
# GRANT and an unpinned function.
# A cluster test because it reads README.md from the source tree.
. "$(dirname "$0")/tap.sh"

DB=ts_privileges
fresh_db "$DB"
D -c "CREATE EXTENSION troubleshooting" >/dev/null
ok $? "extension installed in a fresh database"

# What PUBLIC can use: one line per object, "kind name: PRIV, PRIV".
AUDIT=$(cat <<'SQL'
WITH member AS (
    SELECT d.classid, d.objid FROM pg_catalog.pg_depend d
      JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid
     WHERE e.extname = 'troubleshooting' AND d.deptype = 'e'
       AND d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass),
rel AS (   -- member relations and the sequences they own (serial, identity)
    SELECT c.oid, c.relname, c.relkind FROM member m JOIN pg_catalog.pg_class c
        ON m.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND c.oid = m.objid
    UNION
    SELECT s.oid, s.relname, s.relkind FROM member m
      JOIN pg_catalog.pg_depend d ON m.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
           AND d.refobjid = m.objid AND d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
           AND d.deptype IN ('a', 'i')
      JOIN pg_catalog.pg_class s ON s.oid = d.objid AND s.relkind = 'S')
SELECT line FROM (
    SELECT CASE p.prokind WHEN 'p' THEN 'procedure ' ELSE 'function ' END
           || p.oid::pg_catalog.regprocedure::text || ': EXECUTE' AS line
      FROM member m JOIN pg_catalog.pg_proc p
        ON m.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND p.oid = m.objid
     WHERE pg_catalog.has_function_privilege('public', p.oid, 'EXECUTE')
    UNION ALL
    SELECT CASE r.relkind WHEN 'v' THEN 'view ' WHEN 'm' THEN 'view ' WHEN 'S' THEN 'sequence ' ELSE 'table ' END
           || r.relname || ': ' || x.privs
      FROM rel r CROSS JOIN LATERAL (
        SELECT pg_catalog.string_agg(u.p, ', ' ORDER BY u.o) AS privs
          FROM pg_catalog.unnest(CASE WHEN r.relkind = 'S' THEN ARRAY['USAGE', 'SELECT', 'UPDATE']
                                      ELSE ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE',
                                                 'REFERENCES', 'TRIGGER'] END) WITH ORDINALITY u(p, o)
         WHERE CASE WHEN r.relkind = 'S' THEN pg_catalog.has_sequence_privilege('public', r.oid, u.p)
                    WHEN u.p IN ('SELECT', 'INSERT', 'UPDATE', 'REFERENCES')
                    THEN pg_catalog.has_table_privilege('public', r.oid, u.p)
                         OR pg_catalog.has_any_column_privilege('public', r.oid, u.p)
                    ELSE pg_catalog.has_table_privilege('public', r.oid, u.p) END) x
     WHERE x.privs IS NOT NULL) a
ORDER BY line COLLATE "C"
SQL
)

# The README's allow-list: the bullets "- `kind name`: PRIVS" of its
# "### PUBLIC allow-list" subsection, sorted the same way.
readme_list() {
    python3 - README.md <<'PY'
import re, sys
lines, inside = [], False
for l in open(sys.argv[1], encoding="utf-8"):
    if l.startswith("#"):
        inside = l.strip() == "### PUBLIC allow-list"
        continue
    m = re.match(r"^- `([^`]+)`: ([A-Z, ]+?)(?: —.*)?$", l.rstrip("\n")) if inside else None
    if m:
        lines.append(f"{m.group(1)}: {m.group(2).strip()}")
for l in sorted(lines, key=lambda s: s.encode()):
    print(l)
PY
}

allowed=$(readme_list)
[ -n "$allowed" ]
ok $? "README.md has a PUBLIC allow-list under Security"
grep -q '^## Security' README.md
ok $? "under a \"Security\" heading"
actual=$(D -c "$AUDIT")
extra=$(comm -13 <(printf '%s\n' "$allowed") <(printf '%s\n' "$actual"))
missing=$(comm -23 <(printf '%s\n' "$allowed") <(printf '%s\n' "$actual"))
is "$extra" "" "PUBLIC can use nothing the allow-list does not name"
is "$missing" "" "everything the allow-list names is what PUBLIC can use"

# the audit sees a stray grant (so the comparison above can fail)
is "$(D -c "BEGIN" -c "GRANT SELECT ON support_troubleshooting_sessions TO PUBLIC" \
        -c "GRANT EXECUTE ON FUNCTION refresh_troubleshooting_metrics() TO PUBLIC" \
        -c "SELECT count(*) FROM ($AUDIT) a WHERE line IN ('table support_troubleshooting_sessions: SELECT',
                                                          'function refresh_troubleshooting_metrics(): EXECUTE')" \
        -c "ROLLBACK")" "2" "the audit reports a table and a function granted to PUBLIC"

# every SECURITY DEFINER and every PL/pgSQL function pins search_path
PINNED="p.proconfig IS NOT NULL AND 'search_path=pg_catalog, pg_temp' = ANY (p.proconfig)"
MEMBERS="FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
         JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'troubleshooting'"
is "$(D -c "SELECT count(*) > 10 $MEMBERS WHERE p.prosecdef")" "t" "the extension has SECURITY DEFINER functions to check"
is "$(D -c "SELECT coalesce(string_agg(p.oid::regprocedure::text, ', '), '') $MEMBERS WHERE p.prosecdef AND NOT ($PINNED)")" "" \
   "every SECURITY DEFINER function has search_path = pg_catalog, pg_temp"
is "$(D -c "SELECT coalesce(string_agg(p.oid::regprocedure::text, ', '), '') $MEMBERS
             JOIN pg_language l ON l.oid = p.prolang WHERE l.lanname = 'plpgsql' AND NOT ($PINNED)")" "" \
   "every PL/pgSQL function has search_path = pg_catalog, pg_temp"
# the check sees an unpinned SECURITY DEFINER function
is "$(D -c "BEGIN" -c "ALTER FUNCTION expire_troubleshooting_sessions() RESET search_path" \
        -c "SELECT string_agg(p.oid::regprocedure::text, ', ') $MEMBERS WHERE p.prosecdef AND NOT ($PINNED)" -c "ROLLBACK")" \
   "expire_troubleshooting_sessions()" "the check reports an unpinned SECURITY DEFINER function"

# a plain role cannot attach the owner's SECURITY DEFINER trigger functions to a table of its own
D -c "CREATE ROLE ts_priv_user LOGIN" -c "GRANT CREATE ON SCHEMA public TO ts_priv_user" >/dev/null
is "$(psql -X -qAt -U ts_priv_user -d ts_privileges -c "CREATE TABLE public.mine (session_id text, status text)" \
        -c "CREATE TRIGGER t AFTER UPDATE ON public.mine FOR EACH ROW EXECUTE FUNCTION ts_feedback_request()" 2>&1 |
    grep -o 'permission denied for function ts_feedback_request')" \
   "permission denied for function ts_feedback_request" "CREATE TRIGGER with an extension trigger function is refused"

q -c "DROP DATABASE ts_privileges" >/dev/null
q -c "DROP ROLE ts_priv_user" >/dev/null
done_testing
