"""The executive summary page (/executive/?quarter=2026-Q3) and its tables as CSV."""

import csv

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from insights.executive import EXPORTS, executive_summary, parse_quarter
from reviews.counting import quarters_with_incidents


@require_GET
def executive_summary_page(request):
    quarter, problem = parse_quarter(request.GET.get("quarter"))
    if problem:
        messages.error(request, f"{problem} Showing {quarter.short_label}, the current quarter.")
    summary = executive_summary(quarter, user=request.user)
    return render(
        request,
        "insights/executive_summary.html",
        {
            "summary": summary,
            "quarter": quarter,
            # The quarter picker offers the quarters with published incidents the reader may see (one query).
            "quarters": quarters_with_incidents(request.user, quarter),
        },
    )


# A spreadsheet runs a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    """Text people wrote is kept from being read as a formula; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return f"'{value}"
    return value


@require_GET
def executive_export(request, table):
    export = EXPORTS.get(table)
    if export is None:
        raise Http404(f"There is no table “{table}” to export; the tables are: {', '.join(EXPORTS)}.")
    quarter, _ = parse_quarter(request.GET.get("quarter"))
    summary = executive_summary(quarter, user=request.user)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="executive-{quarter.label}-{table}.csv"'
    writer = csv.writer(response)
    writer.writerow(export.headers)
    for row in export.rows(summary):
        writer.writerow([_cell(value) for value in row])
    return response
