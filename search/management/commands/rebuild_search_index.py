"""`manage.py rebuild_search_index`: rebuild every SearchDocument from the database, with a progress bar."""

from django.core.management.base import BaseCommand
from tqdm import tqdm

from search.backends import backend
from search.indexing import rebuild, total_objects


class Command(BaseCommand):
    help = "Rebuild the search index from the database (after a restore, or if it drifted); prints counts per kind."

    def handle(self, *args, verbosity, **options):
        with tqdm(total=total_objects(), unit="doc", desc="Indexing", disable=verbosity == 0) as bar:
            counts = rebuild(progress=bar.update)
        backend().optimize()
        for kind, count in counts.items():
            self.stdout.write(f"{kind}: {count}")
        self.stdout.write(self.style.SUCCESS(f"{sum(counts.values())} documents indexed."))
