-- Email and SMS providers: settings validated per provider, stored with
-- defaults, shown with secrets masked; errors never contain a secret.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS troubleshooting CASCADE;
CREATE EXTENSION troubleshooting;
RESET client_min_messages;

-- every provider, accepted; the stored settings get their defaults
SELECT set_troubleshooting_provider('email', 'smtp',
    '{"url": "smtp://mail.example.com:587", "username": "app", "password": "pw-1",
      "from": "Support <support@example.com>"}');
SELECT channel, provider, settings, updated_by = current_user AS by_me,
       updated_at > now() - interval '1 minute' AS just_now
FROM support_troubleshooting_providers;
SELECT set_troubleshooting_provider('email', 'smtp',
    '{"url": "smtps://mail.example.com", "from": "support@example.com", "ca_file": "/etc/ssl/private-ca.pem"}');
SELECT settings FROM support_troubleshooting_providers WHERE channel = 'email';
SELECT set_troubleshooting_provider('email', 'smtp',
    '{"url": "smtp://127.0.0.1:2525/", "from": "support@example.com", "tls": "none"}');
SELECT set_troubleshooting_provider('email', 'smtp',
    '{"url": "smtp://[::1]:2525", "from": "support@example.com", "tls": "none"}');
SELECT set_troubleshooting_provider('email', 'smtp',
    '{"url": "smtp://localhost", "from": "support@example.com", "tls": "none"}');
SELECT set_troubleshooting_provider('email', 'sendgrid',
    '{"api_key": "env:SENDGRID_API_KEY", "from": "\"Acme Support\" <support@example.com>"}');
SELECT provider, settings FROM support_troubleshooting_providers WHERE channel = 'email';
SELECT set_troubleshooting_provider('email', 'mailgun',
    '{"api_key": "env:EMAIL_API_KEY", "domain": "mg.example.com", "from": "support@example.com",
      "base_url": "https://api.eu.mailgun.net/"}');
SELECT provider, settings FROM support_troubleshooting_providers WHERE channel = 'email';
SELECT set_troubleshooting_provider('email', 'ses',
    '{"access_key_id": "AKIDEXAMPLE", "secret_access_key": "env:AWS_SECRET_ACCESS_KEY",
      "region": "eu-west-1", "from": "support@example.com", "session_token": "tok-1"}');
SELECT provider, settings FROM support_troubleshooting_providers WHERE channel = 'email';
SELECT set_troubleshooting_provider('sms', 'twilio',
    '{"account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "env:SMS_API_KEY",
      "from": "+14155550100"}');
SELECT set_troubleshooting_provider('sms', 'twilio',
    '{"account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "tw-secret",
      "from": "Acme Help"}');
SELECT set_troubleshooting_provider('sms', 'twilio',
    '{"account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "tw-secret",
      "messaging_service_sid": "MG0123456789abcdef0123456789abcdef", "base_url": "http://127.0.0.1:8080"}');
SELECT provider, settings FROM support_troubleshooting_providers WHERE channel = 'sms';
SELECT set_troubleshooting_provider('sms', 'sns',
    '{"access_key_id": "env:AWS_ACCESS_KEY_ID", "secret_access_key": "env:AWS_SECRET_ACCESS_KEY",
      "region": "us-gov-west-1"}');
SELECT provider, settings FROM support_troubleshooting_providers WHERE channel = 'sms';
-- one row per channel: the last call wins
SELECT count(*) AS rows FROM support_troubleshooting_providers;

-- wrong channel, provider, shape
SELECT set_troubleshooting_provider('fax', 'smtp', '{}');
SELECT set_troubleshooting_provider('email', 'postmark', '{}');
SELECT set_troubleshooting_provider('sms', 'sendgrid', '{}');
SELECT set_troubleshooting_provider('email', 'twilio', '{}');
SELECT set_troubleshooting_provider('email', 'sendgrid', NULL);
SELECT set_troubleshooting_provider('email', 'sendgrid', '["api_key"]');
-- unknown, non-string, missing settings
SELECT set_troubleshooting_provider('email', 'sendgrid', '{"api_key": "k", "from": "a@example.com", "region": "x"}');
SELECT set_troubleshooting_provider('email', 'sendgrid', '{"api_key": "k", "from": "a@example.com", "SG.abc.def": "x"}');
SELECT set_troubleshooting_provider('email', 'sendgrid', '{"api_key": 12345, "from": "a@example.com"}');
SELECT set_troubleshooting_provider('email', 'sendgrid', '{"api_key": "k"}');
SELECT set_troubleshooting_provider('email', 'mailgun', '{"api_key": "k", "from": "a@example.com"}');
SELECT set_troubleshooting_provider('sms', 'sns', '{"access_key_id": "a", "secret_access_key": "b"}');
-- invalid values
SELECT set_troubleshooting_provider('email', 'smtp', '{"url": "mail.example.com:25", "from": "a@example.com"}');
SELECT set_troubleshooting_provider('email', 'smtp', '{"url": "smtp://mail.example.com:99999", "from": "a@example.com"}');
SELECT set_troubleshooting_provider('email', 'smtp', '{"url": "smtp://mail.example.com/x", "from": "a@example.com"}');
SELECT set_troubleshooting_provider('email', 'smtp', '{"url": "smtp://mail.example.com", "from": "not-an-address"}');
SELECT set_troubleshooting_provider('email', 'smtp', '{"url": "smtp://mail.example.com", "from": "Support <a@b>"}');
SELECT set_troubleshooting_provider('email', 'smtp', '{"url": "smtp://mail.example.com", "from": "a@example.com", "tls": "maybe"}');
SELECT set_troubleshooting_provider('email', 'smtp', '{"url": "smtp://mail.example.com", "from": "a@example.com", "ca_file": "ca.pem"}');
SELECT set_troubleshooting_provider('email', 'smtp', '{"url": "smtp://mail.example.com", "from": "a@example.com", "username": ""}');
SELECT set_troubleshooting_provider('email', 'sendgrid', '{"api_key": "k", "from": "a@example.com", "base_url": "ftp://x.example"}');
SELECT set_troubleshooting_provider('email', 'sendgrid', '{"api_key": "k", "from": "a@example.com", "base_url": "https://x.example/?a=1"}');
SELECT set_troubleshooting_provider('email', 'sendgrid', '{"api_key": "env:lower_case", "from": "a@example.com"}');
SELECT set_troubleshooting_provider('email', 'sendgrid', '{"api_key": "env:", "from": "a@example.com"}');
SELECT set_troubleshooting_provider('email', 'mailgun', '{"api_key": "k", "domain": "localhost", "from": "a@example.com"}');
SELECT set_troubleshooting_provider('email', 'ses', '{"access_key_id": "a", "secret_access_key": "b", "region": "Europe", "from": "a@example.com"}');
SELECT set_troubleshooting_provider('sms', 'twilio', '{"account_sid": "SK0123456789abcdef0123456789abcdef", "auth_token": "t", "from": "+14155550100"}');
SELECT set_troubleshooting_provider('sms', 'twilio', '{"account_sid": "AC12/../x", "auth_token": "t", "from": "+14155550100"}');
SELECT set_troubleshooting_provider('sms', 'twilio', '{"account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "t", "from": "14155550100"}');
SELECT set_troubleshooting_provider('sms', 'twilio', '{"account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "t", "from": "TooLongSenderId"}');
SELECT set_troubleshooting_provider('sms', 'twilio', '{"account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "t", "messaging_service_sid": "PN0123456789abcdef0123456789abcdef"}');
-- rules across settings
SELECT set_troubleshooting_provider('email', 'smtp', '{"url": "smtp://mail.example.com", "from": "a@example.com", "tls": "implicit"}');
SELECT set_troubleshooting_provider('email', 'smtp', '{"url": "smtps://mail.example.com", "from": "a@example.com", "tls": "required"}');
SELECT set_troubleshooting_provider('email', 'smtp', '{"url": "smtp://mail.example.com", "from": "a@example.com", "tls": "none"}');
SELECT set_troubleshooting_provider('email', 'smtp', '{"url": "smtp://127.0.0.2", "from": "a@example.com", "tls": "none"}');
SELECT set_troubleshooting_provider('email', 'smtp', '{"url": "smtp://mail.example.com", "from": "a@example.com", "password": "pw"}');
SELECT set_troubleshooting_provider('sms', 'twilio', '{"account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "t"}');
SELECT set_troubleshooting_provider('sms', 'twilio', '{"account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "t",
    "from": "+14155550100", "messaging_service_sid": "MG0123456789abcdef0123456789abcdef"}');
-- errors changed nothing
SELECT channel, provider FROM support_troubleshooting_providers ORDER BY channel;

-- no error message, detail or hint ever contains a secret
DO $$
DECLARE
    c record;
    failed boolean;
    msg text;
    det text;
    hint text;
BEGIN
    FOR c IN SELECT * FROM (VALUES
        ('email', 'sendgrid', jsonb_build_object('api_key', E'SG.TopSecret\n1', 'from', 'a@example.com'), 'TopSecret'),
        ('email', 'sendgrid', jsonb_build_object('api_key', 'SG.TopSecret', 'from', 'nobody'), 'TopSecret'),
        ('email', 'sendgrid', jsonb_build_object('api_key', 'env:TopSecret-1', 'from', 'a@example.com'), 'TopSecret'),
        ('email', 'sendgrid', jsonb_build_object('api_key', 'SG.TopSecret', 'from', 'a@example.com', 'api-key', 'x'), 'TopSecret'),
        ('email', 'sendgrid', jsonb_build_object('SG.TopSecret.key', 'x', 'from', 'a@example.com'), 'TopSecret'),
        ('email', 'smtp', jsonb_build_object('url', 'smtp://app:TopSecret@mail.example.com', 'from', 'a@example.com'), 'TopSecret'),
        ('email', 'smtp', jsonb_build_object('url', 'smtp://mail.example.com', 'from', 'a@example.com', 'password', 'TopSecret'), 'TopSecret'),
        ('email', 'ses', jsonb_build_object('access_key_id', 'AKIATOPSECRET', 'secret_access_key', E'TopSecret\r', 'region', 'us-east-1', 'from', 'a@example.com'), 'TopSecret'),
        ('email', 'ses', jsonb_build_object('access_key_id', E'AKIA\tTOPSECRET', 'secret_access_key', 'x', 'region', 'us-east-1', 'from', 'a@example.com'), 'TOPSECRET'),
        ('sms', 'twilio', jsonb_build_object('account_sid', 'AC0123456789abcdef0123456789abcdef', 'auth_token', E'TopSecret\n', 'from', '+14155550100'), 'TopSecret'),
        ('sms', 'twilio', jsonb_build_object('account_sid', 'TopSecret', 'auth_token', 'TopSecret', 'from', '+14155550100'), 'TopSecret'),
        ('sms', 'sns', jsonb_build_object('access_key_id', 'a', 'secret_access_key', 'b', 'region', 'us-east-1', 'session_token', E'TopSecret\u0001'), 'TopSecret')
    ) v(channel, provider, settings, secret)
    LOOP
        failed := false;
        BEGIN
            PERFORM set_troubleshooting_provider(c.channel, c.provider, c.settings);
        EXCEPTION WHEN invalid_parameter_value THEN
            failed := true;
            GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
            IF strpos(concat_ws(' ', msg, det, hint), c.secret) > 0 THEN
                RAISE EXCEPTION 'the error shows the secret: % / %', msg, det;
            END IF;
            RAISE NOTICE '% | %', msg, det;
        END;
        IF NOT failed THEN
            RAISE EXCEPTION 'no error for %', c.provider;
        END IF;
    END LOOP;
END
$$;

-- troubleshooting_providers(): secrets masked, env: references shown
SELECT set_troubleshooting_provider('email', 'smtp',
    '{"url": "smtp://mail.example.com", "username": "app", "password": "pw-secret", "from": "a@example.com"}');
SELECT set_troubleshooting_provider('sms', 'twilio',
    '{"account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "tw-secret", "from": "+14155550100"}');
SELECT channel, provider, settings FROM troubleshooting_providers();
SELECT set_troubleshooting_provider('email', 'ses',
    '{"access_key_id": "AKIAEXAMPLE", "secret_access_key": "env:AWS_SECRET", "region": "us-east-1",
      "from": "a@example.com", "session_token": "st-secret"}');
SELECT channel, provider, settings FROM troubleshooting_providers();
-- a row written directly with an unexpected key: masked too
UPDATE support_troubleshooting_providers SET settings = settings || '{"webhook_key": "wh-secret"}' WHERE channel = 'email';
SELECT settings FROM troubleshooting_providers() WHERE channel = 'email';
SELECT count(*) FILTER (WHERE settings::text ~ '(pw|st|wh|tw)-secret|AKIAEXAMPLE') AS secrets_shown
FROM troubleshooting_providers();

-- permissions: the table is the owner's; the masked view needs EXECUTE
CREATE ROLE ts_ops;
SET ROLE ts_ops;
SELECT * FROM support_troubleshooting_providers;
SELECT * FROM troubleshooting_providers();
SELECT set_troubleshooting_provider('email', 'sendgrid', '{"api_key": "k", "from": "a@example.com"}');
RESET ROLE;
GRANT EXECUTE ON FUNCTION troubleshooting_providers() TO ts_ops;
SET ROLE ts_ops;
SELECT channel, provider, settings ->> 'session_token' AS session_token FROM troubleshooting_providers();
SELECT * FROM support_troubleshooting_providers;
RESET ROLE;
DROP OWNED BY ts_ops;
DROP ROLE ts_ops;
