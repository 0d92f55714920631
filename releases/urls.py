from django.urls import path

from releases.views import calendars, feed_links, feeds, releases

app_name = "releases"
urlpatterns = [
    path("releases/", releases.ReleaseListView.as_view(), name="release_list"),
    path("releases/new/", releases.ReleaseCreateView.as_view(), name="release_create"),
    path("releases/<int:pk>/", releases.ReleaseDetailView.as_view(), name="release_detail"),
    path("releases/<int:pk>/edit/", releases.ReleaseUpdateView.as_view(), name="release_update"),
    path("releases/<int:pk>/changes/", releases.link_change_request, name="release_link_change"),
    path("releases/calendars/", calendars.CalendarListView.as_view(), name="calendar_list"),
    path("releases/calendars/new/", calendars.CalendarCreateView.as_view(), name="calendar_create"),
    path("releases/calendars/<slug:slug>/", calendars.CalendarDetailView.as_view(), name="calendar_detail"),
    path("releases/calendars/<slug:slug>/edit/", calendars.CalendarUpdateView.as_view(), name="calendar_update"),
    path("releases/calendars/<slug:slug>/upload/", calendars.upload, name="calendar_upload"),
    path("releases/calendars/<slug:slug>/sync/", calendars.sync_now, name="calendar_sync"),
    path("releases/calendars/<slug:slug>/rules/", calendars.edit_rules, name="calendar_rules"),
    path(
        "releases/calendars/<slug:slug>/imports/<int:pk>/",
        calendars.import_progress,
        name="calendar_import_progress",
    ),
    path("releases/calendar.ics", feeds.all_releases_feed, name="feed_all"),
    path("releases/governance.ics", feeds.governance_feed, name="feed_governance"),
    path("releases/services/<slug:slug>.ics", feeds.service_feed, name="feed_service"),
    path("releases/teams/<slug:slug>.ics", feeds.team_feed, name="feed_team"),
    path("releases/feed-links/", feed_links.feed_links, name="feed_links"),
    path("releases/feed-links/<int:pk>/revoke/", feed_links.revoke_feed_link, name="feed_link_revoke"),
    path("releases/feed-links/<int:pk>/rotate/", feed_links.rotate_feed_link, name="feed_link_rotate"),
]
