# Placeholder until the release pages land.
from django.http import Http404
from django.views import View


class _NotYet(View):
    def get(self, request, **kwargs):
        raise Http404("Not built yet.")


ReleaseListView = ReleaseCreateView = ReleaseDetailView = ReleaseUpdateView = _NotYet
link_change_request = _NotYet.as_view()
