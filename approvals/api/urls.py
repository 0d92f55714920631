from rest_framework.routers import SimpleRouter

from approvals.api.views import ChangeRequestViewSet

router = SimpleRouter()
router.register("change-requests", ChangeRequestViewSet, basename="change-request")
