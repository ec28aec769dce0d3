"""Grade conversion tables: set by a ministry for its country, an institution for itself."""

from flask.views import MethodView

from mappings import grade_tables
from mappings.schemas import (
    GradeTableOutSchema,
    GradeTableSchema,
    GradeTablesQuerySchema,
    WithdrawalSchema,
)
from registry.api import Blueprint, body_doc, json_body, writes
from registry.auth import current_actor
from registry.sessions import get_session

blp = Blueprint(
    "grade_tables", __name__, description="Grade conversion tables of institutions and ministries"
)


@blp.route("/grade-tables")
class GradeTables(MethodView):
    @blp.arguments(GradeTablesQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, GradeTableOutSchema(many=True))
    def get(self, source, target):
        """Every conversion table, withdrawn ones marked, optionally for one pair of scales."""
        return grade_tables.list_tables(get_session(), source, target)

    @blp.doc(requestBody=body_doc(GradeTableSchema))
    @blp.response(201, GradeTableOutSchema)
    @writes("grade_table.edit", audit="grade_table.create")
    def post(self):
        """Set a conversion table (a ministry for its country, an institution for itself; audited).
        It applies to their conversions from then on, in place of the default."""
        row = grade_tables.create_table(get_session(), current_actor(), json_body())
        return grade_tables.shown(row)


@blp.route("/grade-tables/<code>")
class GradeTable(MethodView):
    @blp.response(200, GradeTableOutSchema)
    def get(self, code):
        """One conversion table; unknown code: 404."""
        return grade_tables.shown(grade_tables.get_table(get_session(), code))


@blp.route("/grade-tables/<code>/withdraw")
class GradeTableWithdrawal(MethodView):
    @blp.doc(requestBody=body_doc(WithdrawalSchema))
    @blp.response(200, GradeTableOutSchema)
    @writes("grade_table.withdraw")
    def post(self, code):
        """Withdraw a conversion table, with a reason (its authority, or an admin; audited). It
        stays listed as withdrawn and is used no more: the default applies again."""
        row = grade_tables.withdraw_table(get_session(), current_actor(), code, json_body())
        return grade_tables.shown(row)
