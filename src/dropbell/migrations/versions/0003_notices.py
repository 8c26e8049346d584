"""notices: one row per drop and moment, read-time fan-out, chosen leads

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 21:20:00

Before: a launch wrote one ``notifications`` row per subscriber. After: the scheduler
releases ONE notice row (``account_id`` NULL) per job, and a shopper sees it through
their reminders (dropbell.notifications.audience).

- ``reminders`` become periods (``id``, ``offsets``, ``ended_at``): undoing Remind me
  ends a period instead of deleting the row, so what was delivered stays visible.
  Existing reminders become open periods with the lead their drop was scheduled with.
- ``reminder_jobs`` get ``lead_seconds`` and ``counted_at``, and lose the fan-out's
  ``cursor`` and lease columns.
- ``notifications`` get ``lead_seconds`` and ``due_at``; ``account_id`` may be NULL.
  The drop notifications already delivered stay as they are (personal rows with their
  read state; the stats keep counting them through ``deliveries``).
- A fan-out that was half way at upgrade time is released as a notice here: its
  subscribers' rows (and read state) move onto the notice, and it is counted afresh.
- ``notice_reads``: a shopper's read state of a notice. ``drop_opens`` is keyed by
  (notification, account): a notice is opened by many shoppers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

import dropbell.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = dropbell.db.UTCDateTime()
DEFAULT_LEAD = 900  # DROPBELL_REMINDER_LEAD_SECONDS before leads could be chosen


def _aware(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    aware: datetime = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("reminder_jobs") as batch:
        batch.add_column(sa.Column("lead_seconds", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("counted_at", When, nullable=True))
    with op.batch_alter_table("notifications") as batch:
        batch.alter_column("account_id", existing_type=BigId, nullable=True)
        batch.add_column(sa.Column("lead_seconds", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("due_at", When, nullable=True))
        batch.create_index(
            "uq_notifications_notice_job",
            ["job_id"],
            unique=True,
            sqlite_where=sa.text("account_id IS NULL"),
            postgresql_where=sa.text("account_id IS NULL"),
        )
        batch.create_index(
            "ix_notifications_notice_drop",
            ["drop_id", "id"],
            sqlite_where=sa.text("account_id IS NULL"),
            postgresql_where=sa.text("account_id IS NULL"),
            postgresql_include=["type", "lead_seconds", "due_at"],
        )
    op.create_table(
        "notice_reads",
        sa.Column("account_id", BigId, nullable=False),
        sa.Column("notification_id", BigId, nullable=False),
        sa.Column("read_at", When, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "notification_id", name=op.f("pk_notice_reads")),
        sqlite_with_rowid=False,
    )
    _reminders_become_periods()
    _drop_opens_per_account()
    # Jobs that ended before the upgrade were counted by their fan-out (deliveries).
    op.execute(
        "UPDATE reminder_jobs SET counted_at = COALESCE(finished_at, created_at)"
        " WHERE state NOT IN ('pending', 'running')"
    )
    _leads_of_old_jobs(bind)
    _release_half_done_fanouts(bind)
    # A release is one transaction: no cursor, and no lease of our own (PostgreSQL's
    # idle-in-transaction timeout ends a hung worker's claim). ALTER TABLE, not a batch
    # copy: on SQLite a copy drops the old table, and its deliveries with it (ON DELETE
    # CASCADE).
    for column in ("cursor", "lease_owner", "lease_until"):
        op.execute(f"ALTER TABLE reminder_jobs DROP COLUMN {column}")
    # Delivered drop notifications: their due time is the time they were written for.
    op.execute(
        "UPDATE notifications SET due_at = created_at"
        " WHERE job_id IS NOT NULL AND account_id IS NOT NULL"
    )
    op.execute(
        "UPDATE notifications SET lead_seconds = (SELECT lead_seconds FROM reminder_jobs"
        " WHERE reminder_jobs.id = notifications.job_id)"
        " WHERE type = 'drop_soon' AND account_id IS NOT NULL"
    )


def _reminders_become_periods() -> None:
    op.rename_table("reminders", "reminders_before_0003")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER INDEX ix_reminders_account_id RENAME TO ix_reminders_old_account_id")
        op.execute("ALTER TABLE reminders_before_0003 RENAME CONSTRAINT pk_reminders TO pk_r_old")
    op.create_table(
        "reminders",
        sa.Column("id", BigId, nullable=False),
        sa.Column("drop_id", BigId, nullable=False),
        sa.Column("account_id", BigId, nullable=False),
        sa.Column("offsets", sa.String(length=100), nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("ended_at", When, nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_reminders_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["drop_id"], ["drops.id"], name=op.f("fk_reminders_drop_id_drops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders")),
    )
    # Each drop's reminders take the lead its "soon" notice was scheduled with.
    op.execute(
        f"""
        INSERT INTO reminders (drop_id, account_id, offsets, created_at)
        SELECT r.drop_id, r.account_id, '{DEFAULT_LEAD}', r.created_at
        FROM reminders_before_0003 r ORDER BY r.drop_id, r.account_id
        """
    )
    op.drop_table("reminders_before_0003")
    op.create_index("ix_reminders_drop_id_account_id", "reminders", ["drop_id", "account_id"])
    op.create_index(
        "ix_reminders_account_id_drop_id",
        "reminders",
        ["account_id", "drop_id"],
        postgresql_include=["created_at", "ended_at", "offsets"],
    )
    op.create_index(
        "uq_reminders_open",
        "reminders",
        ["drop_id", "account_id"],
        unique=True,
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    )


def _drop_opens_per_account() -> None:
    op.rename_table("drop_opens", "drop_opens_before_0003")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER INDEX ix_drop_opens_drop_id RENAME TO ix_drop_opens_old_drop_id")
        op.execute(
            "ALTER TABLE drop_opens_before_0003 RENAME CONSTRAINT pk_drop_opens TO pk_do_old"
        )
    op.create_table(
        "drop_opens",
        sa.Column("notification_id", BigId, nullable=False),
        sa.Column("account_id", BigId, nullable=False),
        sa.Column("drop_id", BigId, nullable=False),
        sa.Column("opened_at", When, nullable=False),
        sa.PrimaryKeyConstraint("notification_id", "account_id", name=op.f("pk_drop_opens")),
        sqlite_with_rowid=False,
    )
    op.execute(
        "INSERT INTO drop_opens (notification_id, account_id, drop_id, opened_at)"
        " SELECT notification_id, account_id, drop_id, opened_at FROM drop_opens_before_0003"
    )
    op.drop_table("drop_opens_before_0003")
    op.create_index("ix_drop_opens_drop_id", "drop_opens", ["drop_id"])


def _leads_of_old_jobs(bind: Any) -> None:
    """Each "soon" job's lead (launch - due); the reminders of its drop chose it."""
    rows = bind.execute(
        sa.text(
            "SELECT j.id, j.drop_id, j.due_at, d.launch_at FROM reminder_jobs j"
            " JOIN drops d ON d.id = j.drop_id WHERE j.kind = 'drop_soon' ORDER BY j.id"
        )
    ).all()
    leads: dict[int, int] = {}
    for job_id, drop_id, due_at, launch_at in rows:
        lead = round((_aware(launch_at) - _aware(due_at)).total_seconds())
        leads[drop_id] = lead
        bind.execute(
            sa.text("UPDATE reminder_jobs SET lead_seconds = :lead WHERE id = :id"),
            {"lead": lead, "id": job_id},
        )
    for drop_id, lead in leads.items():
        bind.execute(
            sa.text("UPDATE reminders SET offsets = :lead WHERE drop_id = :drop"),
            {"lead": str(lead), "drop": drop_id},
        )


def _release_half_done_fanouts(bind: Any) -> None:
    jobs = bind.execute(
        sa.text(
            "SELECT id, drop_id, kind, due_at, lead_seconds FROM reminder_jobs"
            " WHERE state = 'running'"
        )
    ).all()
    now = datetime.now(UTC)
    for job_id, drop_id, kind, due_at, lead in jobs:
        notices = sa.table(
            "notifications",
            sa.column("id", BigId),
            sa.column("account_id", BigId),
            sa.column("type", sa.String),
            sa.column("drop_id", BigId),
            sa.column("job_id", BigId),
            sa.column("lead_seconds", sa.Integer),
            sa.column("due_at", When),
            sa.column("created_at", When),
        )
        notice_id = bind.execute(
            sa.insert(notices)
            .values(
                account_id=None,
                type=kind,
                drop_id=drop_id,
                job_id=job_id,
                lead_seconds=lead,
                due_at=_aware(due_at),
                created_at=now,
            )
            .returning(notices.c.id)
        ).scalar_one()
        params = {"job": job_id, "notice": notice_id, "drop": drop_id}
        covered = (
            "account_id IN (SELECT account_id FROM reminders WHERE drop_id = :drop"
            " AND ended_at IS NULL)"
        )
        bind.execute(
            sa.text(
                "INSERT INTO notice_reads (account_id, notification_id, read_at)"
                " SELECT account_id, :notice, read_at FROM notifications"
                f" WHERE job_id = :job AND read_at IS NOT NULL AND {covered}"
            ),
            params,
        )
        bind.execute(
            sa.text(
                "UPDATE drop_opens SET notification_id = :notice WHERE notification_id IN"
                " (SELECT id FROM notifications WHERE job_id = :job AND account_id IS NOT NULL"
                f" AND {covered})"
            ),
            params,
        )
        bind.execute(
            sa.text(
                "DELETE FROM notifications WHERE job_id = :job AND account_id IS NOT NULL"
                f" AND {covered}"
            ),
            params,
        )
        bind.execute(sa.text("DELETE FROM deliveries WHERE job_id = :job"), params)
        bind.execute(
            sa.text(
                "UPDATE reminder_jobs SET state = 'done', finished_at = :now, delivered = 0"
                " WHERE id = :job"
            ),
            {"job": job_id, "now": now.replace(tzinfo=None) if _sqlite(bind) else now},
        )


def _sqlite(bind: Any) -> bool:
    return bool(bind.dialect.name == "sqlite")


# A notice's audience, in SQL (dropbell.notifications.audience.covers).
_COVERS = (
    "r.drop_id = n.drop_id AND r.created_at <= n.due_at"
    " AND (r.ended_at IS NULL OR r.ended_at > n.due_at)"
    " AND (n.type <> 'drop_soon' OR (',' || r.offsets || ',') LIKE"
    " ('%,' || CAST(n.lead_seconds AS VARCHAR) || ',%'))"
)


def downgrade() -> None:
    """Back to one row per subscriber: each notice is written out to the shoppers who see
    it (with their read state and opens); reminders keep their open periods."""
    op.execute(
        "INSERT INTO notifications (account_id, type, drop_id, job_id, created_at, read_at)"
        " SELECT r.account_id, n.type, n.drop_id, n.job_id, n.due_at, nr.read_at"
        " FROM notifications n JOIN reminders r ON " + _COVERS + " LEFT JOIN notice_reads nr"
        " ON nr.notification_id = n.id AND nr.account_id = r.account_id"
        " WHERE n.account_id IS NULL ORDER BY n.id, r.account_id"
    )
    op.rename_table("drop_opens", "drop_opens_0003")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER INDEX ix_drop_opens_drop_id RENAME TO ix_drop_opens_0003_drop_id")
        op.execute("ALTER TABLE drop_opens_0003 RENAME CONSTRAINT pk_drop_opens TO pk_do_0003")
    op.create_table(
        "drop_opens",
        sa.Column("notification_id", BigId, nullable=False),
        sa.Column("drop_id", BigId, nullable=False),
        sa.Column("account_id", BigId, nullable=False),
        sa.Column("opened_at", When, nullable=False),
        sa.PrimaryKeyConstraint("notification_id", name=op.f("pk_drop_opens")),
    )
    op.execute(
        "INSERT INTO drop_opens (notification_id, drop_id, account_id, opened_at)"
        " SELECT COALESCE(p.id, o.notification_id), o.drop_id, o.account_id, o.opened_at"
        " FROM drop_opens_0003 o LEFT JOIN notifications n ON n.id = o.notification_id"
        " AND n.account_id IS NULL LEFT JOIN notifications p ON p.job_id = n.job_id"
        " AND p.account_id = o.account_id"
    )
    op.drop_table("drop_opens_0003")
    op.create_index("ix_drop_opens_drop_id", "drop_opens", ["drop_id"])
    op.execute("DELETE FROM notifications WHERE account_id IS NULL")
    op.drop_table("notice_reads")
    with op.batch_alter_table("notifications") as batch:
        batch.drop_index("ix_notifications_notice_drop")
        batch.drop_index("uq_notifications_notice_job")
        batch.drop_column("due_at")
        batch.drop_column("lead_seconds")
        batch.alter_column("account_id", existing_type=BigId, nullable=False)
    op.rename_table("reminders", "reminders_0003")
    if op.get_bind().dialect.name == "postgresql":
        for index in ("ix_reminders_drop_id_account_id", "ix_reminders_account_id_drop_id",
                      "uq_reminders_open"):  # fmt: skip
            op.execute(f"ALTER INDEX {index} RENAME TO {index}_0003")
        op.execute("ALTER TABLE reminders_0003 RENAME CONSTRAINT pk_reminders TO pk_r_0003")
    op.create_table(
        "reminders",
        sa.Column("drop_id", BigId, nullable=False),
        sa.Column("account_id", BigId, nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_reminders_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["drop_id"], ["drops.id"], name=op.f("fk_reminders_drop_id_drops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("drop_id", "account_id", name=op.f("pk_reminders")),
        sqlite_with_rowid=False,
    )
    op.execute(
        "INSERT INTO reminders (drop_id, account_id, created_at)"
        " SELECT drop_id, account_id, created_at FROM reminders_0003 WHERE ended_at IS NULL"
    )
    op.drop_table("reminders_0003")
    op.create_index("ix_reminders_account_id", "reminders", ["account_id"])
    for column in ("counted_at", "lead_seconds"):
        op.execute(f"ALTER TABLE reminder_jobs DROP COLUMN {column}")
    with op.batch_alter_table("reminder_jobs") as batch:
        batch.add_column(sa.Column("cursor", BigId, nullable=False, server_default="0"))
        batch.add_column(sa.Column("lease_owner", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("lease_until", When, nullable=True))
