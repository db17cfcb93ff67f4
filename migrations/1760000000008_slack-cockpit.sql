-- Up Migration
-- Which Slack message shows what, for the cockpit projector (src/slack/cockpit-projector.ts): an
-- incident's parent message, its proposals' cards, its notices and its charts, each under a key the
-- incident's records determine. Delivery state, not evidence: the audit log says what happened; this
-- says where in Slack it was shown, so that a restarted or second projector edits the messages that
-- exist instead of posting them again. A row is claimed (no ts yet) before its message is posted, so
-- two projectors never post the same message; `digest` is the content last shown, so an unchanged
-- re-render edits nothing. Runs with search_path set to the store's schema.
CREATE TABLE slack_messages (
  key text PRIMARY KEY,
  incident_id text NOT NULL,
  channel text,
  ts text,
  digest text,
  claimed_at text NOT NULL,
  updated_at text NOT NULL
);
CREATE INDEX slack_messages_incident ON slack_messages (incident_id);
