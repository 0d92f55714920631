from rest_framework.routers import SimpleRouter

from releases.api.views import CalendarViewSet, ReleaseViewSet

router = SimpleRouter()
router.register("calendars", CalendarViewSet, basename="calendar")
router.register("releases", ReleaseViewSet, basename="release")
