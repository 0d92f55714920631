# Placeholder until the calendar pages land.
from django.http import Http404
from django.views import View


class _NotYet(View):
    def get(self, request, **kwargs):
        raise Http404("Not built yet.")


CalendarListView = CalendarCreateView = CalendarDetailView = CalendarUpdateView = _NotYet
upload_calendar = sync_calendar = edit_rules = _NotYet.as_view()
