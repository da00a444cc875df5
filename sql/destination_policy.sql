-- The destination policy, asked without connecting: every address range
-- with private destinations off and on, IPv6 forms carrying an IPv4 address,
-- schemes, ports, host names and odd URLs.  Nothing here opens a connection
-- or resolves a name.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS troubleshooting CASCADE;
CREATE EXTENSION troubleshooting;
RESET client_min_messages;

CREATE TEMP TABLE urls (n serial, url text);
INSERT INTO urls (url) VALUES
    -- IPv4: metadata and link-local (never), then every non-public range
    ('http://169.254.169.254/latest/meta-data'),
    ('http://169.254.170.2/v2/credentials'),
    ('http://100.100.100.200/latest/meta-data'),
    ('http://192.0.0.192/latest/'),
    ('http://168.63.129.16/machine'),
    ('http://0.0.0.0/'),
    ('http://10.1.2.3/'),
    ('http://100.64.0.1/'),
    ('http://100.127.255.254/'),
    ('http://127.0.0.1:8080/hook'),
    ('http://127.255.255.254/'),
    ('http://172.16.0.1/'),
    ('http://172.31.255.255/'),
    ('http://192.0.0.8/'),
    ('http://192.0.2.1/'),
    ('http://192.88.99.1/'),
    ('http://192.168.1.1/'),
    ('http://198.18.0.1/'),
    ('http://198.19.255.255/'),
    ('http://198.51.100.7/'),
    ('http://203.0.113.9/'),
    ('http://224.0.0.1/'),
    ('http://240.0.0.1/'),
    ('http://255.255.255.255/'),
    -- IPv4 public, including the neighbours of the ranges above
    ('https://93.184.215.14/'),
    ('http://100.63.255.255/'),
    ('http://100.128.0.0/'),
    ('http://100.100.100.201/'),
    ('http://169.253.255.255/'),
    ('http://172.15.255.255/'),
    ('http://172.32.0.0/'),
    ('http://192.0.1.1/'),
    ('http://198.17.255.255/'),
    ('http://198.20.0.0/'),
    ('http://223.255.255.255/'),
    -- IPv4 written the other ways libcurl and the resolver accept
    ('http://2852039166/'),
    ('http://0xa9.0xfe.0xa9.0xfe/'),
    ('http://0251.0376.0251.0376/'),
    ('http://169.254.43518/'),
    ('http://127.1/'),
    -- IPv6: metadata and link-local, then every non-public range
    ('http://[fd00:ec2::254]/latest'),
    ('http://[fd20:ce::254]/'),
    ('http://[fe80::1]/'),
    ('http://[fe80::1%25eth0]/'),
    ('http://[febf:ffff::1]/'),
    ('http://[::]/'),
    ('http://[::1]:8080/'),
    ('http://[100::1]/'),
    ('http://[2001:db8::1]/'),
    ('http://[2001:2::1]/'),
    ('http://[2001:10::1]/'),
    ('http://[3fff::1]/'),
    ('http://[fec0::1]/'),
    ('http://[feff::1]/'),
    ('http://[fc00::1]/'),
    ('http://[fd12:3456::1]/'),
    ('http://[ff02::1]/'),
    ('http://[4000::1]/'),
    ('http://[1::1]/'),
    -- IPv6 public
    ('https://[2606:4700::1111]/'),
    ('https://[2a00:1450:4001::1]/'),
    -- IPv6 forms that embed an IPv4 address get its rules
    ('http://[::ffff:169.254.169.254]/'),
    ('http://[::ffff:a9fe:a9fe]/'),
    ('http://[::ffff:10.0.0.1]/'),
    ('http://[::ffff:127.0.0.1]/'),
    ('http://[::ffff:8.8.8.8]/'),
    ('http://[::ffff:0:169.254.169.254]/'),
    ('http://[::ffff:0:8.8.8.8]/'),
    ('http://[::169.254.169.254]/'),
    ('http://[::10.0.0.1]/'),
    ('http://[::8.8.8.8]/'),
    ('http://[64:ff9b::169.254.169.254]/'),
    ('http://[64:ff9b::a9fe:a9fe]/'),
    ('http://[64:ff9b::100.100.100.200]/'),
    ('http://[64:ff9b::192.168.0.1]/'),
    ('http://[64:ff9b::8.8.8.8]/'),
    ('http://[64:ff9b:1::169.254.169.254]/'),
    ('http://[64:ff9b:1:a9fe:a9:fe00::]/'),
    ('http://[64:ff9b:1::8.8.8.8]/'),
    ('http://[2002:a9fe:a9fe::1]/'),
    ('http://[2002:c0a8:0101::1]/'),
    ('http://[2002:0808:0808::1]/'),
    ('http://[2001:0:4136:e378:8000:63bf:5601:5601]/'),
    ('http://[2001:0:4136:e378:8000:63bf:3f57:fefd]/'),
    -- localhost is loopback without DNS; other names are checked at send time
    ('http://localhost:8080/'),
    ('http://LOCALHOST./'),
    ('http://api.localhost/'),
    ('https://hooks.slack.com/services/T/B/X'),
    ('https://metadata.google.internal/computeMetadata/v1/'),
    ('http://localhost.example.com/'),
    -- userinfo and fragments: the host libcurl would connect to decides
    ('http://127.0.0.1:80@169.254.169.254/'),
    ('http://user:pw@169.254.169.254/'),
    ('http://8.8.8.8#@169.254.169.254/'),
    ('http://169.254.169.254?@8.8.8.8/'),
    -- schemes
    ('HTTPS://8.8.8.8/'),
    ('smtp://8.8.8.8:587'),
    ('smtps://169.254.169.254'),
    ('ftp://8.8.8.8/'),
    ('file:///etc/passwd'),
    ('gopher://127.0.0.1:25/'),
    ('javascript:alert(1)'),
    ('//8.8.8.8/'),
    ('8.8.8.8'),
    ('http:8.8.8.8'),
    -- ports: the policy has no rules for them, libcurl's URL rules apply
    ('http://8.8.8.8:1/'),
    ('http://8.8.8.8:65535/'),
    ('http://8.8.8.8:65536/'),
    ('http://8.8.8.8:-1/'),
    ('http://8.8.8.8:http/'),
    ('http://169.254.169.254:443/'),
    -- odd URLs
    (''),
    ('http://'),
    ('http:///x'),
    ('http://[::1/'),
    ('http://[169.254.169.254]/'),
    ('http://8.8.8.8 /'),
    (E'http://8.8.8.8/\r\nX-Injected: 1'),
    ('http://169.254.169.254.nip.io/'),
    ('http://' || repeat('a', 300) || '.example/');

SHOW troubleshooting.allow_private_destinations;
SELECT n, left(url, 60) AS url, troubleshooting_destination_policy(url) FROM urls ORDER BY n;

-- a superuser may SET the setting in a session to ask what the other one says
SET troubleshooting.allow_private_destinations = on;
SELECT n, left(url, 60) AS url, troubleshooting_destination_policy(url) FROM urls ORDER BY n;
RESET troubleshooting.allow_private_destinations;

SELECT troubleshooting_destination_policy(NULL) IS NULL AS null_in_null_out;
-- a long URL is answered, not crashed on
SELECT troubleshooting_destination_policy('http://8.8.8.8/' || repeat('x', 1000000));

-- PUBLIC may ask (it reads nothing stored); only a superuser may change the setting
CREATE ROLE ts_policy_reader;
SET ROLE ts_policy_reader;
SELECT troubleshooting_destination_policy('http://[64:ff9b::169.254.169.254]/');
SET troubleshooting.allow_private_destinations = on;
RESET ROLE;
DROP ROLE ts_policy_reader;
