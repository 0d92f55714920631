from django.core.exceptions import ValidationError

# Path segments the registry's URLs use for pages of their own (/teams/new/).
RESERVED_SLUGS = {"new"}


def validate_slug_not_reserved(value):
    if value in RESERVED_SLUGS:
        raise ValidationError(f"“{value}” is reserved for a page of the portal; choose another slug.")
