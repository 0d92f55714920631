"""SLA objectives as OpenSLO v1 documents, out and back in.

OpenSLO (https://github.com/OpenSLO/OpenSLO, ``apiVersion: openslo/v1``) is how SLO
tools describe objectives. The portal writes and reads two of its kinds: ``Service``
and ``SLO`` with an inline indicator.

Export
------
`export_documents(sla)` gives one ``Service`` document for the SLA's service and one
``SLO`` document per objective, from the SLA's current snapshot (the governed-document
adapter), so the file says exactly what the SLA page says. `dump()` writes documents
as one multi-document YAML file.

How an objective becomes an SLO:

- A percentage objective ("99.9 %") is a ratio indicator (``indicator.spec.ratioMetric``,
  good and total events, as the portal's measurements count them) with one objective
  whose ``target`` is the percentage as a ratio (0.999).
- Any other unit (latencies in ms or s) is an upper bound: a ``thresholdMetric``
  indicator with one objective ``op: lte``, ``value`` = the target in its unit. Latency
  objectives name a percentile in their indicator ("Authorisation latency, p95"), and
  "p95 at most 800 ms" is the same commitment as "at least 95 % of requests take at
  most 800 ms", so ``target`` is that percentile as a ratio (0.95). An indicator without
  a percentile bounds every event: ``target: 1``.
- ``timeWindow: [{duration: "<days>d", isRolling: true}]`` (portal windows are rolling
  whole days) and ``budgetingMethod: Occurrences``.
- Names are DNS labels: the Service is named after the service's slug, an SLO
  ``<sla reference>-<indicator>`` (``sla-0007-successful-requests``); a label that would
  pass 63 characters is cut and given a short hash of the full text, so it stays unique.
  The indicator itself is the SLO's and the objective's ``displayName``.
- Facts OpenSLO has no field for are annotations prefixed ``sla-portal.example/``: the
  SLA's reference, title, URL and version number (when the live SLA is that version),
  provider and consumer teams, the objective's unit and dashboard URL, and the SLA's
  response targets in words. The Service carries the exact service slug.

One liberty with the letter of the spec: it gives ``target`` as [0, 1), but the portal
allows a 100 % objective, exported as ``target: 1``; the reader accepts (0, 1] so such
files read back.

Import
------
`read_documents(text)` parses a file and checks it against the spec, raising
`OpenSLOError` with every problem named by document ("document 3 (SLO checkout-latency):
spec.objectives[0].target: …"); a YAML syntax error names its line. Kinds the portal
does not import (SLI, DataSource, alerting) are accepted and listed as skipped; an SLI
is used when an SLO names it in ``indicatorRef``.

`import_documents(text, acting_user=…)` turns the SLOs into draft change requests,
one per SLA concerned, through the approval engine, so every imported change is
reviewed like any other:

- An SLO belongs to the SLA its ``sla-portal.example/sla`` annotation names; without
  one, to the only SLA (not retired) of its service; anything else is an error.
- Each objective of an SLO updates the SLA objective with the same indicator (its
  ``displayName``, else the SLO's) or is added after the existing ones. Objectives the
  file does not mention are kept: a partial file never deletes terms (remove one in the
  portal). Unit, dashboard URL and window not given keep their current values.
- Only what the portal can hold is accepted: ``Occurrences`` budgeting, rolling windows
  of whole days, thresholds as upper bounds (``op: lte``) whose target matches the
  percentile in the indicator.
- An SLA whose proposed document equals its current one gets no request ("no change"),
  so importing an export proposes nothing. Every document is checked before anything is
  written; one problem anywhere means nothing is written.
"""

import hashlib
import re
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal, InvalidOperation

import yaml
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from approvals import actions as approval_actions
from approvals.registry import content_hash, get_kind
from core.templatetags.portal import duration
from sla_registry.choices import AgreementStatus, Coverage
from sla_registry.formats.yaml_documents import YAMLDocument, YAMLFileError, load_documents
from sla_registry.models import Service, ServiceLevelAgreement

API_VERSION = "openslo/v1"
ANNOTATION_PREFIX = "sla-portal.example/"
KINDS = ("Service", "SLO", "SLI", "DataSource", "AlertPolicy", "AlertCondition", "AlertNotificationTarget")
METRIC_SOURCE_TYPE = "SLAPortal"
BUDGETING_METHODS = ("Occurrences", "Timeslices", "RatioTimeslices")
OPERATORS = ("lte", "gte", "lt", "gt")
DESCRIPTION_LENGTH = 1050
SUMMARY_LENGTH = 200

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
DURATION_SHORTHAND = re.compile(r"^([0-9]+)([mhdwMQY])$")
PERCENTILE = re.compile(r"\bp(\d{1,2}(?:\.\d+)?)\b", re.IGNORECASE)
# Minutes per duration-shorthand unit; months, quarters and years as the OpenSLO reference
# implementation counts them (30, 90 and 365 days).
MINUTES_PER_UNIT = {"m": 1, "h": 60, "d": 1440, "w": 7 * 1440, "M": 30 * 1440, "Q": 90 * 1440, "Y": 365 * 1440}


def annotation(name):
    """The full annotation key the portal uses for `name`: "sla-portal.example/sla"."""
    return f"{ANNOTATION_PREFIX}{name}"


class OpenSLOError(ValidationError):
    """The documents are not OpenSLO v1, or cannot become the portal's objectives; nothing was written.

    `messages` lists every problem, each naming the document, the field and what is wrong.
    """

    def __init__(self, messages):
        super().__init__(list(messages))


# Export ----------------------------------------------------------------------


def dns_label(text, *, fallback="x"):
    """`text` as an RFC 1123 label: lowercase letters, digits and "-", at most 63 characters."""
    label = re.sub(r"-{2,}", "-", slugify(text).replace("_", "-")).strip("-") or fallback
    if len(label) > 63:
        digest = hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:8]
        label = f"{label[:54].rstrip('-')}-{digest}"
    return label


def _number(decimal_value):
    """A YAML number for a Decimal: an int when whole (800), else a float (0.999)."""
    value = decimal_value.normalize()
    return int(value) if value == value.to_integral_value() else float(value)


def _percentile(indicator):
    """0.95 for "Authorisation latency, p95"; 1 when the indicator names no percentile."""
    match = PERCENTILE.search(indicator)
    return Decimal(match.group(1)) / 100 if match else Decimal(1)


def _response_targets_text(targets):
    def minutes(value):
        return duration(timedelta(minutes=value)) if value is not None else "none"

    parts = []
    for target in targets:
        category = f" ({target['category']})" if target["category"] else ""
        update = target["customer_update_interval_minutes"]
        parts.append(
            f"{target['severity']}{category}: acknowledge {minutes(target['time_to_acknowledge_minutes'])}, "
            f"restore {minutes(target['time_to_restore_minutes'])}, "
            f"resolve {minutes(target['time_to_resolve_minutes'])}"
            + (f", customer updates every {minutes(update)}" if update else "")
            + (f", {Coverage(target['coverage']).label}" if target["coverage"] in Coverage.values else "")
        )
    return "; ".join(parts)


def _metric_source(reference, indicator, **extra):
    """Where the numbers come from: the measurements recorded in the portal for that objective."""
    spec = {"sla": reference, "indicator": indicator, **extra}
    return {"metricSource": {"type": METRIC_SOURCE_TYPE, "spec": spec}}


def _service_document(service):
    document = {
        "apiVersion": API_VERSION,
        "kind": "Service",
        "metadata": {
            "name": dns_label(service.slug),
            "displayName": service.name,
            "annotations": {annotation("service"): service.slug},
        },
    }
    if service.description:
        document["spec"] = {"description": service.description[:DESCRIPTION_LENGTH]}
    else:
        document["spec"] = {}
    return document


def _slo_document(objective, *, name, service_label, sla_annotations, reference, title):
    indicator = objective["indicator"]
    target = Decimal(objective["target"])
    unit = objective["unit"]
    annotations = {**sla_annotations, annotation("unit"): unit}
    if objective["dashboard_url"]:
        annotations[annotation("dashboard-url")] = objective["dashboard_url"]
    if unit == "%":
        indicator_spec = {
            "ratioMetric": {
                "counter": False,
                "good": _metric_source(reference, indicator, events="good"),
                "total": _metric_source(reference, indicator, events="total"),
            }
        }
        target_text = f"{_number(target)}%"
        objectives = [{"displayName": indicator, "target": _number(target / 100)}]
    else:
        indicator_spec = {"thresholdMetric": _metric_source(reference, indicator)}
        target_text = f"{_number(target)} {unit}"
        objectives = [
            {"displayName": indicator, "op": "lte", "value": _number(target), "target": _number(_percentile(indicator))}
        ]
    description = f"{indicator}: {target_text} over {objective['window_days']} d ({reference} {title})"
    return {
        "apiVersion": API_VERSION,
        "kind": "SLO",
        "metadata": {"name": name, "displayName": indicator, "annotations": annotations},
        "spec": {
            "description": description[:DESCRIPTION_LENGTH],
            "service": service_label,
            "indicator": {"metadata": {"name": name, "displayName": indicator}, "spec": indicator_spec},
            "timeWindow": [{"duration": f"{objective['window_days']}d", "isRolling": True}],
            "budgetingMethod": "Occurrences",
            "objectives": objectives,
        },
    }


def export_documents(sla):
    """One Service document and one SLO document per objective of `sla`, from its current snapshot.

    Six queries however many objectives the SLA has.
    """
    kind = get_kind("sla")
    snapshot = kind.snapshot(sla)
    reference = kind.reference_of(sla.pk)
    service = Service.objects.only("name", "slug", "description").get(slug=snapshot["service"])
    latest = approval_actions.latest_version(kind.key, sla.pk)
    sla_annotations = {
        annotation("sla"): reference,
        annotation("sla-title"): snapshot["title"],
        annotation("sla-url"): f"{settings.PORTAL_BASE_URL.rstrip('/')}{kind.document_url(sla.pk)}",
        annotation("provider-team"): snapshot["provider_team"],
        annotation("consumer-teams"): ",".join(snapshot["consumer_teams"]),
        annotation("response-targets"): _response_targets_text(snapshot["response_targets"]),
    }
    if latest is not None and latest.holds(snapshot):
        sla_annotations[annotation("version")] = str(latest.number)

    service_label = dns_label(service.slug)
    documents = [_service_document(service)]
    used_names = set()
    for position, objective in enumerate(snapshot["objectives"], start=1):
        base = dns_label(f"{reference}-{objective['indicator']}", fallback=f"{reference.lower()}-{position}")
        name, suffix = base, 2
        while name in used_names:
            name = f"{base[: 63 - len(str(suffix)) - 1]}-{suffix}"
            suffix += 1
        used_names.add(name)
        documents.append(
            _slo_document(
                objective,
                name=name,
                service_label=service_label,
                sla_annotations=sla_annotations,
                reference=reference,
                title=snapshot["title"],
            )
        )
    return documents


def export_all(slas):
    """The documents of several SLAs in one list, each service's Service document once."""
    documents, services_seen = [], set()
    for sla in slas:
        for document in export_documents(sla):
            if document["kind"] == "Service":
                if document["metadata"]["name"] in services_seen:
                    continue
                services_seen.add(document["metadata"]["name"])
            documents.append(document)
    return documents


def dump(documents):
    """Multi-document YAML, keys in the order the documents were built (apiVersion, kind, metadata, spec)."""
    return yaml.safe_dump_all(
        documents, sort_keys=False, explicit_start=True, allow_unicode=True, default_flow_style=False, width=120
    )


# Reading ---------------------------------------------------------------------


class _Entry(YAMLDocument):
    """One OpenSLO object of the file, with where it was."""

    @property
    def display_name(self):
        return self.metadata.get("displayName") or self.name


class _Problems:
    def __init__(self):
        self.messages = []

    def add(self, where, field_path, message):
        self.messages.append(f"{where}: {field_path}: {message}" if field_path else f"{where}: {message}")

    def raise_if_any(self):
        if self.messages:
            raise OpenSLOError(self.messages)


def _is_number(value):
    return isinstance(value, int | float) and not isinstance(value, bool)


def _decimal(value):
    """An exact Decimal for a YAML number: 0.999 stays 0.999 (repr, not the binary float)."""
    try:
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, ValueError):
        return None


def _load(text):
    try:
        return load_documents(text)
    except YAMLFileError as error:
        raise OpenSLOError([str(error)]) from None


def _read_entry(number, document, problems):
    where = f"document {number}"
    if not isinstance(document, dict):
        problems.add(where, None, f"expected a mapping with apiVersion, kind, metadata and spec, got {document!r:.60}")
        return None
    kind = document.get("kind")
    metadata = document.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    if isinstance(kind, str) and isinstance(name, str):
        where = f"document {number} ({kind} {name})"
    elif isinstance(kind, str):
        where = f"document {number} ({kind})"
    ok = True
    if document.get("apiVersion") != API_VERSION:
        shown = document.get("apiVersion")
        problems.add(
            where,
            "apiVersion",
            f"{shown!r} is not {API_VERSION}" if shown is not None else f"required; must be {API_VERSION}",
        )
    if kind not in KINDS:
        problems.add(where, "kind", f"{kind!r} is not an OpenSLO v1 kind (one of {', '.join(KINDS)})")
        ok = False
    if not isinstance(metadata, dict):
        problems.add(where, "metadata", "required: a mapping with at least a name")
        return None
    if not isinstance(name, str) or not name:
        problems.add(where, "metadata.name", "required")
    elif not DNS_LABEL.match(name):
        problems.add(
            where,
            "metadata.name",
            f"{name!r} is not a DNS label: lowercase letters, digits and '-', at most 63 characters, "
            "starting and ending with a letter or digit",
        )
    if "displayName" in metadata and not isinstance(metadata["displayName"], str):
        problems.add(where, "metadata.displayName", "must be text")
    annotations = metadata.get("annotations")
    if annotations is not None:
        if not isinstance(annotations, dict):
            problems.add(where, "metadata.annotations", "must be a mapping of text to text")
        else:
            for key, value in annotations.items():
                if not isinstance(value, str):
                    problems.add(where, f"metadata.annotations.{key}", "must be text (quote the value)")
    if "spec" in document and not isinstance(document["spec"], dict):
        problems.add(where, "spec", "must be a mapping")
        ok = False
    elif "spec" not in document and kind in ("SLO", "SLI"):
        problems.add(where, "spec", "required")
        ok = False
    return _Entry(number, kind, name, document) if ok else None


def _metric_kind(spec, where, path, problems):
    """ "ratio" or "threshold" for an SLI spec, or None after naming what is wrong."""
    if not isinstance(spec, dict):
        problems.add(where, path, "must be a mapping with thresholdMetric or ratioMetric")
        return None
    threshold, ratio = spec.get("thresholdMetric"), spec.get("ratioMetric")
    if (threshold is None) == (ratio is None):
        problems.add(where, path, "needs exactly one of thresholdMetric and ratioMetric")
        return None
    if threshold is not None:
        if not isinstance(threshold, dict) or not isinstance(threshold.get("metricSource"), dict):
            problems.add(where, f"{path}.thresholdMetric", "needs a metricSource mapping")
            return None
        return "threshold"
    if not isinstance(ratio, dict):
        problems.add(where, f"{path}.ratioMetric", "must be a mapping")
        return None
    if "raw" in ratio:
        if ratio.get("rawType") not in ("success", "failure"):
            problems.add(where, f"{path}.ratioMetric.rawType", "required with raw: success or failure")
            return None
        return "ratio"
    if "total" not in ratio or ("good" in ratio) == ("bad" in ratio):
        problems.add(where, f"{path}.ratioMetric", "needs total and exactly one of good and bad (or raw)")
        return None
    return "ratio"


def _check_time_window(entry, problems):
    windows = entry.spec.get("timeWindow")
    if windows is None:
        return
    if not isinstance(windows, list) or len(windows) != 1 or not isinstance(windows[0], dict):
        problems.add(entry.where, "spec.timeWindow", "must be a list of exactly one window")
        return
    window = windows[0]
    text = window.get("duration")
    if not isinstance(text, str) or not DURATION_SHORTHAND.match(text) or int(text[:-1]) == 0:
        problems.add(
            entry.where,
            "spec.timeWindow[0].duration",
            f"{text!r} is not a duration: a positive whole number and one of m h d w M Q Y (28d, 4w, 1M)",
        )
    if "isRolling" in window and not isinstance(window["isRolling"], bool):
        problems.add(entry.where, "spec.timeWindow[0].isRolling", "must be true or false")
    calendar = window.get("calendar")
    if calendar is not None and (
        not isinstance(calendar, dict) or not calendar.get("startTime") or not calendar.get("timeZone")
    ):
        problems.add(entry.where, "spec.timeWindow[0].calendar", "needs startTime and timeZone")


def _check_objectives(entry, metric_kind, problems):
    objectives = entry.spec.get("objectives")
    if not isinstance(objectives, list) or not objectives:
        problems.add(entry.where, "spec.objectives", "required: a list of at least one objective")
        return
    if metric_kind == "threshold" and len(objectives) > 1:
        problems.add(entry.where, "spec.objectives", "an SLO with a thresholdMetric has exactly one objective")
    method = entry.spec.get("budgetingMethod")
    for index, objective in enumerate(objectives):
        path = f"spec.objectives[{index}]"
        if not isinstance(objective, dict):
            problems.add(entry.where, path, "must be a mapping")
            continue
        if "displayName" in objective and not isinstance(objective["displayName"], str):
            problems.add(entry.where, f"{path}.displayName", "must be text")
        has_target, has_percent = "target" in objective, "targetPercent" in objective
        if has_target == has_percent:
            problems.add(entry.where, path, "needs exactly one of target and targetPercent")
        elif has_target:
            target = objective["target"]
            if not _is_number(target) or not 0 < target <= 1:
                problems.add(
                    entry.where,
                    f"{path}.target",
                    f"{target!r} is not a ratio above 0 and at most 1 (99.9 % is written 0.999)",
                )
        else:
            percent = objective["targetPercent"]
            if not _is_number(percent) or not 0 < percent <= 100:
                problems.add(entry.where, f"{path}.targetPercent", f"{percent!r} is not above 0 and at most 100")
        if "op" in objective and objective["op"] not in OPERATORS:
            problems.add(entry.where, f"{path}.op", f"{objective['op']!r} is not one of {', '.join(OPERATORS)}")
        if "value" in objective and not _is_number(objective["value"]):
            problems.add(entry.where, f"{path}.value", "must be a number")
        if metric_kind == "threshold":
            for required in ("op", "value"):
                if required not in objective:
                    problems.add(entry.where, f"{path}.{required}", "required with a thresholdMetric")
        if method == "Timeslices" and "timeSliceTarget" not in objective:
            problems.add(entry.where, f"{path}.timeSliceTarget", "required with Timeslices budgeting")
        if method in ("Timeslices", "RatioTimeslices") and "timeSliceWindow" not in objective:
            problems.add(entry.where, f"{path}.timeSliceWindow", f"required with {method} budgeting")


def _check_slo(entry, service_names, slis, portal_labels, problems):
    spec = entry.spec
    description = spec.get("description")
    if description is not None and (not isinstance(description, str) or len(description) > DESCRIPTION_LENGTH):
        problems.add(entry.where, "spec.description", f"must be text of at most {DESCRIPTION_LENGTH} characters")
    service = spec.get("service")
    if not isinstance(service, str) or not service:
        problems.add(entry.where, "spec.service", "required: the name of the service this SLO is about")
    elif service not in service_names and service not in portal_labels():
        problems.add(
            entry.where, "spec.service", f"{service!r} names no Service in this file and no service in the portal"
        )
    metric_kind = None
    indicator, reference = spec.get("indicator"), spec.get("indicatorRef")
    if (indicator is None) == (reference is None):
        problems.add(entry.where, "spec.indicator", "needs exactly one of indicator and indicatorRef")
    elif indicator is not None:
        if not isinstance(indicator, dict):
            problems.add(entry.where, "spec.indicator", "must be a mapping with metadata and spec")
        else:
            metric_kind = _metric_kind(indicator.get("spec"), entry.where, "spec.indicator.spec", problems)
    elif reference not in slis:
        problems.add(entry.where, "spec.indicatorRef", f"{reference!r} names no SLI in this file")
    else:
        metric_kind = _metric_kind(slis[reference].spec, entry.where, f"SLI {reference} spec", problems)
    method = spec.get("budgetingMethod")
    if method not in BUDGETING_METHODS:
        problems.add(
            entry.where,
            "spec.budgetingMethod",
            f"{method!r} is not one of {', '.join(BUDGETING_METHODS)}" if method else "required",
        )
    _check_time_window(entry, problems)
    _check_objectives(entry, metric_kind, problems)
    return metric_kind


@dataclass
class _File:
    entries: list
    metric_kinds: dict  # SLO entry number -> "ratio" | "threshold"

    def of_kind(self, kind):
        return [entry for entry in self.entries if entry.kind == kind]


def _read(text):
    problems = _Problems()
    entries = []
    for number, document in enumerate(_load(text), start=1):
        if document is None:  # an empty document, e.g. after a trailing ---
            continue
        entry = _read_entry(number, document, problems)
        if entry is not None:
            entries.append(entry)
    if not entries and not problems.messages:
        problems.add("The file", None, "has no OpenSLO documents")
    first_of = {}
    for entry in entries:
        key = (entry.kind, entry.name)
        if not isinstance(entry.name, str):
            continue
        if key in first_of:
            problems.add(
                entry.where, "metadata.name", f"document {first_of[key]} is already the {entry.kind} {entry.name}"
            )
        first_of.setdefault(key, entry.number)

    portal_labels_cache = []

    def portal_labels():
        if not portal_labels_cache:
            portal_labels_cache.append({dns_label(slug) for slug in Service.objects.values_list("slug", flat=True)})
        return portal_labels_cache[0]

    service_names = {entry.name for entry in entries if entry.kind == "Service"}
    slis = {entry.name: entry for entry in entries if entry.kind == "SLI"}
    metric_kinds = {}
    for entry in entries:
        if entry.kind == "SLO":
            metric_kinds[entry.number] = _check_slo(entry, service_names, slis, portal_labels, problems)
        elif entry.kind == "SLI":
            _metric_kind(entry.spec, entry.where, "spec", problems)
    problems.raise_if_any()
    return _File(entries, metric_kinds)


def read_documents(text):
    """The OpenSLO v1 documents of `text` (YAML, one or more documents), checked against the spec.

    Raises OpenSLOError listing every problem; never anything else for bad input.
    """
    return [entry.body for entry in _read(text).entries]


# Import ----------------------------------------------------------------------


@dataclass
class SlaImport:
    """What an import did for one SLA: the draft change request it proposed, or none ("no change")."""

    sla: ServiceLevelAgreement
    change_request: object = None
    changes: list = field(default_factory=list)  # the adapter's describe() lines
    documents: list = field(default_factory=list)  # "document 2 (SLO …)" it was built from

    @property
    def changed(self):
        return self.change_request is not None


@dataclass
class ImportResult:
    slas: list = field(default_factory=list)  # SlaImport, in the order the file first names them
    skipped: list = field(default_factory=list)  # documents read but not imported, and why

    @property
    def proposals(self):
        return [item.change_request for item in self.slas if item.changed]

    @property
    def unchanged(self):
        return [item.sla for item in self.slas if not item.changed]


@dataclass
class _ImportedObjective:
    """One OpenSLO objective as a portal objective; None fields keep the current objective's value."""

    entry: object
    path: str
    indicator: str
    target: str
    unit: str | None
    window_days: int | None
    dashboard_url: str | None


@dataclass
class _SlaPlan:
    sla: ServiceLevelAgreement
    current: dict
    objectives: list = field(default_factory=list)  # _ImportedObjective
    entries: list = field(default_factory=list)


def _window_days(entry, problems):
    windows = entry.spec.get("timeWindow")
    if windows is None:
        return None
    window = windows[0]
    if window.get("calendar") is not None or window.get("isRolling") is False:
        problems.add(
            entry.where,
            "spec.timeWindow[0]",
            "calendar-aligned windows cannot be imported: the portal measures objectives over rolling windows",
        )
        return None
    text = window["duration"]
    minutes = int(text[:-1]) * MINUTES_PER_UNIT[text[-1]]
    if minutes % 1440:
        problems.add(
            entry.where, "spec.timeWindow[0].duration", f"{text} is not a whole number of days, as portal windows are"
        )
        return None
    return minutes // 1440


def _target_ratio(objective):
    if "target" in objective:
        return _decimal(objective["target"])
    percent = _decimal(objective["targetPercent"])
    return percent / 100 if percent is not None else None


def _decimal_text(number):
    return format(number.normalize(), "f")


def _convert(entry, metric_kind, current_objectives, problems):
    """The portal objectives of one SLO document (empty after naming what is wrong)."""
    spec = entry.spec
    if spec["budgetingMethod"] != "Occurrences":
        problems.add(
            entry.where,
            "spec.budgetingMethod",
            f"{spec['budgetingMethod']} cannot be imported: the portal counts good and total events (Occurrences)",
        )
        return []
    window_days = _window_days(entry, problems)
    if window_days is None and spec.get("timeWindow") is not None:
        return []  # the window was refused, and said so
    unit_given = entry.annotations.get(annotation("unit"))
    dashboard_url = entry.annotations.get(annotation("dashboard-url"))
    several = len(spec["objectives"]) > 1
    converted = []
    for index, objective in enumerate(spec["objectives"]):
        path = f"spec.objectives[{index}]"
        indicator = (objective.get("displayName") or "").strip()
        if not indicator:
            if several:
                problems.add(
                    entry.where,
                    f"{path}.displayName",
                    "required when an SLO has several objectives: it becomes the objective's indicator",
                )
                continue
            indicator = entry.display_name.strip()
        existing = current_objectives.get(indicator)
        ratio = _target_ratio(objective)
        if metric_kind == "ratio":
            if unit_given not in (None, "%"):
                problems.add(
                    entry.where,
                    f"metadata.annotations.{annotation('unit')}",
                    f"{unit_given!r}: a ratio objective is a percentage (%)",
                )
                continue
            target, unit = _decimal_text(ratio * 100), "%"
        else:
            if objective["op"] != "lte":
                problems.add(
                    entry.where,
                    f"{path}.op",
                    f"{objective['op']}: the portal's objectives other than percentages are upper bounds (lte)",
                )
                continue
            unit = unit_given or (existing["unit"] if existing and existing["unit"] != "%" else None)
            if not unit or unit == "%":
                problems.add(
                    entry.where,
                    f"metadata.annotations.{annotation('unit')}",
                    "required for a threshold objective: the unit of its value, such as ms or s",
                )
                continue
            expected = _percentile(indicator)
            if ratio != expected:
                problems.add(
                    entry.where,
                    f"{path}.target",
                    f"{objective.get('target', objective.get('targetPercent'))} does not match the indicator "
                    f"“{indicator}”: the portal keeps the percentile in the indicator (p95 is target 0.95; "
                    "no percentile is target 1)",
                )
                continue
            value = _decimal(objective["value"])
            if value is None or not value.is_finite() or value <= 0:
                problems.add(entry.where, f"{path}.value", "must be a number above 0")
                continue
            target = _decimal_text(value)
        converted.append(_ImportedObjective(entry, path, indicator, target, unit, window_days, dashboard_url))
    return converted


def _portal_services_for(file):
    """For each Service document name: the portal service it describes (by its slug annotation, else its name)."""
    services = list(Service.objects.only("pk", "slug", "name"))
    by_slug = {service.slug: service for service in services}
    by_label = {dns_label(service.slug): service for service in services}
    described = {}
    for entry in file.of_kind("Service"):
        slug = entry.annotations.get(annotation("service"))
        described[entry.name] = by_slug.get(slug) if slug else by_label.get(entry.name)
    return lambda name: described[name] if name in described else by_label.get(name)


def _sla_for(entry, service, slas, problems):
    reference = entry.annotations.get(annotation("sla"))
    key = f"metadata.annotations.{annotation('sla')}"
    if reference:
        sla = slas.get(ServiceLevelAgreement.pk_from_reference(reference.strip()))
        if sla is None:
            problems.add(entry.where, key, f"{reference!r} is no SLA in the portal")
            return None
        if service is None or service.pk != sla.service_id:
            problems.add(
                entry.where,
                "spec.service",
                f"{entry.spec['service']!r} is not the service of {sla.reference} ({sla.service.slug})",
            )
            return None
        return sla
    if service is None:
        problems.add(
            entry.where,
            "spec.service",
            f"{entry.spec['service']!r} is no service in the portal, and the SLO names no SLA in {key}",
        )
        return None
    candidates = [
        sla for sla in slas.values() if sla.service_id == service.pk and sla.status != AgreementStatus.RETIRED
    ]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        problems.add(entry.where, "spec.service", f"{service.name} has no SLA in the portal to hold this objective")
    else:
        shown = ", ".join(sla.reference for sla in candidates)
        problems.add(entry.where, key, f"required: {service.name} has {len(candidates)} SLAs ({shown}); name one")
    return None


def _proposed_document(plan, problems):
    """The SLA's current snapshot with the imported objectives updated in place or added."""
    objectives = [dict(objective) for objective in plan.current["objectives"]]
    position_of = {objective["indicator"]: index for index, objective in enumerate(objectives)}
    given_by = {}
    sources = {}
    for imported in plan.objectives:
        if imported.indicator in given_by:
            problems.add(
                imported.entry.where,
                imported.path,
                f"{given_by[imported.indicator]} already gives {plan.sla.reference} "
                f"the objective “{imported.indicator}”",
            )
            continue
        given_by[imported.indicator] = imported.entry.where
        index = position_of.get(imported.indicator)
        existing = objectives[index] if index is not None else None
        window_days = imported.window_days or (existing["window_days"] if existing else None)
        if window_days is None:
            problems.add(
                imported.entry.where,
                "spec.timeWindow",
                "required for a new objective: the rolling window it is measured over, e.g. 28d",
            )
            continue
        objective = {
            "indicator": imported.indicator,
            "target": imported.target,
            "unit": imported.unit,
            "window_days": window_days,
            "dashboard_url": (
                imported.dashboard_url
                if imported.dashboard_url is not None
                else (existing["dashboard_url"] if existing else "")
            ),
        }
        if index is None:
            position_of[imported.indicator] = index = len(objectives)
            objectives.append(objective)
        else:
            objectives[index] = objective
        sources[index] = imported
    return {**plan.current, "objectives": objectives}, sources


def _adapter_problems(plan, error, sources, problems):
    for key, messages in error.message_dict.items():
        match = re.match(r"^objectives\[(\d+)\](?:\.(\w+))?$", key)
        imported = sources.get(int(match.group(1))) if match else None
        for message in messages:
            if imported is not None:
                field_name = match.group(2) or ""
                problems.add(
                    imported.entry.where,
                    f"{imported.path}{' (' + field_name + ')' if field_name else ''}",
                    f"{plan.sla.reference} cannot take it: {message}",
                )
            else:
                problems.add(plan.sla.reference, key, message)


def _default_summary(changes):
    summary = f"OpenSLO import: {changes[0]}"
    if len(changes) > 1:
        summary += f" (and {len(changes) - 1} more)"
    return summary if len(summary) <= SUMMARY_LENGTH else summary[: SUMMARY_LENGTH - 1] + "…"


def import_documents(text, *, acting_user, summary=None, rationale=None):
    """Propose, as draft change requests, the objectives the SLO documents of `text` give their SLAs.

    Returns an ImportResult listing, per SLA concerned, the request proposed or no
    change. Raises OpenSLOError (and writes nothing) when any document is wrong.
    """
    file = _read(text)
    problems = _Problems()
    kind = get_kind("sla")
    if summary is not None and len(summary.strip()) > SUMMARY_LENGTH:
        problems.add("The summary", None, f"is longer than {SUMMARY_LENGTH} characters")

    slas = ServiceLevelAgreement.objects.select_related("service").in_bulk()
    portal_service = _portal_services_for(file)
    plans = {}
    for entry in file.of_kind("SLO"):
        sla = _sla_for(entry, portal_service(entry.spec["service"]), slas, problems)
        if sla is None:
            continue
        if sla.pk not in plans:
            plans[sla.pk] = _SlaPlan(sla, kind.snapshot(sla))
        plan = plans[sla.pk]
        current = {objective["indicator"]: objective for objective in plan.current["objectives"]}
        plan.objectives += _convert(entry, file.metric_kinds[entry.number], current, problems)
        plan.entries.append(entry.where)

    proposals = []
    for plan in plans.values():
        data, sources = _proposed_document(plan, problems)
        try:
            cleaned = kind.validate(data, plan.sla)
        except ValidationError as error:
            _adapter_problems(plan, error, sources, problems)
            continue
        changes = []
        if content_hash(cleaned) != content_hash(plan.current):
            changes = kind.describe(plan.current, cleaned) or ["Objectives updated"]
        proposals.append((plan, cleaned, changes))
    problems.raise_if_any()

    result = ImportResult(
        skipped=[
            f"{entry.where}: not imported (the portal reads Service and SLO documents)"
            for entry in file.entries
            if entry.kind not in ("Service", "SLO", "SLI")
        ]
    )
    try:
        with transaction.atomic():
            for plan, cleaned, changes in proposals:
                change_request = None
                if changes:
                    change_request = approval_actions.propose_change(
                        kind.key,
                        plan.sla,
                        data=cleaned,
                        summary=(summary or "").strip() or _default_summary(changes),
                        rationale=(rationale or "").strip()
                        or (
                            f"Proposed from an OpenSLO file ({'; '.join(plan.entries)}): "
                            "the objectives as the SLO tooling defines them."
                        ),
                        acting_user=acting_user,
                    )
                result.slas.append(SlaImport(plan.sla, change_request, changes, plan.entries))
    except ValidationError as error:
        raise OpenSLOError(error.messages) from None
    return result
