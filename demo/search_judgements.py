"""The judged query set: what engineers type during an incident, and the document each of them wants.

Judged against the demo organisation (`manage.py seed_demo`, Basketly): singular and plural, typos and
unfinished words, natural phrases with extra words, error strings and numbers, role names and a service's
nickname. A query is answered when its wanted document is among the first three the search page shows:
the services it pins first, then its ranking. `bench_search` prints recall@3 and MRR over it on either
database, and tests/search/test_judged_queries.py holds the portal to at least 90 % recall@3.

TYPEAHEAD_QUERIES are the type-ahead's own: the start of a service's name, or its name mistyped, and the
service that must be the first suggestion (and the first pinned service of the results page), both in the
demo organisation and in bench_search's synthetic corpus.
"""

import re
from dataclasses import dataclass

SERVICE = "service"


@dataclass(frozen=True)
class Judgement:
    query: str
    wanted: str  # the title of the document a person wants
    why: str  # the kind of query, as the README's table groups them


JUDGED_QUERIES = [
    # A service's name as people type it: unfinished, singular, mistyped, abbreviated.
    Judgement("paym", "Payments Gateway", "prefix"),
    Judgement("checko", "Checkout API", "prefix"),
    Judgement("payment gateway", "Payments Gateway", "singular"),
    Judgement("refund service", "Refunds Service", "singular"),
    Judgement("paymnts", "Payments Gateway", "typo"),
    Judgement("payments gw", "Payments Gateway", "abbreviation"),
    Judgement("chekout api", "Checkout API", "typo"),
    Judgement("kuberntes", "Kubernetes Platform", "typo"),
    Judgement("postgress", "PostgreSQL Cluster", "typo"),
    Judgement("invetory", "Inventory Service", "typo"),
    Judgement("identiy service", "Identity Service", "typo"),
    Judgement("notifcation service", "Notification Service", "typo"),
    Judgement("frad scoring", "Fraud Scoring", "typo"),
    Judgement("obsrvability", "Observability Stack", "typo"),
    # Nicknames: what the service is built on, or the usual shorthand.
    Judgement("kafka", "Event Bus", "nickname"),
    Judgement("vault", "Secrets Vault", "nickname"),
    Judgement("k8s", "Kubernetes Platform", "nickname"),
    Judgement("postgres", "PostgreSQL Cluster", "nickname"),
    Judgement("opensearch", "Search API", "nickname"),
    Judgement("pgbouncer", "PostgreSQL Cluster", "nickname"),
    # Singular and plural, tense: the words of a review's title as someone remembers them.
    Judgement("login failed", "PIR-0002 Logins failed after the token-signing key rotation", "plural"),
    Judgement("logins failed", "PIR-0002 Logins failed after the token-signing key rotation", "plural"),
    Judgement(
        "login failing after key rotation", "PIR-0002 Logins failed after the token-signing key rotation", "tense"
    ),
    Judgement("passcode delayed", "PIR-0005 Notification backlog delayed passcodes and order confirmations", "plural"),
    Judgement("pod stuck pending", "PIR-0012 Pods stuck pending after the node-pool upgrade", "plural"),
    Judgement("payment gateway escalation", "ESC-0005 Payments Gateway escalation", "singular"),
    # Natural phrases with extra words (stop words dropped; the rest ranked, or most of them).
    Judgement(
        "postgresql primary down", "PIR-0003 Tabletop: losing the PostgreSQL primary during the spring sale", "phrase"
    ),
    Judgement(
        "card payments failing because the acquirer was down",
        "PIR-0001 Card payments failed while the primary acquirer was down",
        "phrase",
    ),
    Judgement(
        "why was checkout slow after the deploy", "PIR-0006 Checkout latency after the basket-pricing deploy", "phrase"
    ),
    Judgement(
        "search results missing listings",
        "PIR-0004 Search returned incomplete results after index corruption",
        "phrase",
    ),
    Judgement("we oversold in the flash sale", "PIR-0007 Inventory oversold during the flash sale", "phrase"),
    Judgement(
        "ci token leaked in a public log",
        "PIR-0008 Leaked CI deploy token used against the identity admin API",
        "phrase",
    ),
    Judgement(
        "refund email shows wrong amount",
        "PIR-0009 Refund emails showed the wrong amount for partial refunds",
        "phrase",
    ),
    Judgement(
        "rate limit rule broke checkout",
        "PIR-0011 Checkout errors when a gateway rate-limit rule misfired",
        "phrase",
    ),
    Judgement("how fast must payments acknowledge a sev1", "SLA-0001 Payments Gateway for checkout", "phrase"),
    Judgement("who approves sla changes", "SLA Committee", "phrase"),
    Judgement("track my order", "Track an order", "phrase"),
    Judgement("who is on call for checkout", "Checkout API", "phrase"),
    Judgement("checkout on-call", "ESC-0007 Checkout API escalation", "phrase"),
    Judgement("identity sev1 who to page", "ESC-0004 Identity Service escalation", "phrase"),
    Judgement("payments pager", "ESC-0005 Payments Gateway escalation", "phrase"),
    Judgement("sev2 restore target inventory", "SLA-0008 Inventory Service for checkout and search", "phrase"),
    Judgement("signing key rotation", "PIR-0002 Logins failed after the token-signing key rotation", "phrase"),
    Judgement("alert on replication lag", "Alert when synchronous replication lag exceeds 5 s for a minute", "phrase"),
    # Error strings, flags and numbers, as written in the documents.
    Judgement(
        "acquirer timeout 30s", "Cut the acquirer timeout from 30 s to 8 s and return a retryable error", "error string"
    ),
    Judgement("429", "PIR-0011 Checkout errors when a gateway rate-limit rule misfired", "error string"),
    Judgement("5xx checkout", "SLA-0002 Checkout API for web and apps", "error string"),
    Judgement(
        "PaymentsGatewayDown", "PIR-0010 Live drill: paging the Payments Gateway escalation path", "error string"
    ),
    Judgement("payments.acquirer.routing", "ESC-0005 Payments Gateway escalation", "error string"),
    Judgement("order.total", "PIR-0009 Refund emails showed the wrong amount for partial refunds", "error string"),
    Judgement(
        "flood-stage watermark", "PIR-0004 Search returned incomplete results after index corruption", "error string"
    ),
    # Role names: who does what during an incident.
    Judgement("incident commander payments", "ESC-0005 Payments Gateway escalation", "role"),
    Judgement("payments engineering manager", "ESC-0005 Payments Gateway escalation", "role"),
    Judgement("vp engineering", "Executive Leadership", "role"),
    Judgement("incident manager rota", "Platform", "role"),
    Judgement("sla committee", "SLA Committee", "role"),
    Judgement("status page", "Status Page", "role"),
]

# (what is typed, the service that must be the first suggestion and the first pinned service)
TYPEAHEAD_QUERIES = [
    ("paym", "Payments Gateway"),
    ("paymnts", "Payments Gateway"),
    ("payments gw", "Payments Gateway"),
    ("checko", "Checkout API"),
    ("chekout", "Checkout API"),
    ("kube", "Kubernetes Platform"),
    ("kuberntes", "Kubernetes Platform"),
    ("frad scoring", "Fraud Scoring"),
    ("fraud sc", "Fraud Scoring"),
    ("invetory", "Inventory Service"),
    ("obsrvability", "Observability Stack"),
    ("notifcation", "Notification Service"),
    ("ledgr", "Ledger"),
]
TYPO_QUERIES = [text for text, _service in TYPEAHEAD_QUERIES if text not in ("paym", "checko", "kube", "fraud sc")]


REFERENCE = re.compile(r"^[A-Z]+-\d+ ")


def _unreferenced(title):
    """A title without its leading reference ("PIR-0002 "): numbering depends on what was made before."""
    return REFERENCE.sub("", title)


def ranked_titles(results):
    """What the search page shows, in order: the pinned services, then the ranking (each title once)."""
    titles = [service.title for service in results.services]
    titles += [hit.document.title for hit in results.hits]
    return list(dict.fromkeys(titles))


def judge(search, judgements=JUDGED_QUERIES, *, cutoff=3):
    """{"recall_at_3", "mrr", "answered", "queries", "missed": [(query, wanted, rank or None)]} for `search(text)`,
    a function giving the search page's Results."""
    reciprocal, answered, missed = 0.0, 0, []
    for judgement in judgements:
        titles = [_unreferenced(title) for title in ranked_titles(search(judgement.query))]
        wanted = _unreferenced(judgement.wanted)
        rank = titles.index(wanted) + 1 if wanted in titles else None
        if rank:
            reciprocal += 1 / rank
        if rank and rank <= cutoff:
            answered += 1
        else:
            missed.append((judgement.query, judgement.wanted, rank))
    count = len(judgements)
    return {
        "queries": count,
        "answered": answered,
        "recall_at_3": round(answered / count, 3),
        "mrr": round(reciprocal / count, 3),
        "missed": missed,
    }
