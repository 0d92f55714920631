import re

from django.db import migrations

# Rows written by an applied change request used to carry its reference inside the reason ("CR-0042: words").
FORMATTED = re.compile(r"^(CR-\d+)(?::\s*(.*))?$", re.DOTALL)
HISTORICAL_MODELS = ['historicalcustomerjourney', 'historicalescalationmatrix', 'historicalescalationstep', 'historicalincidentcategory', 'historicalobjective', 'historicalplaybookstep', 'historicalresponsetarget', 'historicalresponsibility', 'historicalservice', 'historicalservicelevelagreement', 'historicalseverity', 'historicalteam']


def split_reasons(apps, schema_editor):
    for name in HISTORICAL_MODELS:
        model = apps.get_model("sla_registry", name)
        for row in model.objects.filter(history_change_reason__startswith="CR-").only("history_change_reason"):
            match = FORMATTED.match(row.history_change_reason)
            if match:
                model.objects.filter(pk=row.pk).update(
                    history_change_request=match.group(1), history_change_reason=match.group(2) or ""
                )


def join_reasons(apps, schema_editor):
    for name in HISTORICAL_MODELS:
        model = apps.get_model("sla_registry", name)
        for row in model.objects.exclude(history_change_request="").only("history_change_reason", "history_change_request"):
            words = row.history_change_reason
            model.objects.filter(pk=row.pk).update(
                history_change_reason=f"{row.history_change_request}: {words}" if words else row.history_change_request
            )


class Migration(migrations.Migration):
    """The change request that wrote a history row moves out of its reason into a field of its own."""

    dependencies = [("sla_registry", "0006_history_change_request")]

    operations = [migrations.RunPython(split_reasons, join_reasons)]

