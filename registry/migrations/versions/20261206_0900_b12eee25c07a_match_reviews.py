"""the review queue of ambiguous institution matches, and where each was met

`match_review`: one entry per spelling and country while open (a partial unique index, which
recording writes with INSERT ... ON CONFLICT), kept when decided with who, when and why;
`match_review_sighting`: the assessments and transfer evaluations it was met in, with their
owners (registry/match_reviews; issue 19, item 5).

Revision ID: b12eee25c07a
Revises: b5d7f9a1c3e6
Create Date: 2026-12-06 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "b12eee25c07a"
down_revision = "b5d7f9a1c3e6"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "match_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("query", sa.String(length=400), nullable=False),
        sa.Column("query_key", sa.String(length=400), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("candidates", sa.JSON(), nullable=False),
        sa.Column("candidate_ids", sa.String(length=200), nullable=False),
        sa.Column("times", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("institution_id", sa.Integer(), nullable=True),
        sa.Column("alias_added", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_match_review_institution_id_institution"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_review")),
    )
    op.create_index(op.f("ix_match_review_country"), "match_review", ["country"])
    op.create_index("ix_match_review_country_query_key", "match_review", ["country", "query_key"])
    op.create_index(
        "uq_match_review_open",
        "match_review",
        ["country", "query_key"],
        unique=True,
        sqlite_where=sa.text("state = 'open'"),
        postgresql_where=sa.text("state = 'open'"),
    )
    op.create_table(
        "match_review_sighting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("place", sa.String(length=30), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.JSON(), nullable=True),
        sa.Column(
            "at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["match_review.id"],
            name=op.f("fk_match_review_sighting_review_id_match_review"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_review_sighting")),
    )
    op.create_index(
        op.f("ix_match_review_sighting_review_id"), "match_review_sighting", ["review_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_match_review_sighting_review_id"), table_name="match_review_sighting")
    op.drop_table("match_review_sighting")
    op.drop_index("uq_match_review_open", table_name="match_review")
    op.drop_index("ix_match_review_country_query_key", table_name="match_review")
    op.drop_index(op.f("ix_match_review_country"), table_name="match_review")
    op.drop_table("match_review")
