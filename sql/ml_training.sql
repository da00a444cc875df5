-- ML training data: predictions, corrections (use_for_training rules),
-- export as JSON lines or CSV, accuracy by confidence band.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS troubleshooting CASCADE;
CREATE EXTENSION troubleshooting;
RESET client_min_messages;

INSERT INTO support_troubleshooting_sessions (session_id, problem_description) VALUES
    ('m-1', 'Wi-Fi drops every hour'), ('m-2', 'Printer says "offline", again'),
    ('m-3', 'Cannot log in'), ('m-4', 'TV, no signal'), ('m-5', 'Slow internet');
SELECT record_troubleshooting_prediction('m-1', 'wifi_drops', 0.93) AS p1,
       record_troubleshooting_prediction('m-2', 'no_internet', 0.81) AS p2,
       record_troubleshooting_prediction('m-3', 'password_reset', 0.55) AS p3,
       record_troubleshooting_prediction('m-4', 'tv_no_signal', 0.95) AS p4;
-- a right prediction with high confidence is not needed for training; a low one is
SELECT session_id, predicted_problem_id, confidence_score, use_for_training, problem_description
FROM support_troubleshooting_ml_training ORDER BY id;
-- corrections: a different label always trains; the same label trains when confidence was low
SELECT record_troubleshooting_correction('m-2', 'printer_offline', 'agent.lee', 'printer, not network');
SELECT record_troubleshooting_correction('m-3', 'password_reset', 'agent.kim');
SELECT record_troubleshooting_correction('m-4', 'tv_no_signal', 'agent.kim');
-- a correction without a prediction
SELECT record_troubleshooting_correction('m-5', 'slow_connection', 'agent.ortiz') > 0 AS recorded;
SELECT session_id, predicted_problem_id, corrected_problem_id, corrected_by, correction_notes,
       use_for_training, reviewed_at IS NOT NULL AS reviewed
FROM support_troubleshooting_ml_training ORDER BY id;

SELECT * FROM export_troubleshooting_training_data();
SELECT * FROM export_troubleshooting_training_data('csv');
SELECT count(*) FROM export_troubleshooting_training_data('jsonl', now() + interval '1 day');

SELECT predictions, corrections, accuracy, jsonb_pretty(accuracy_by_band)
FROM get_troubleshooting_model_accuracy(now() - interval '1 day', now() + interval '1 day');
SELECT * FROM get_troubleshooting_model_accuracy('2020-01-01', '2020-02-01');

-- the threshold is configuration, changes apply at once
SELECT set_troubleshooting_config('ml_confidence_threshold', '0.99');
SELECT record_troubleshooting_prediction('m-1', 'wifi_drops', 0.98) AS nid \gset
SELECT use_for_training FROM support_troubleshooting_ml_training WHERE id = :nid;
SELECT set_troubleshooting_config('ml_confidence_threshold', '1.5');
SELECT set_troubleshooting_config('ml_confidence_threshold', 'high');

-- bad input
SELECT record_troubleshooting_prediction('nope', 'x', 0.5);
SELECT record_troubleshooting_prediction('m-1', 'x', 1.2);
SELECT record_troubleshooting_prediction('m-1', NULL, 0.5);
SELECT record_troubleshooting_correction('nope', 'x', 'me');
SELECT * FROM export_troubleshooting_training_data('xml');
SELECT * FROM get_troubleshooting_model_accuracy(now(), now() - interval '1 day');
