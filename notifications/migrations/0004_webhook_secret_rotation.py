import django.utils.timezone
from django.db import migrations, models


def issued_when_created(apps, schema_editor):
    """Existing secrets were issued with their subscription."""
    WebhookSubscription = apps.get_model("notifications", "WebhookSubscription")
    WebhookSubscription.objects.update(secret_created_at=models.F("created_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0003_webhooksubscription_webhookdelivery"),
    ]

    operations = [
        migrations.AddField(
            model_name="webhooksubscription",
            name="previous_secret",
            field=models.CharField(blank=True, editable=False, max_length=100),
        ),
        migrations.AddField(
            model_name="webhooksubscription",
            name="previous_secret_until",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="webhooksubscription",
            name="secret_created_at",
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False),
        ),
        migrations.RunPython(issued_when_created, migrations.RunPython.noop),
    ]
