from datetime import timedelta

from django import template
from django.utils.safestring import mark_safe

from core.markdown import render_markdown

register = template.Library()


@register.filter
def markdown(text):
    """Render user-written markdown safely (see core.markdown)."""
    # Safe to mark: markdown-it escapes raw HTML and nh3 cleans what it produced.
    return mark_safe(render_markdown(text))


@register.filter
def duration(value):
    """A duration as people say it: "15 min", "2 h", "1 h 30 min", "3 d"."""
    if value is None or value == "":
        return "—"
    if not isinstance(value, timedelta):
        return value
    minutes = int(value.total_seconds() // 60)
    if minutes < 0:
        return f"-{duration(-value)}"
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{minutes} min" if minutes else ""]
    return " ".join(part for part in parts if part) or f"{int(value.total_seconds())} s"


@register.simple_tag(takes_context=True)
def query_string(context, **changes):
    """The current query string with some parameters replaced (None removes one)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"
