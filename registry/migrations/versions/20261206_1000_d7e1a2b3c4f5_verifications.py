"""stored verifications, and the verification of an import job, a transcript and an assessment

`verification`: the verdict on one uploaded file (who asked, the day, the file's SHA-256, size
and name, verdict, reason, issuer, checks, and what the file stated of each credential it
yielded); `import_job.verification_id` / `verification_error`, `transcript.verification_id`,
`assessment.verification_id` name it (issue 22, the verdict stored).

Revision ID: d7e1a2b3c4f5
Revises: c2d4e6f8a0b3
Create Date: 2026-12-06 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "d7e1a2b3c4f5"
down_revision = "c2d4e6f8a0b3"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "verification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("owner", sa.JSON(), nullable=True),
        sa.Column("verified_on", sa.Date(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=300), nullable=True),
        sa.Column("format", sa.String(length=40), nullable=True),
        sa.Column("verdict", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=True),
        sa.Column("checks", sa.JSON(), nullable=False),
        sa.Column("credentials", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification")),
    )
    op.create_index(op.f("ix_verification_sha256"), "verification", ["sha256"])
    with op.batch_alter_table("import_job") as batch:
        batch.add_column(sa.Column("verification_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("verification_error", sa.Text(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_import_job_verification_id_verification"),
            "verification",
            ["verification_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("transcript") as batch:
        batch.add_column(sa.Column("verification_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_transcript_verification_id_verification"),
            "verification",
            ["verification_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("assessment") as batch:
        batch.add_column(sa.Column("verification_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_assessment_verification_id_verification"),
            "verification",
            ["verification_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("assessment") as batch:
        batch.drop_constraint(
            op.f("fk_assessment_verification_id_verification"), type_="foreignkey"
        )
        batch.drop_column("verification_id")
    with op.batch_alter_table("transcript") as batch:
        batch.drop_constraint(
            op.f("fk_transcript_verification_id_verification"), type_="foreignkey"
        )
        batch.drop_column("verification_id")
    with op.batch_alter_table("import_job") as batch:
        batch.drop_constraint(
            op.f("fk_import_job_verification_id_verification"), type_="foreignkey"
        )
        batch.drop_column("verification_error")
        batch.drop_column("verification_id")
    op.drop_index(op.f("ix_verification_sha256"), table_name="verification")
    op.drop_table("verification")
