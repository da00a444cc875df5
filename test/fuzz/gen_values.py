"""test/fuzz/gen_values.py: inputs of the validators and JSON entry points.

URLs (every scheme, userinfo, IPv4 in decimal/octal/hex, IPv6 with zones,
NAT64, 6to4, mapped and compatible forms, metadata names, percent-encoding,
CR/LF), e-mail addresses and phone numbers, config values per key type,
provider settings, provider status callbacks of each provider's shape,
report filters and documents, report schedules and notification requests.
Each function returns the argument list of one execution (text or None).
"""
from gen_common import (INTERESTING_STRINGS, RawNumber, clean, json_dump, maybe_break_json,
                        mutate_json, mutate_string, rand_json, rand_scalar, rand_string)

# Hosts written into values that could be stored as destinations (enqueue,
# config, schedules, providers): loopback in every spelling, malformed hosts
# and names under .invalid (reserved, never resolved), so that even a row that
# escaped its rollback could reach nothing but loopback.
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]", "2130706433", "0x7f000001", "0177.0.0.1", "127.1",
                  "127.0.0.2", "[::ffff:127.0.0.1]", "[0:0:0:0:0:ffff:7f00:1]", "%31%32%37.0.0.1",
                  "localhost.", "api.localhost", "hooks.invalid", "a" * 300, "", "[", "[::1",
                  "256.256.256.256", "1.2.3.4.5", "-1", "user@hooks.invalid", "xn--nxasmq6b.invalid",
                  "ex\u00e4mple.invalid", "HOOKS.INVALID."]
# Every other range and spelling: only ever given to
# troubleshooting_destination_policy(), which never resolves or connects.
POLICY_ONLY_HOSTS = ["169.254.169.254", "[fd00:ec2::254]", "100.100.100.200", "metadata.google.internal",
                     "10.0.0.1", "192.168.1.1", "172.16.0.1", "0.0.0.0", "[::]", "[::ffff:169.254.169.254]",
                     "[64:ff9b::a9fe:a9fe]", "[2002:a9fe:a9fe::]", "[::a9fe:a9fe]", "[fec0::1]", "198.18.0.1",
                     "192.0.0.170", "[fe80::1%25eth0]", "[fe80::1%eth0]", "hooks.slack.com", "example.com",
                     "0", "[0:0:0:0:0:ffff:a9fe:a9fe]"]
SCHEMES = ["http", "https", "HTTP", "ftp", "file", "gopher", "javascript", "data", "smtp", "smtps",
           "dict", "ldap", "", "ht tp", "http\t", "https+unix"]
CHANNELS = ["email", "sms", "slack", "teams", "discord", "webhook", "fax", "", "EMAIL", None]
CONFIG_KEYS = {
    "integer": ["auto_escalate_after_failures", "default_timeout_minutes", "max_session_duration_hours",
                "retention_days_sessions", "retention_days_notifications", "retention_days_reports",
                "retention_days_ml_training", "report_cache_ttl_minutes", "report_top_problems",
                "report_min_sample", "cleanup_interval_minutes", "llm_timeout_seconds"],
    "boolean": ["enable_llm_enhancement", "feedback_collection_enabled"],
    "ratio": ["report_min_resolution_rate", "report_escalation_rise", "report_step_failure_rate",
              "report_csat_drop", "report_min_feedback_response_rate", "ml_confidence_threshold",
              "llm_temperature"],
    "channel_list": ["notification_channels"],
    "recipient_list": ["escalation_recipients", "timeout_recipients"],
    "failure_count": ["auto_escalate_count"],
    "text": ["email_open_tracking_url", "llm_base_url", "llm_model"],
}
PROVIDERS = {"email": ["smtp", "sendgrid", "mailgun", "ses"], "sms": ["twilio", "sns"]}
SETTING_KEYS = ["url", "username", "password", "from", "tls", "ca_file", "api_key", "base_url",
                "domain", "access_key_id", "secret_access_key", "region", "session_token",
                "account_sid", "auth_token", "messaging_service_sid", "extra"]


def url(r, any_host=False):
    """A URL: built from parts, then sometimes mutated; hosts other than
    loopback only with any_host (for the policy function alone)."""
    host = r.choice(LOOPBACK_HOSTS + POLICY_ONLY_HOSTS if any_host else LOOPBACK_HOSTS)
    u = f"{r.choice(SCHEMES)}://"
    if r.random() < 0.15:
        u += r.choice(["user:pass@", "a@", "@", "x:y@z@", "%40@"])
    u += host
    if r.random() < 0.3:
        u += ":" + r.choice(["80", "443", "0", "65535", "65536", "-1", "99999999999", "", "8o"])
    u += r.choice(["", "/", "/services/T/B/X", "/a/../../b", "/%2e%2e/", "/\r\nX-Injected: 1",
                   "/a b", "/?q=1", "#frag", "/\u00e9", "//x", "/" + "a" * r.randint(1, 5000)])
    if r.random() < 0.1:
        u += "\r\nHost: evil"
    k = r.random()
    if k < 0.15:
        return mutate_string(r, u)
    if k < 0.2:
        return rand_string(r, 40)
    return clean(u)


def email(r):
    """An e-mail address, mostly almost valid."""
    local = r.choice(["a", "john.doe", "x+y", "\"quoted\"", "a..b", ".a", "a.", "é", "a" * 64,
                      "a" * 65, "", "a b", "a,b", "<a>", "a\r\nBcc: x", "o'brien", rand_string(r, 10)])
    dom = r.choice(["example.com", "xn--nxasmq6b.com", "ex\u00e4mple.com", "localhost", "[127.0.0.1]",
                    "a.b", "a..com", ".com", "com.", "-a.com", "a" * 250 + ".com", "", "example.com\n"])
    at = r.choice(["@", "@", "@", "@@", "", " @ "])
    s = local + at + dom
    if r.random() < 0.2:
        s = mutate_string(r, s, 400)
    if r.random() < 0.05:
        s = r.choice(["Name <a@example.com>", "a@example.com, b@example.com", "a@example.com;"])
    return clean(s)


def phone(r):
    """A phone number, mostly almost E.164."""
    digits = "".join(r.choice("0123456789") for _ in range(r.randint(0, 18)))
    s = r.choice(["+", "+", "00", "", "++", "+ ", "\uff0b"]) + digits
    if r.random() < 0.3:
        s = mutate_string(r, s, 40)
    if r.random() < 0.1:
        s = r.choice(["+1 415 555 0100", "+1-415-555-0100", "+14155550100\n", "+١٢٣٤٥٦٧٨٩", "+1415555010O"])
    return clean(s)


def recipient(r, channel):
    """A recipient for a channel (sometimes another channel's kind)."""
    k = r.random()
    if channel == "email" and k < 0.7 or k < 0.1:
        return email(r)
    if channel == "sms" and k < 0.7 or k < 0.2:
        return phone(r)
    if channel == "webhook" and k < 0.7 or k < 0.3:
        return url(r) if r.random() < 0.8 else r.choice(["1", "0", "-1", "999999999999999999999", "1.5"])
    return rand_string(r, 30)


def recipient_case(r):
    """ts_recipient_is_valid(channel, recipient)."""
    ch = r.choice(CHANNELS[:-1])
    return [ch, recipient(r, ch)]


def config_value(r, vtype, key):
    """A value for a config key of type vtype."""
    k = r.random()
    if k < 0.1:
        return None
    if k < 0.25:
        return rand_string(r, 20)
    if vtype == "integer":
        return r.choice(["0", "1", "-1", "2147483647", "2147483648", "99999999999999999999", " 5", "5 ",
                         "+5", "0x10", "1e3", "5.0", "٣", "", "00012", "-0", str(r.randint(0, 100000))])
    if vtype == "boolean":
        return r.choice(["true", "false", "yes", "no", "on", "off", "1", "0", "t", "f", "TRUE", " on",
                         "of", "", "maybe", "y", "n"])
    if vtype == "ratio":
        return r.choice(["0", "1", "0.5", "-0", " ", "", "1.0000001", "-0.1", "1e-10", "NaN", "Infinity",
                         ".5", "5.", "0,5", "1e400", "0." + "1" * 400, " 0.5", str(r.random())])
    if vtype == "channel_list":
        items = [r.choice(CHANNELS[:-1]) or "" for _ in range(r.randint(0, 8))]
        return r.choice([",".join(items), json_dump(items), " , ".join(items), "[" + ",".join(items) + "]"])
    if vtype == "recipient_list":
        out = []
        for _ in range(r.randint(0, 5)):
            ch = r.choice(CHANNELS[:-1]) or ""
            out.append(f"{ch}:{recipient(r, ch)}")
        return ",".join(out)
    if vtype == "failure_count":
        return r.choice(["total", "consecutive", "TOTAL", " total", "", "both"])
    return url(r) if key != "llm_model" else rand_string(r, 40)


def config_case(r):
    """set_troubleshooting_config(key, value) for every key type (and unknown keys)."""
    if r.random() < 0.05:
        return [rand_string(r, 20), rand_string(r, 10)]
    vtype = r.choice(list(CONFIG_KEYS))
    key = r.choice(CONFIG_KEYS[vtype])
    return [key, config_value(r, vtype, key)]


VALID_PROVIDERS = {
    "smtp": {"url": "smtp://127.0.0.1:2525", "from": "Support <support@example.com>", "tls": "none"},
    "sendgrid": {"api_key": "env:EMAIL_API_KEY", "from": "support@example.com"},
    "mailgun": {"api_key": "env:EMAIL_API_KEY", "domain": "mg.example.com", "from": "support@example.com",
                "base_url": "https://api.mailgun.invalid"},
    "ses": {"access_key_id": "env:AWS_ACCESS_KEY_ID", "secret_access_key": "env:AWS_SECRET_ACCESS_KEY",
            "region": "eu-west-1", "from": "support@example.com"},
    "twilio": {"account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "env:SMS_API_KEY",
               "from": "+14155550100"},
    "sns": {"access_key_id": "env:AWS_ACCESS_KEY_ID", "secret_access_key": "env:AWS_SECRET_ACCESS_KEY",
            "region": "us-east-1"},
}


def setting_value(r):
    """An odd or plausible value for any provider setting."""
    return r.choice([
        url(r), email(r), phone(r), "env:EMAIL_API_KEY", "env:", "env:1BAD", "env:" + "A" * 300,
        "AC" + "0" * 32, "MG" + "f" * 32, "eu-west-1", "us-east-1\n", "required", "implicit", "none",
        "/etc/ssl/certs/ca-certificates.crt", "../../etc/passwd", rand_scalar(r), "Name <a@b.co>",
        "smtps://127.0.0.1", "smtp://[::1]:25", "smtp://user:pw@127.0.0.1", "\"Quo, ted\" <a@b.co>"])


def provider_case(r):
    """set_troubleshooting_provider(channel, provider, settings): valid settings, then edited."""
    prov = r.choice(list(VALID_PROVIDERS))
    channel = "email" if prov in PROVIDERS["email"] else "sms"
    if r.random() < 0.05:
        channel = r.choice(["email", "sms", "slack", None])
    if r.random() < 0.03:
        prov = r.choice(["x", "", None, "SMTP"])
    s = dict(VALID_PROVIDERS.get(prov, {}))
    for _ in range(r.choice([0, 0, 1, 1, 2, 3])):
        op = r.random()
        if op < 0.6 or not s:
            s[r.choice(list(s) if s and r.random() < 0.7 else SETTING_KEYS)] = setting_value(r)
        elif op < 0.8:
            del s[r.choice(list(s))]
        else:
            k = r.choice(list(s))
            s[k] = mutate_string(r, s[k]) if isinstance(s[k], str) else s[k]
    v = s if r.random() < 0.97 else rand_json(r, 2)
    return [channel, prov, maybe_break_json(r, json_dump(v))]


def enqueue_case(r):
    """send_troubleshooting_notification(...): half valid calls with one or two edits, half random."""
    if r.random() < 0.5:
        return _enqueue_random(r)
    ch = r.choice(["email", "sms", "slack", "teams", "discord", "webhook"])
    rcpt = {"email": "ops@example.com", "sms": "+14155550100", "webhook": "https://hooks.invalid/hook"}.get(ch, "#ops")
    meta = {"webhook_url": "https://hooks.invalid/services/T/B/X"} if ch in ("slack", "teams", "discord") else {}
    args = [ch, rcpt, "session_escalated", json_dump({"session_id": "fz-1", "customer_name": "Juan P\u00e9rez",
                                                     "failed_attempts": 3}), "high", json_dump(meta), None, None]
    rnd = _enqueue_random(r)
    for i in r.sample(range(8), r.choice([0, 1, 1, 2])):
        args[i] = rnd[i]
    return args


def _enqueue_random(r):
    """send_troubleshooting_notification(channel, recipient, template, data, priority, metadata, key, after)."""
    ch = r.choice(CHANNELS)
    meta = {}
    if r.random() < 0.5:
        meta["webhook_url"] = url(r)
    if r.random() < 0.2:
        meta["attachments"] = [{"filename": r.choice(["a.pdf", "", "../x", "a\"b", "a/b", "é" * 300]),
                                "content_type": r.choice(["application/pdf", "x", "a/b/c", "text/plain\r\n"]),
                                "content": r.choice(["aGVsbG8=", "!!", "", "a" * 1001, None])}
                               for _ in range(r.randint(0, 3))]
    if r.random() < 0.1:
        meta = rand_json(r, 2)
    tmpl = r.choice(["session_started", "session_escalated", "session_resolved", "feedback_request",
                     "session_timed_out", "report_ready", None, "", "nope", rand_string(r, 10)])
    data = rand_json(r, 3) if r.random() < 0.3 else {
        "session_id": r.choice(["fz-1", "fz-2", "nope", rand_string(r, 10)]), "customer_name": rand_scalar(r),
        "feedback_url": url(r), "failed_attempts": rand_scalar(r)}
    key = r.choice([None, None, "k1", "", "a" * 300, "a\r\nX-Injected: 1", "<id@x>", rand_string(r, 20)])
    after = r.choice([None, None, "now", "infinity", "-infinity", "294276-01-01", "2030-01-01", "x"])
    return [ch, recipient(r, ch or ""), tmpl, maybe_break_json(r, json_dump(data)),
            r.choice(["low", "normal", "high", "critical", "", "urgent", None]),
            maybe_break_json(r, json_dump(meta)), key, after]


def bulk_case(r):
    """send_troubleshooting_notifications_bulk(configs, data)."""
    configs = []
    for _ in range(r.randint(0, 6)):
        c = enqueue_case(r)
        item = {"channel": c[0], "recipient": c[1], "template": c[2], "priority": c[4],
                "idempotency_key": c[6]}
        if r.random() < 0.4:
            item["metadata"] = {"webhook_url": url(r)}
        for k in list(item):
            if r.random() < 0.1:
                del item[k]
        configs.append(item if r.random() < 0.9 else rand_scalar(r))
    v = configs if r.random() < 0.9 else rand_json(r, 2)
    data = rand_json(r, 3) if r.random() < 0.5 else {"session_id": "fz-3", "x": rand_scalar(r)}
    return [maybe_break_json(r, json_dump(v)), maybe_break_json(r, json_dump(data))]


def timestamp(r):
    """A timestamp as text (or a number of epoch seconds)."""
    return r.choice(["2030-01-01T10:00:00Z", "2030-01-01 10:00:00", "2030-01-01T10:00:00.123+05:30",
                     "infinity", "-infinity", "294276-12-31 23:59:59", "4713-01-01 BC", "epoch", "now",
                     "", "x", "2030-02-30", "2030-01-01T25:00:00Z", "1e20", "1.5", "-1",
                     "2030-01-01T10:00:00+25:00", None, rand_string(r, 12)])


def _event_item(r, prov):
    """One status callback item in the shape prov sends."""
    mid = r.choice(["msg-2", "msg-3", "msg-4.filter.0", "nope", "", "msg-2.", ".", rand_string(r, 10)])
    ev = lambda names: r.choice(names + [rand_string(r, 6)])  # noqa: E731
    num = lambda: r.choice([RawNumber(x) for x in ["1.5", "0", "-1", "1e20", "1e400", "1700000000",   # noqa: E731
                                                   "-9.9e15", "253402300800"]] + [timestamp(r)])
    if prov == "sendgrid":
        it = {"event": ev(["delivered", "open", "click", "bounce", "dropped", "processed"]),
              "sg_message_id": mid, "timestamp": num()}
    elif prov == "mailgun":
        it = {"event-data": {"event": ev(["delivered", "opened", "clicked", "failed"]),
                             "severity": r.choice(["permanent", "temporary", None]),
                             "timestamp": num(), "message": {"headers": {"message-id": "<" + mid + ">"}}}}
    elif prov == "twilio":
        it = {"MessageSid": mid, "MessageStatus": ev(["delivered", "read", "undelivered", "failed", "sent"]),
              "SmsSid": mid, "SmsStatus": ev(["sent"])}
    elif prov == "ses":
        raw = ev(["Delivery", "Open", "Click", "Reject", "Bounce", "Send"])
        ses = {"eventType": raw, "mail": {"messageId": mid, "timestamp": timestamp(r)},
               raw.lower(): {"timestamp": timestamp(r), "bounceType": r.choice(["Permanent", "Transient"])}}
        if r.random() < 0.5:
            msg = json_dump(ses) if r.random() < 0.9 else mutate_string(r, json_dump(ses))
            it = {"Type": r.choice(["Notification", "SubscriptionConfirmation", None]), "Message": msg,
                  "MessageId": mid}
        else:
            it = ses
    else:
        it = {"status": ev(["SUCCESS", "FAILURE"]), "notification": {"messageId": mid, "timestamp": timestamp(r)}}
    for _ in range(r.randint(0, 2)):
        it = mutate_json(r, it)
    return it


def provider_event_case(r):
    """ingest_troubleshooting_provider_event(provider, payload)."""
    prov = r.choice(["sendgrid", "mailgun", "ses", "twilio", "sns", "sendgrid", "twilio", "x", None])
    items = [_event_item(r, prov or "sns") for _ in range(r.randint(1, 5))]
    v = items if r.random() < 0.5 else items[0]
    if r.random() < 0.05:
        v = rand_json(r, 3)
    return [prov, maybe_break_json(r, json_dump(v))]


def record_event_case(r):
    """record_troubleshooting_notification_event by id or by tracking token."""
    kind = r.choice(["id", "token"])
    ref = (r.choice(["1", "2", "40", "0", "-1", "9223372036854775807", "x", None]) if kind == "id" else
           r.choice(["6a1ae3e42466bbd1b1e4f8bb4ea83a58", "0" * 32, "A" * 32, "", None, rand_string(r, 32)]))
    return [kind, ref, r.choice(["delivered", "read", "failed", "open", "", None]), timestamp(r),
            maybe_break_json(r, json_dump(rand_json(r, 2) if r.random() < 0.5 else {}))]


def filters(r):
    """Report filters: the known keys with values of right and wrong types."""
    f = {}
    opts = {"problem_ids": lambda: [r.choice(["wifi_drops", "vpn", "", rand_string(r, 8)]) for _ in range(r.randint(0, 4))],
            "statuses": lambda: [r.choice(["resolved", "escalated", "started", "x", ""]) for _ in range(r.randint(0, 4))],
            "customer_email_domain": lambda: r.choice(["example1.com", "EXAMPLE2.COM", "", "%", "_", "@x"]),
            "assigned_agent": lambda: r.choice(["ana", "bob", "", "%"]),
            "min_rating": lambda: r.choice([1, 5, 0, 6, 3.5, RawNumber("1e400"), "3", None]),
            "max_rating": lambda: r.choice([1, 5, 0, 6, 2.5, -1, "5", None])}
    for k in r.sample(list(opts), r.randint(0, len(opts))):
        f[k] = opts[k]() if r.random() < 0.85 else rand_json(r, 2)
    if r.random() < 0.1:
        f[rand_string(r, 8)] = rand_scalar(r)
    return f if r.random() < 0.95 else rand_json(r, 2)


def report_case(r):
    """generate_troubleshooting_report(type, start, end, filters, charts, force)."""
    t = r.choice(["daily", "weekly", "monthly", "problem_analysis", "customer_satisfaction", "custom",
                  "custom", "custom"] * 4 + ["yearly", "", None])
    good = lambda: r.choice([None, "2026-10-01", "2026-11-15 12:00+02", "now", "yesterday",  # noqa: E731
                             "2026-11-01", "2026-11-30 23:59:59.999999", "2026-10-25 01:30 Europe/Madrid"])
    odd = lambda: r.choice(["infinity", "-infinity", "1970-01-01", "294276-01-01", "4713-01-01 BC", "x"])  # noqa: E731
    ts = lambda: good() if r.random() < 0.9 else odd()  # noqa: E731
    start, end = ts(), ts()
    if t == "custom" and r.random() < 0.7:
        start, end = "2026-10-01", r.choice(["2026-12-01", "2026-10-02", "2026-10-01 01:00", "now"])
    f = filters(r) if r.random() < 0.7 else {}
    return [t, start, end, maybe_break_json(r, json_dump(f)), r.choice(["true", "false", None]),
            r.choice(["true", "false", None])]


ODD = [RawNumber("-1e308"), RawNumber("1e308"), RawNumber("1e400"), RawNumber("-0"), RawNumber("1e-400"),
       RawNumber("123456789012345678901234567890"), "abc", "", None, True, [], {}, "=HYPERLINK(\"x\")",
       "+cmd", "-1", "@x", "\t=1", "\r=1", "Juan P\u00e9rez", "\u0416\u0436", "\u03a9", "\U0001f600" * 50,
       "a" * 3000, "(", ")", "\\", "%PDF", "\x01\x02", "line\nbreak", "\u202e"]


def report_doc(r, seeds):
    """A report document: a generated one with odd values put into it."""
    doc = r.choice(seeds)
    rate = r.choice([0, 0.005, 0.01, 0.03, 0.08])

    def walk(v, depth):
        if isinstance(v, dict):
            return {k: (r.choice(ODD) if r.random() < rate else walk(x, depth + 1)) for k, x in v.items()
                    if r.random() > rate / 3}
        if isinstance(v, list):
            out = [walk(x, depth + 1) for x in v if r.random() > rate]
            if out and r.random() < 0.05:
                out = out * r.randint(2, 40)             # long tables: page breaks
            return out
        return v
    doc = walk(doc, 0)
    for _ in range(r.choice([0, 0, 0, 1, 2])):
        doc = mutate_json(r, doc)
    if r.random() < 0.03:
        doc = rand_json(r, 3)
    return json_dump(doc)


def export_case(r, seeds, fmts):
    """export_troubleshooting_report(doc, format)."""
    return [report_doc(r, seeds), r.choice(fmts)]


def schedule_case(r):
    """create_troubleshooting_report_schedule's arguments as one JSON object: valid, then edited."""
    rt = r.choice(["daily", "weekly", "monthly", "problem_analysis", "customer_satisfaction"])
    freq = rt if rt in ("daily", "weekly", "monthly") else r.choice(["daily", "weekly", "monthly"])
    a = {"name": "s" + str(r.randrange(10 ** 6)), "report_type": rt, "time_of_day": "07:30",
         "recipients": [{"channel": "email", "recipient": "ops@example.com"},
                        {"channel": "slack", "recipient": "#ops", "webhook_url": "https://hooks.invalid/services/T/B/X"}],
         "time_zone": "Europe/Madrid", "format": r.choice(["pdf", "csv", "json"]),
         "weekday": "1" if freq == "weekly" else None, "month_day": "28" if freq == "monthly" else None,
         "frequency": None if rt == freq else freq, "filters": {}, "include_charts": r.random() < 0.5}
    edits = {
        "name": lambda: r.choice(["", "a" * 101, "x\ny", rand_string(r, 10)]),
        "report_type": lambda: r.choice(["daily", "weekly", "custom", "x"]),
        "time_of_day": lambda: r.choice(["00:00", "23:59:59.999999", "24:00", "25:00", "allballs", "x"]),
        "recipients": lambda: _recipients(r),
        "time_zone": lambda: r.choice(["UTC", "america/new_york", "EST5EDT", "+05:30", "Mars/Olympus", "", None,
                                       "posix/Europe/Madrid", "Etc/GMT+14", "Australia/Lord_Howe"]),
        "format": lambda: r.choice(["xml", None, "PDF"]),
        "weekday": lambda: r.choice([None, "1", "7", "0", "8", "-1"]),
        "month_day": lambda: r.choice([None, "1", "28", "29", "31", "0"]),
        "frequency": lambda: r.choice([None, "daily", "weekly", "monthly", "hourly"]),
        "filters": lambda: filters(r), "include_charts": lambda: r.choice([True, False, None, "x"])}
    for k in r.sample(list(edits), r.choice([0, 1, 1, 2, 3])):
        a[k] = edits[k]()
    return [maybe_break_json(r, json_dump(a))]


def _recipients(r):
    """A recipients array: channels with recipients and webhook URLs of every kind."""
    recips = []
    for _ in range(r.randint(0, 4)):
        ch = r.choice(CHANNELS[:-1])
        it = {"channel": ch, "recipient": recipient(r, ch)}
        if r.random() < 0.5:
            it["webhook_url"] = url(r)
        recips.append(it if r.random() < 0.9 else rand_scalar(r))
    if r.random() < 0.05:
        recips = recips * 40
    return recips if r.random() < 0.95 else rand_json(r, 2)


def schedule_due_case(r):
    """ts_report_schedule_due(frequency, time, zone, weekday, month_day, at, next)."""
    return [r.choice(["daily", "weekly", "monthly", "yearly", "", None]),
            r.choice(["00:00", "02:30", "23:59:59.999999", "24:00", "12:00", None]),
            r.choice(["UTC", "Europe/Madrid", "America/New_York", "Australia/Lord_Howe", "Pacific/Chatham",
                      "Asia/Kathmandu", "America/Sao_Paulo", "x", "", "+14", "Etc/GMT-14", None]),
            r.choice([None, "1", "7", "0", "8", "-2147483648", "2147483647"]),
            r.choice([None, "1", "28", "29", "31", "0", "-1"]),
            r.choice(["2026-03-29 01:30+00", "2026-10-25 00:59:59+00", "infinity", "-infinity", "now",
                      "294276-12-31 23:00+00", "4713-01-01 BC", "2026-02-28", "1999-12-31 23:59:59.999999"]),
            r.choice(["true", "false", None])]


def interesting(r):
    """An interesting string (exported for other generators)."""
    return r.choice(INTERESTING_STRINGS)


def llm_key_case(r):
    """set_troubleshooting_llm_api_key(key)."""
    return [r.choice(["sk-" + "a" * 48, "env:OPENAI_API_KEY", "env:", "env:1X", "env:A-B", "", None, "a b",
                      "k\r\nX: 1", "x" * 4097, "x" * 4096, "\u00e9", rand_string(r, 60)])]


def metrics_case(r):
    """get_troubleshooting_metrics_by_period(period, start, end)."""
    ts = lambda: r.choice(["2026-11-01", "2026-11-30 12:00+02", "now", "infinity", "-infinity",  # noqa: E731
                           "4713-01-01 BC", "294276-01-01", "2026-11-01 00:00:00.000001", None, "x"])
    return [r.choice(["hour", "day", "week", "month", "year", "HOUR", "", None, "minute", rand_string(r, 8)]),
            ts(), ts()]


def cleanup_case(r):
    """cleanup_old_troubleshooting_data(older_than, dry_run): rolled back like every batch."""
    return [r.choice(["1 day", "0", "-1 day", "1000000 years", "infinity", "-infinity", "1 microsecond",
                      "P1Y2M", "x", None, "178000000 years", "1 mon -30 days"]), r.choice(["true", "false", None])]


def ml_case(r):
    """record_troubleshooting_prediction and, sometimes, the correction."""
    sid = r.choice(["fz-1", "fz-2", "fz-300", "nope", "", None, "fz-" + "9" * 300, rand_string(r, 10)])
    pid = r.choice(["wifi_drops", "", None, "x" * r.choice([10, 100000, 1000000]), rand_string(r, 20)])
    conf = r.choice(["0", "1", "0.5", "-0", "1.0000001", "-0.1", "NaN", "Infinity", "1e-400", "x", None, "0.7"])
    corr = r.choice([None, None, "vpn", "", "x" * 100000, rand_string(r, 10)])
    return [sid, pid, conf, corr, r.choice(["ana", "", None, rand_string(r, 10)]),
            r.choice([None, "note", "x" * 10000, rand_string(r, 30)])]
