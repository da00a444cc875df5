#!/usr/bin/env bash
# Self-test of test/run's bookkeeping (test/lib.sh), on made-up files: the
# crash scan finds a segfault, an abort, a PANIC, a failed assertion, a
# SIGKILL nobody recorded, a backend that died without cleaning up, a
# sanitizer report in a log or in a report file, and a registered log that is
# gone; it ignores a SIGKILL a test sent to a pid it recorded, and clean logs.
# TAP counting never counts a "# SKIP" as a pass.
set -u
. "$(dirname "$0")/selftest_lib.sh"
. "$here/lib.sh"

# Writes a clean server log to $1 (what a healthy run logs).
clean_log() {
    mkdir -p "$(dirname "$1")"
    cat > "$1" <<'LOG'
2026-01-01 00:00:00.000 UTC [100] LOG:  database system is ready to accept connections
2026-01-01 00:00:01.000 UTC [101] LOG:  background worker "troubleshooting dispatcher" (PID 101) exited with exit code 1
2026-01-01 00:00:02.000 UTC [102] psql ERROR:  invalid value for configuration key "x"
2026-01-01 00:00:02.000 UTC [102] psql STATEMENT:  SELECT 'a panic'
2026-01-01 00:00:03.000 UTC [100] LOG:  received fast shutdown request
LOG
}
# Runs the scan over logs $@ (relative to $tmp) with the pids in $tmp/killed; prints its status.
scan() {
    local l
    : > "$tmp/list"
    for l in "$@"; do echo "$tmp/$l" >> "$tmp/list"; done
    ts_scan_logs "$tmp/list" "$tmp/killed" "$tmp/san" > "$tmp/scan.out" 2>&1
    echo $?
}

: > "$tmp/killed"
mkdir -p "$tmp/san"
clean_log "$tmp/main/server.log"
clean_log "$tmp/standby/server.log"
expect "clean logs pass" "$(scan main/server.log standby/server.log)" 0

# one finding in an extra cluster's log, each kind in turn
i=0
while IFS= read -r line; do
    i=$((i + 1))
    clean_log "$tmp/c$i/server.log"
    echo "$line" >> "$tmp/c$i/server.log"
    expect "found in the second cluster's log: ${line:0:90}" "$(scan main/server.log c$i/server.log)" 1
    grep -qF "c$i/server.log: $line" "$tmp/scan.out"
    check "the finding is printed with its log's name ($i)" [ $? = 0 ]
done <<'LINES'
2026-01-01 00:00:04.000 UTC [100] LOG:  server process (PID 4242) was terminated by signal 11: Segmentation fault
2026-01-01 00:00:04.000 UTC [100] LOG:  background worker "troubleshooting maintenance" (PID 4243) was terminated by signal 6: Aborted
2026-01-01 00:00:04.000 UTC [100] LOG:  background worker "troubleshooting dispatcher" (PID 4244) was terminated by signal 9: Killed
2026-01-01 00:00:04.000 UTC [100] LOG:  server process (PID 4245) exited with exit code 1
2026-01-01 00:00:04.000 UTC [4246] psql PANIC:  could not write to file "pg_wal/xlogtemp.4246": No space left on device
TRAP: FailedAssertion("depth >= 0", File: "src/notify/template.c", Line: 120, PID: 4247)
==4248==ERROR: AddressSanitizer: heap-use-after-free on address 0x602000000010 at pc 0x7f0 bp 0x7ff sp 0x7fe
src/http/endpoints.c:42:7: runtime error: load of null pointer of type 'char'
SUMMARY: UndefinedBehaviorSanitizer: undefined-behavior src/http/endpoints.c:42:7
LINES

# a SIGKILL a test sent on purpose, and only that pid
clean_log "$tmp/k/server.log"
echo '2026-01-01 00:00:05.000 UTC [100] LOG:  background worker "troubleshooting dispatcher" (PID 5150) was terminated by signal 9: Killed' >> "$tmp/k/server.log"
expect "an unrecorded SIGKILL is a finding" "$(scan k/server.log)" 1
echo 515 > "$tmp/killed"; echo 51500 >> "$tmp/killed"
expect "a recorded pid that only shares digits does not excuse it" "$(scan k/server.log)" 1
echo 5150 >> "$tmp/killed"
expect "a SIGKILL sent to a recorded pid is ignored" "$(scan k/server.log)" 0
echo '2026-01-01 00:00:06.000 UTC [100] LOG:  server process (PID 5150) was terminated by signal 11: Segmentation fault' >> "$tmp/k/server.log"
expect "a recorded pid excuses its SIGKILL, not another signal" "$(scan k/server.log)" 1

# a registered log that a test removed
expect "a registered log that is gone is a finding" "$(scan main/server.log gone/server.log)" 1

# sanitizer report files
printf '==77==ERROR: AddressSanitizer: stack-buffer-overflow\n' > "$tmp/san/asan.77"
expect "a sanitizer report file is a finding" "$(scan main/server.log)" 1
grep -q "asan.77" "$tmp/scan.out"
check "the report file is named" [ $? = 0 ]
rm "$tmp/san/asan.77"; : > "$tmp/san/ubsan.78"
expect "an empty report file is not" "$(scan main/server.log)" 0

# TAP counting
cat > "$tmp/tap" <<'TAP'
ok 1 - a pass
not ok 2 - a failure
ok 3 # SKIP no IPv6 loopback on this machine
ok 4 - channel #ops gets it # skip not configured
ok 5 - channel #ops gets it
not ok 6 - todo # TODO later
# ok 7 - a comment is not a test
TAP
expect "TAP: passes, failures and skips counted apart" "$(ts_tap_counts "$tmp/tap")" "2 2 2"

echo "1..$n"
[ "$failed" -eq 0 ]
