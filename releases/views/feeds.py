# Placeholder until the feeds land; replaced in full by the feeds work.
from django.http import Http404


def _not_yet(request, **kwargs):
    raise Http404("Not built yet.")


all_releases_feed = governance_feed = service_feed = team_feed = _not_yet
