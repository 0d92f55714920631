"""A service's timeline: what was released (its own and its dependencies'), frozen, broken and agreed, when."""

from datetime import timedelta

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.generic import TemplateView

from insights.timeline import DEFAULT_AHEAD, DEFAULT_PAST, TimelineRangeForm, gather_timeline, timeline_drawing
from releases.feeds import feed_address
from sla_registry.models import Service


class ServiceTimelineView(TemplateView):
    template_name = "insights/service_timeline.html"

    def get_context_data(self, **kwargs):
        service = get_object_or_404(Service.objects.select_related("owner_team"), slug=kwargs["slug"])
        now = timezone.now()
        # Unbound without parameters: no errors to show, the default range.
        today = timezone.localtime(now)
        default_days = {"from": (today - DEFAULT_PAST).date(), "to": (today + DEFAULT_AHEAD).date()}
        range_form = TimelineRangeForm(self.request.GET or None, initial=default_days)
        start, end = range_form.chosen_range(now)
        timeline = gather_timeline(service, self.request.user, start, end)
        # The address without a token: a calendar program needs a personal feed link (made on releases:feed_links).
        feed_url = feed_address(self.request, "releases:feed_service", slug=service.slug)
        return super().get_context_data(
            service=service,
            range_form=range_form,
            timeline=timeline,
            drawing=timeline_drawing(timeline, now),
            last_day=timezone.localtime(end - timedelta(microseconds=1)),
            feed_url=feed_url,
            **kwargs,
        )
