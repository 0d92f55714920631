import pytest

from search.backends import search


@pytest.fixture
def find(admin_actor):
    """Titles found for `text` (as the superuser unless `user` is given), best first."""

    def find(text, *, user=None, **options):
        return [hit.document.title for hit in search(text, user=user or admin_actor, **options).hits]

    return find
