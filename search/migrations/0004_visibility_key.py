from django.db import migrations


class Migration(migrations.Migration):
    """The index keeps a generic visibility key (decided by the rule an app registers), not a review id."""

    dependencies = [("search", "0003_title_index_and_terms")]

    operations = [
        migrations.RenameField("searchdocument", "review_id", "visibility_key"),
    ]
