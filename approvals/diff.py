"""Field-level comparison of two document snapshots, for the diff table.

Child lists are matched on the keys each governed kind declares (a response
target by severity and category, a step by severity and level), so a changed
target shows as one changed field, not as a removed and an added row.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldDifference:
    path: str
    old: object
    new: object


def _show(value):
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "—"
    return str(value)


def _flatten(document, child_keys):
    flat = {}
    for name, value in (document or {}).items():
        if name in child_keys and isinstance(value, list):
            key_fields = child_keys[name]
            for index, item in enumerate(value):
                key = ", ".join(str(item.get(field)) for field in key_fields if item.get(field) is not None)
                label = f"{name}[{key or index + 1}]"
                for field, field_value in item.items():
                    flat[f"{label}.{field}"] = field_value
        else:
            flat[name] = value
    return flat


def field_differences(old, new, child_keys):
    """Every path whose value differs between two snapshots, in a stable order."""
    before, after = _flatten(old, child_keys), _flatten(new, child_keys)
    return [
        FieldDifference(path, _show(before.get(path)), _show(after.get(path)))
        for path in sorted(set(before) | set(after))
        if before.get(path) != after.get(path)
    ]
