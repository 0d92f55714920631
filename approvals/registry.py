"""The governed-document registry.

Each kind of governed document (an SLA, an escalation matrix, …) registers one
adapter here from its AppConfig.ready(), so the approval engine works on any kind
without importing a concrete model.
"""

import hashlib
import re

from audit.models import canonical_json


class GovernedKind:
    """The adapter a governed kind provides. Subclass and implement every method.

    snapshot(obj) -> dict            the whole document, children included, canonical
    validate(data, document=None) -> dict
                                     cleaned data, or ValidationError with field-level messages
                                     (document: the one a change would apply to, for uniqueness checks)
    apply(obj, data, *, acting_user, change_request) -> obj
                                     write the document (None: create it) in the caller's transaction
    required_teams(obj, data) -> dict[team, reason]
                                     who must approve, and why (the policy)
    describe(old, new) -> list[str]  a human-readable diff of two snapshots (old may be None)
    """

    key = ""  # stable identifier stored on change requests and versions
    label = ""  # "SLA"
    model = None
    # For the field-level diff: how the items of each child list are identified.
    child_keys = {}
    # Fields holding prose (markdown), at the top level or in a child list's items: the change page
    # diffs them line by line and word by word instead of saying "rewritten".
    text_fields = frozenset()

    def snapshot(self, obj):
        raise NotImplementedError

    def validate(self, data, document=None):
        raise NotImplementedError

    def apply(self, obj, data, *, acting_user, change_request):
        raise NotImplementedError

    def required_teams(self, obj, data):
        raise NotImplementedError

    def describe(self, old, new):
        raise NotImplementedError

    def reference_of(self, document_id):
        """The human reference of a document, e.g. SLA-0007."""
        return f"{self.model.REFERENCE_PREFIX}-{document_id:04d}" if document_id else f"new {self.label}"

    def document_id_from_reference(self, reference):
        """7 for "SLA-0007", or None when the text is not a reference of this kind."""
        return self.model.pk_from_reference(reference)

    def document_url(self, document_id):
        """Where the document is read, or None."""
        return None

    def revise_url(self, change_request):
        """The editor that revises this kind's proposals."""
        return None

    def is_versioned(self, document):
        """Whether the document's live state is a version yet. A draft review is not: its first
        version is the one its publication request applies."""
        return True

    def restriction(self, change_request, link=""):
        """For outbound messages about this request: a notifications Restriction when its document, as it
        stands or as the request proposes it, is restricted (readers get the text, everyone else is told
        only that something waits in the portal), or None when everyone may read it."""
        return None

    def filter_visible(self, change_requests, user):
        """Change requests of this kind that `user` may see (a kind with restricted documents narrows it)."""
        return change_requests

    def retired(self, data):
        """The document as a retire request proposes it."""
        return {**data, "status": "retired"}

    def title_of(self, data):
        return data.get("title", "")

    def services_of(self, data):
        """Slugs of the services a proposed document concerns (for checks such as freeze windows).

        By convention a document names them under "service" (one slug) or "services" (a list).
        """
        service = data.get("service")
        return [service] if service else list(data.get("services") or [])

    def get_object(self, document_id, *, lock=False):
        queryset = self.model._default_manager.all()
        if lock:
            queryset = queryset.select_for_update()
        return queryset.get(pk=document_id)


_kinds = {}


def register(kind):
    if kind.key in _kinds and type(_kinds[kind.key]) is not type(kind):
        raise ValueError(f"A governed kind is already registered as {kind.key!r}")
    _kinds[kind.key] = kind
    return kind


def get_kind(key):
    try:
        return _kinds[key]
    except KeyError:
        raise LookupError(f"No governed kind is registered as {key!r}") from None


def kind_for(obj):
    for kind in _kinds.values():
        if isinstance(obj, kind.model):
            return kind
    raise LookupError(f"{type(obj).__name__} is not a governed document")


def all_kinds():
    return list(_kinds.values())


_approval_warnings = []


def register_approval_warning(check):
    """Add a check that warns an approver before approving: check(change_request) -> list of messages.

    Apps above approvals register theirs (releases warns of freeze windows), so the
    approval pages show the warnings without importing those apps.
    """
    if check not in _approval_warnings:
        _approval_warnings.append(check)


def approval_warnings(change_request):
    return [message for check in _approval_warnings for message in check(change_request)]


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def normalise_text(text):
    """Text as governed documents hold it: lines end in "\\n", no line ends in spaces, nothing blank at either end.

    A change that touches only line endings or trailing whitespace is therefore no change: the
    content hash stays, the diff is empty. (Two trailing spaces, markdown's hard line break, go
    too; a backslash at the end of a line still makes one.)
    """
    return "\n".join(line.rstrip() for line in _LINE_BREAK.split(text)).strip()


def normalise_document(value):
    """A document (or any part of one) with every text in it normalised; other values as they are.

    Every kind's snapshot and validate return their document through this one function, so what is
    hashed, stored and compared never differs by whitespace. Versions stored before it existed keep
    their snapshot and hash (the audit log names those hashes); compare them through it (see
    DocumentVersion.holds).
    """
    if isinstance(value, str):
        return normalise_text(value)
    if isinstance(value, dict):
        return {key: normalise_document(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [normalise_document(item) for item in value]
    return value


def content_hash(data):
    """SHA-256 of the canonical JSON of a document: what decisions bind to.

    The data is hashed as given: documents reach here normalised (normalise_document), and a stored
    version's hash must stay the hash of its stored snapshot for backups and the audit log to verify.
    """
    return hashlib.sha256(canonical_json(data).encode()).hexdigest()


def same_content(old, new):
    """Whether two documents say the same once their text is normalised (None is no document)."""
    if old is None or new is None:
        return old is new
    return content_hash(normalise_document(old)) == content_hash(normalise_document(new))
