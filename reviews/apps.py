from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = "Post-incident reviews"

    def ready(self):
        from approvals.registry import register
        from reviews.documents import ReviewKind

        register(ReviewKind())
