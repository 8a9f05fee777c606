"""Flash sales' earlier outbox rows move into the one outbox; a skipped one is sent by retry."""

from __future__ import annotations

from datetime import datetime

from alembic import command
from sqlalchemy import text

import notifications
from storage import migrate, session_scope
from storage.migrate import alembic_config
from tests.notifications.sinks import webhook_sink


def test_skipped_flash_sale_messages_from_before_the_outbox_are_kept_and_sent_by_retry(engine):
    command.downgrade(alembic_config(engine), "notifications@base")
    with session_scope(engine) as session:
        session.execute(text("PRAGMA foreign_keys=OFF"))  # the request itself does not matter here
        session.execute(text(
            "INSERT INTO flashsales_notification (id, request_id, event, destination, recipients, subject, body, "
            "status, attempts, last_error, created_at) VALUES "
            "(1, 1, 'approved', '', :people, 'approved', 'text', 'skipped', 0, 'no URLs', :at), "
            "(2, 1, 'no_change_needed', '', '[]', 'no change', 'text', 'skipped', 0, 'no URLs', :at)"),
            {"at": datetime(2026, 11, 2, 12), "people": '["bea@example.com"]'})
    migrate(engine)
    rows = notifications.list_messages(engine, source="flashsales")
    assert [(r["kind"], r["status"]) for r in rows] == [("flashsale.decision", "skipped"),
                                                         ("flashsale.decision", "recorded")]
    with webhook_sink() as sink:
        report = notifications.deliver(engine, notifications.Routing((sink.url("all"),)), attempts=1)
        assert report.sent == 1 and sink.titles("all") == ["approved"]
        assert "To: bea@example.com" in sink.posts["all"][0]["message"]
