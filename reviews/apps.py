from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = "Post-incident reviews"

    def ready(self):
        from approvals.registry import register
        from portal.search.registry import register_adapters
        from reviews import search
        from reviews.documents import ReviewKind

        register(ReviewKind())
        register_adapters(*search.ADAPTERS)
