"""Comparing two document snapshots, for the change page.

Structured fields: the field-level table. Child lists are matched on the keys each
governed kind declares (a response target by severity and category, a step by
severity and level), so a changed target shows as one changed field, not as a
removed and an added row.

Text fields (the prose a kind declares in `text_fields`: annexes, notes, playbook
instructions, review sections): a line diff as code review tools show prose, with
the changed words marked inside changed lines and long unchanged runs folded
("… 12 unchanged lines …"). Both sides are normalised first, so a change of line
endings or trailing whitespace is no change. Everything here is plain text; the
templates escape it.
"""

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from approvals.registry import normalise_document

# Unchanged lines shown around a change; a longer unchanged run is folded.
CONTEXT_LINES = 3
# Two lines whose words are at least this similar are shown as one line edited, word by word.
SIMILAR_LINES = 0.5
# Above this many line pairs in one changed block, lines are paired in order instead of by similarity.
PAIRING_LIMIT = 400
_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")


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


def _item_label(name, item, index, child_keys):
    key = ", ".join(str(item.get(field)) for field in child_keys[name] if item.get(field) is not None)
    return key or str(index + 1)


def _flatten(document, child_keys, skip=()):
    flat = {}
    for name, value in (document or {}).items():
        if name in child_keys and isinstance(value, list):
            for index, item in enumerate(value):
                label = f"{name}[{_item_label(name, item, index, child_keys)}]"
                for field, field_value in item.items():
                    if field not in skip:
                        flat[f"{label}.{field}"] = field_value
        elif name not in skip:
            flat[name] = value
    return flat


def field_differences(old, new, child_keys, *, text_fields=()):
    """Every path whose value differs between two snapshots, in a stable order.

    Fields named in `text_fields` are left out (the caller shows them as text_differences).
    """
    before = _flatten(normalise_document(old), child_keys, text_fields)
    after = _flatten(normalise_document(new), child_keys, text_fields)
    return [
        FieldDifference(path, _show(before.get(path)), _show(after.get(path)))
        for path in sorted(set(before) | set(after))
        if before.get(path) != after.get(path)
    ]


# Text --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """A run of one line's text; `changed` marks the words an edit removed (old line) or added (new line)."""

    text: str
    changed: bool = False


@dataclass(frozen=True)
class DiffLine:
    """One row of a text diff: an unchanged, removed or added line, or a fold standing for unchanged lines."""

    kind: str  # "same", "removed", "added", "fold"
    old_number: int | None = None
    new_number: int | None = None
    segments: tuple = ()
    folded: int = 0

    @property
    def is_fold(self):
        return self.kind == "fold"


@dataclass(frozen=True)
class TextDifference:
    """One text field that changed: its line diff, and both whole texts (for the rendered view)."""

    path: str  # "technical_annex", "playbook[Confirm impact].instructions"
    label: str  # "Technical annex", "Playbook “Confirm impact”: instructions"
    old: str
    new: str
    lines: tuple

    @property
    def removed(self):
        return sum(line.kind == "removed" for line in self.lines)

    @property
    def added(self):
        return sum(line.kind == "added" for line in self.lines)

    @property
    def summary(self):
        if not self.old:
            return f"added ({_lines(self.added)})"
        if not self.new:
            return f"removed ({_lines(self.removed)})"
        if self.removed == self.added:
            return f"{_lines(self.added)} changed"
        parts = [
            f"{_lines(self.removed)} removed" if self.removed else "",
            f"{_lines(self.added)} added" if self.added else "",
        ]
        return ", ".join(part for part in parts if part)


def _lines(count):
    return f"{count} line" if count == 1 else f"{count} lines"


def _words(old_line, new_line):
    """The two lines as segments, the words that differ marked; None when they are too unlike to pair."""
    old_tokens, new_tokens = _TOKEN.findall(old_line), _TOKEN.findall(new_line)
    matcher = SequenceMatcher(None, old_tokens, new_tokens, autojunk=False)
    if matcher.ratio() < SIMILAR_LINES:
        return None
    old_segments, new_segments = [], []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        old_segments.append(Segment("".join(old_tokens[i1:i2]), tag != "equal"))
        new_segments.append(Segment("".join(new_tokens[j1:j2]), tag != "equal"))
    return _merged(old_segments), _merged(new_segments)


def _merged(segments):
    """Join neighbouring runs of one kind, and let the spaces between two changed words count as changed."""
    segments = [segment for segment in segments if segment.text]
    for index in range(1, len(segments) - 1):
        segment = segments[index]
        if (
            not segment.changed
            and segment.text.isspace()
            and segments[index - 1].changed
            and segments[index + 1].changed
        ):
            segments[index] = Segment(segment.text, True)
    merged = []
    for segment in segments:
        if merged and merged[-1].changed == segment.changed:
            merged[-1] = Segment(merged[-1].text + segment.text, segment.changed)
        else:
            merged.append(segment)
    return tuple(merged)


def _pairs(old_lines, new_lines):
    """Which removed line became which added line: (old index, new index, segments) in order of both."""
    if len(old_lines) * len(new_lines) > PAIRING_LIMIT:
        candidates = [[(index, index)] for index in range(min(len(old_lines), len(new_lines)))]
    else:
        candidates = [[(i, j) for j in range(len(new_lines))] for i in range(len(old_lines))]
    pairs, next_new = [], 0
    for options in candidates:
        best = None
        for i, j in options:
            if j < next_new:
                continue
            words = _words(old_lines[i], new_lines[j])
            if words is not None:
                best = (i, j, words)
                break
        if best is not None:
            pairs.append(best)
            next_new = best[1] + 1
    return pairs


def _changed_block(old_lines, new_lines, old_start, new_start):
    """Removed lines, then added lines (as unified diffs show them), paired lines marked word by word."""
    marked_old, marked_new = {}, {}
    for i, j, (old_segments, new_segments) in _pairs(old_lines, new_lines):
        marked_old[i], marked_new[j] = old_segments, new_segments
    rows = [
        DiffLine("removed", old_number=old_start + i + 1, segments=marked_old.get(i, (Segment(line),)))
        for i, line in enumerate(old_lines)
    ]
    rows += [
        DiffLine("added", new_number=new_start + j + 1, segments=marked_new.get(j, (Segment(line),)))
        for j, line in enumerate(new_lines)
    ]
    return rows


def _unchanged_block(lines, old_start, new_start, *, first, last):
    """Unchanged lines: the few next to a change are shown, the rest folded into one row."""
    shown_before = 0 if first else CONTEXT_LINES
    shown_after = 0 if last else CONTEXT_LINES

    def same(index):
        return DiffLine(
            "same",
            old_number=old_start + index + 1,
            new_number=new_start + index + 1,
            segments=(Segment(lines[index]),),
        )

    if len(lines) <= shown_before + shown_after + 1:
        return [same(index) for index in range(len(lines))]
    rows = [same(index) for index in range(shown_before)]
    rows.append(DiffLine("fold", folded=len(lines) - shown_before - shown_after))
    rows += [same(index) for index in range(len(lines) - shown_after, len(lines))]
    return rows


def line_diff(old, new):
    """The rows of a text diff between two texts (normalised first); () when they say the same."""
    old_lines = old.split("\n") if old else []
    new_lines = new.split("\n") if new else []
    if old_lines == new_lines:
        return ()
    opcodes = SequenceMatcher(None, old_lines, new_lines, autojunk=False).get_opcodes()
    rows = []
    for position, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            rows += _unchanged_block(old_lines[i1:i2], i1, j1, first=position == 0, last=position == len(opcodes) - 1)
        else:
            rows += _changed_block(old_lines[i1:i2], new_lines[j1:j2], i1, j1)
    return tuple(rows)


def _words_of(key):
    return key.replace("_", " ")


def _text_fields_of(document, text_fields, child_keys):
    """{path: (label, text)} of every text field in a snapshot, child-list items named by their keys."""
    found = {}
    for name, value in (document or {}).items():
        if name in text_fields and isinstance(value, str):
            found[name] = (_words_of(name).capitalize(), value)
        elif name in child_keys and isinstance(value, list):
            for index, item in enumerate(value):
                if not isinstance(item, dict):
                    continue
                key = _item_label(name, item, index, child_keys)
                for field, field_value in item.items():
                    if field in text_fields and isinstance(field_value, str):
                        label = f"{_words_of(name).capitalize()} “{key}”: {_words_of(field)}"
                        found[f"{name}[{key}].{field}"] = (label, field_value)
    return found


def text_differences(old, new, kind):
    """Every text field of `kind` that differs between two snapshots, as line diffs, in document order."""
    if not kind.text_fields:
        return []
    before = _text_fields_of(normalise_document(old), kind.text_fields, kind.child_keys)
    after = _text_fields_of(normalise_document(new), kind.text_fields, kind.child_keys)
    paths = list(after) + [path for path in before if path not in after]
    differences = []
    for path in paths:
        label, new_text = after.get(path, (None, ""))
        old_label, old_text = before.get(path, (None, ""))
        lines = line_diff(old_text, new_text)
        if lines:
            differences.append(TextDifference(path, label or old_label, old_text, new_text, lines))
    return differences


def without_text(document, kind):
    """A copy of a snapshot with every text field of `kind` emptied: what describe() reads for the sentences
    about structured fields, when the text fields are shown as text_differences instead."""
    if not document or not kind.text_fields:
        return document
    emptied = {}
    for name, value in document.items():
        if name in kind.text_fields and isinstance(value, str):
            emptied[name] = ""
        elif name in kind.child_keys and isinstance(value, list):
            emptied[name] = [
                {
                    field: "" if field in kind.text_fields and isinstance(text, str) else text
                    for field, text in item.items()
                }
                if isinstance(item, dict)
                else item
                for item in value
            ]
        else:
            emptied[name] = value
    return emptied
