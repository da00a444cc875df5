-- bench/catalogue.sql: the sample catalogue that bench/generate_data.sql (the
-- history) and bench/traffic.sql (the live demo traffic) share: the problems
-- the agent detects, with their weights, resolution and escalation rates,
-- median minutes and fix steps (gen_problems; gen_pick adds the cumulative
-- weight for picking one with a single random number), and the customers'
-- first and last names (gen_names, 300 pairs).  Temporary tables dropped at
-- commit: include it (\ir) inside the caller's transaction.  No random() here,
-- so a seeded load stays the same.

CREATE TEMP TABLE gen_problems (
    n int, problem_id text, title text, weight int,
    p_resolve float8, p_escalate float8, median_minutes float8, steps text[]
) ON COMMIT DROP;

INSERT INTO gen_problems VALUES
 (1, 'wifi_drops', 'Wi-Fi keeps disconnecting', 18, 0.78, 0.12, 14,
  ARRAY['Restart the router', 'Move closer to the access point', 'Forget and rejoin the network', 'Update the Wi-Fi driver', 'Change the wireless channel']),
 (2, 'no_internet', 'No internet connection', 15, 0.72, 0.18, 18,
  ARRAY['Check the cables', 'Power-cycle the modem', 'Renew the IP address', 'Reset network settings', 'Check for an outage']),
 (3, 'slow_connection', 'Connection is slow', 12, 0.65, 0.15, 22,
  ARRAY['Run a speed test', 'Close bandwidth-heavy apps', 'Switch to 5 GHz', 'Update router firmware', 'Replace the Ethernet cable']),
 (4, 'password_reset', 'Cannot sign in / password reset', 14, 0.92, 0.05, 6,
  ARRAY['Send the reset link', 'Check the spam folder', 'Clear the browser cache']),
 (5, 'email_sync', 'E-mail not syncing', 9, 0.80, 0.10, 12,
  ARRAY['Check the account settings', 'Remove and re-add the account', 'Check the storage quota', 'Disable the battery saver']),
 (6, 'printer_offline', 'Printer shows offline', 7, 0.70, 0.14, 16,
  ARRAY['Restart the printer', 'Reconnect the printer to Wi-Fi', 'Reinstall the driver', 'Clear the print queue']),
 (7, 'app_crash', 'App crashes on start', 8, 0.60, 0.25, 20,
  ARRAY['Update the app', 'Clear the app data', 'Reinstall the app', 'Update the operating system', 'Send the crash log']),
 (8, 'billing_question', 'Unexpected charge on the bill', 6, 0.55, 0.40, 9,
  ARRAY['Explain the invoice lines', 'Check the plan changes', 'Open a billing ticket']),
 (9, 'tv_no_signal', 'TV box shows no signal', 5, 0.74, 0.16, 15,
  ARRAY['Check the HDMI input', 'Restart the TV box', 'Reseat the HDMI cable', 'Factory-reset the box']),
 (10, 'vpn_fails', 'VPN will not connect', 4, 0.58, 0.30, 25,
  ARRAY['Check the credentials', 'Switch the VPN protocol', 'Allow the VPN in the firewall', 'Reinstall the VPN client', 'Sync the system clock']),
 (11, 'phone_no_service', 'Phone has no service', 2, 0.50, 0.35, 19,
  ARRAY['Toggle airplane mode', 'Reseat the SIM card', 'Reset the APN settings', 'Check for a carrier outage']);

-- cumulative weights for picking a problem with one random number
CREATE TEMP TABLE gen_pick ON COMMIT DROP AS
SELECT *, sum(weight) OVER (ORDER BY n)::float8 / sum(weight) OVER () AS cum FROM gen_problems;

CREATE TEMP TABLE gen_names (i int, first text, last text) ON COMMIT DROP;
INSERT INTO gen_names
SELECT row_number() OVER (), f, l FROM
  unnest(ARRAY['Juan', 'María', 'José', 'Ana', 'Luis', 'Sofía', 'Chloé', 'Noah', 'Emma', 'Liam',
               'Olivia', 'Mateo', 'Zoë', 'Lucas', 'Mia', 'Ethan', 'Amélie', 'Björn', 'Aisha', 'Kenji']) f,
  unnest(ARRAY['Pérez', 'García', 'Smith', 'Johnson', 'Müller', 'Rossi', 'Dubois', 'Nakamura',
               'O''Brien', 'Novák', 'Silva', 'Kowalski', 'Brown', 'Martínez', 'Nguyen']) l;
