from django.db import migrations

from core.history import reason_migration

# The reasons of rows an applied change request wrote ("CR-0042: words") are split into their two fields.
split_reasons, join_reasons = reason_migration("reviews", ['historicalactionitem', 'historicalpostincidentreview', 'historicaltimelineentry'])


class Migration(migrations.Migration):
    """The change request that wrote a history row moves out of its reason into a field of its own."""

    dependencies = [("reviews", "0002_history_change_request")]

    operations = [migrations.RunPython(split_reasons, join_reasons)]
