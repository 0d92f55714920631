from django.urls import path

from reviews.views import editor, reading

app_name = "reviews"
urlpatterns = [
    path("reviews/", reading.review_list, name="review_list"),
    path("reviews/new/", editor.review_create, name="review_create"),
    path("reviews/metrics/", reading.review_metrics, name="review_metrics"),
    path("reviews/<str:reference>/", reading.review_detail, name="review_detail"),
    path("reviews/<str:reference>/edit/", editor.review_update, name="review_update"),
    path("reviews/<str:reference>/publish/", editor.review_publish, name="review_publish"),
    path("reviews/<str:reference>/reopen/", editor.review_reopen, name="review_reopen"),
    path("action-items/", reading.action_item_list, name="action_item_list"),
    path("action-items/<int:pk>/done/", reading.action_item_done, name="action_item_done"),
]
