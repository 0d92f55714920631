# Placeholder until the service timeline lands.
from django.http import Http404
from django.views import View


class ServiceTimelineView(View):
    def get(self, request, **kwargs):
        raise Http404("Not built yet.")
