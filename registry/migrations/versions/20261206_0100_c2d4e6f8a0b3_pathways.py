"""pathway agreements: credentials that count toward a programme, and evaluations against them

`pathway`: one agreement of a receiving institution (credentials, all or any k of n, count for
credits toward a programme of its catalogue, on conditions), proposed, approved or rejected;
`pathway_credential`: the qualifications or courses it accepts, in order; `pathway_evaluation`:
a stored evaluation of a learner's credentials against them (registry/catalogue/pathways;
issue 21, item 1).

Revision ID: c2d4e6f8a0b3
Revises: b12eee25c07a
Create Date: 2026-12-06 01:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "c2d4e6f8a0b3"
down_revision = "b12eee25c07a"
branch_labels = None
depends_on = None


def _timestamp(name: str) -> sa.Column:
    return sa.Column(
        name,
        sa.DateTime(timezone=True),
        server_default=sa.text("(CURRENT_TIMESTAMP)"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "pathway",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("choose", sa.Integer(), nullable=True),
        sa.Column("credits", sa.String(length=40), nullable=False),
        sa.Column("credit_system", sa.String(length=20), nullable=False),
        sa.Column("min_grade", sa.String(length=60), nullable=True),
        sa.Column("min_grade_scale", sa.String(length=20), nullable=True),
        sa.Column("supervision", sa.String(length=40), nullable=True),
        sa.Column("quality_assured", sa.Boolean(), nullable=False),
        sa.Column("max_age_months", sa.Integer(), nullable=True),
        sa.Column("max_total_credits", sa.String(length=40), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=1000), nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_pathway_institution_id_institution"),
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["qualification.id"],
            name=op.f("fk_pathway_programme_id_qualification"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pathway")),
        sa.UniqueConstraint(
            "institution_id", "rule_id", name=op.f("uq_pathway_institution_id_rule_id")
        ),
    )
    op.create_index(op.f("ix_pathway_institution_id"), "pathway", ["institution_id"])
    op.create_index(op.f("ix_pathway_programme_id"), "pathway", ["programme_id"])
    op.create_table(
        "pathway_credential",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pathway_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("qualification_id", sa.Integer(), nullable=True),
        sa.Column("course_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(qualification_id IS NOT NULL AND course_id IS NULL)"
            " OR (qualification_id IS NULL AND course_id IS NOT NULL)",
            name=op.f("ck_pathway_credential_one_credential"),
        ),
        sa.ForeignKeyConstraint(
            ["pathway_id"],
            ["pathway.id"],
            name=op.f("fk_pathway_credential_pathway_id_pathway"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["qualification_id"],
            ["qualification.id"],
            name=op.f("fk_pathway_credential_qualification_id_qualification"),
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["course.id"], name=op.f("fk_pathway_credential_course_id_course")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pathway_credential")),
    )
    op.create_index(op.f("ix_pathway_credential_pathway_id"), "pathway_credential", ["pathway_id"])
    op.create_index(
        op.f("ix_pathway_credential_qualification_id"), "pathway_credential", ["qualification_id"]
    )
    op.create_index(op.f("ix_pathway_credential_course_id"), "pathway_credential", ["course_id"])
    op.create_table(
        "pathway_evaluation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("inputs_digest", sa.String(length=64), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_pathway_evaluation_institution_id_institution"),
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["qualification.id"],
            name=op.f("fk_pathway_evaluation_programme_id_qualification"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pathway_evaluation")),
    )
    op.create_index(
        op.f("ix_pathway_evaluation_institution_id"), "pathway_evaluation", ["institution_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_pathway_evaluation_institution_id"), table_name="pathway_evaluation")
    op.drop_table("pathway_evaluation")
    op.drop_index(op.f("ix_pathway_credential_course_id"), table_name="pathway_credential")
    op.drop_index(op.f("ix_pathway_credential_qualification_id"), table_name="pathway_credential")
    op.drop_index(op.f("ix_pathway_credential_pathway_id"), table_name="pathway_credential")
    op.drop_table("pathway_credential")
    op.drop_index(op.f("ix_pathway_programme_id"), table_name="pathway")
    op.drop_index(op.f("ix_pathway_institution_id"), table_name="pathway")
    op.drop_table("pathway")
