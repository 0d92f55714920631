"""What happened: post-incident reviews and drills, their timeline, action items, figures and breaches."""

from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = "Post-incident reviews"

    def ready(self):
        from approvals.registry import register
        from audit.permissions import register_hidden_objects
        from reviews import search
        from reviews.documents import ReviewKind
        from reviews.permissions import hidden_review_ids, restricted_reviews_sql
        from search.registry import register_adapters, register_visibility_rule

        register(ReviewKind())
        register_adapters(*search.ADAPTERS)
        register_visibility_rule(restricted_reviews_sql)
        register_hidden_objects("reviews.postincidentreview", hidden_review_ids)
