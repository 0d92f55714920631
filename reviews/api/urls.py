from rest_framework.routers import SimpleRouter

from reviews.api.views import ActionItemViewSet, ReviewViewSet

router = SimpleRouter()
router.register("reviews", ReviewViewSet, basename="review")
router.register("action-items", ActionItemViewSet, basename="action-item")
