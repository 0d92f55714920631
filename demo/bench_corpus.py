"""A synthetic, realistic incident/SLA corpus for `bench_search`, with planted documents whose queries must find them.

About 270 words per document; the domain words (latency, checkout, database…) are in
most documents, as in a real portal, so broad queries match tens of thousands of rows.
"""

import random

SERVICES = [
    "Payments Gateway",
    "Checkout API",
    "Basket Service",
    "Ledger",
    "Search Service",
    "Notification Service",
    "Identity Provider",
    "API Gateway",
    "Inventory Service",
    "Pricing Engine",
    "Fulfilment Orchestrator",
    "Kubernetes Platform",
    "Observability Stack",
    "Data Warehouse",
    "Mobile Backend",
    "Fraud Scoring",
]
TEAMS = ["Payments", "Checkout", "Platform", "Identity", "Data", "Mobile", "Fulfilment", "Security", "Support", "SRE"]
KINDS = ["review", "review", "review", "action_item", "action_item", "sla", "escalation_matrix", "release", "journey"]
COMMON = [
    "latency",
    "error",
    "rate",
    "timeout",
    "checkout",
    "payment",
    "database",
    "deploy",
    "rollback",
    "customer",
    "incident",
    "alert",
    "pager",
    "escalation",
    "restore",
    "resolve",
    "acknowledge",
    "severity",
    "outage",
    "degraded",
    "retry",
    "queue",
    "cache",
    "cluster",
    "node",
    "region",
    "request",
    "response",
    "service",
    "team",
    "engineer",
    "oncall",
    "dashboard",
    "metric",
    "threshold",
    "budget",
    "availability",
    "throughput",
    "connection",
    "pool",
    "memory",
    "disk",
    "cpu",
    "network",
    "dns",
    "certificate",
    "load",
    "balancer",
    "traffic",
    "release",
    "freeze",
    "window",
    "mitigation",
    "root",
    "cause",
    "detection",
    "timeline",
    "action",
    "item",
    "follow",
    "up",
    "owner",
    "priority",
    "customer",
    "impact",
    "support",
]
FILLER = [
    "the",
    "a",
    "of",
    "to",
    "and",
    "in",
    "for",
    "on",
    "after",
    "before",
    "during",
    "while",
    "was",
    "were",
    "is",
    "be",
    "by",
    "with",
    "from",
    "at",
    "as",
    "it",
    "this",
    "that",
    "we",
    "they",
    "our",
    "their",
    "when",
    "then",
    "again",
    "still",
    "not",
    "only",
    "more",
    "less",
    "about",
    "into",
    "over",
    "under",
    "between",
    "each",
    "every",
    "some",
    "all",
]
RARE = [
    "idempotency",
    "backpressure",
    "tombstone",
    "compaction",
    "quorum",
    "split",
    "brain",
    "hotspot",
    "shard",
    "thundering",
    "herd",
    "jitter",
    "circuit",
    "breaker",
    "bulkhead",
    "canary",
    "blue",
    "green",
    "feature",
    "flag",
    "schema",
    "migration",
    "vacuum",
    "replication",
    "lag",
    "failover",
    "partition",
    "rebalance",
    "consumer",
    "offset",
    "deadlock",
    "mutex",
    "garbage",
    "collection",
    "heap",
    "pause",
    "throttling",
    "webhook",
    "signature",
    "nonce",
    "token",
    "refresh",
    "sso",
    "saml",
    "oidc",
    "cookie",
    "session",
    "ratelimit",
    "captcha",
    "bot",
    "scraping",
    "ddos",
    "waf",
]
TITLE_PATTERNS = [
    "{service} {common1} {common2} after {rare}",
    "{common1} {common2} in {service}",
    "{service}: {rare} caused {common1}",
    "Review of {common1} {rare} on {service}",
    "{team} action: fix {rare} {common1}",
]

# Planted documents: (title, extra body sentence). Their queries are in QUERIES with the title as expected.
PLANTED = [
    ("PgBouncer pool saturation on the ledger database", "pgbouncer ran out of server connections at peak."),
    ("Kafka consumer rebalance storm delayed order events", "every kafka consumer rebalanced in a loop."),
    ("Expired TLS certificate on the partner webhook endpoint", "the certificate rotation job had silently failed."),
    ("Checkout latency regression after cache eviction change", "a cache eviction policy change evicted hot keys."),
    ("Payment database failover took forty minutes", "failover to the replica stalled on replication lag."),
    ("DNS resolver timeout during region evacuation", "the resolver timeout cascaded into checkout errors."),
    ("Fraud scoring model rollback after false positives", "the model flagged genuine customers as fraud."),
    ("Zookeeper quorum loss in the inventory cluster", "zookeeper lost quorum when two nodes restarted."),
    ("Mobile push notifications duplicated by retry storm", "duplicated push notifications annoyed customers."),
    ("Identity provider SAML assertion clock skew", "clock skew invalidated every saml assertion."),
    ("Warehouse ETL backfill exhausted disk on node seven", "the backfill filled the disk of node seven."),
    ("Black Friday freeze window exception for pricing hotfix", "an exception to the freeze window was approved."),
]

QUERIES = [
    # common words (broad: thousands of matches), no single expected document
    ("latency", None),
    ("checkout", None),
    ("database", None),
    ("timeout", None),
    ("error rate", None),
    ("customer impact", None),
    ("rollback", None),
    ("pager escalation", None),
    ("cache cluster", None),
    ("deploy", None),
    ("root cause", None),
    ("severity", None),
    ("payment retry", None),
    ("dns", None),
    # rare words / specific wording, with the document that must be in the top 5
    ("pgbouncer", PLANTED[0][0]),
    ("zookeeper quorum", PLANTED[7][0]),
    ("saml clock skew", PLANTED[9][0]),
    ("kafka rebalance", PLANTED[1][0]),
    ("backfill disk node seven", PLANTED[10][0]),
    ("fraud scoring false positives", PLANTED[6][0]),
    ("push notifications duplicated", PLANTED[8][0]),
    ("expired tls certificate webhook", PLANTED[2][0]),
    ("tombstone compaction", None),
    ("idempotency", None),
    # common words whose combination names one document (title tier)
    ("checkout latency cache eviction", PLANTED[3][0]),
    ("payment database failover", PLANTED[4][0]),
    ("dns resolver timeout region", PLANTED[5][0]),
    ("freeze window exception pricing", PLANTED[11][0]),
    # phrases
    ('"connection pool"', None),
    ('"root cause"', None),
    ('"cache eviction"', PLANTED[3][0]),
    ('"clock skew"', PLANTED[9][0]),
    ('"replication lag" failover', PLANTED[4][0]),
    ('"load balancer" -dns', None),
    ('"circuit breaker" OR bulkhead', None),
    # prefixes (the last word while typing)
    ("escal", None),
    ("pgboun", PLANTED[0][0]),
    ("kafka rebal", PLANTED[1][0]),
    ("zookee", PLANTED[7][0]),
    ("checkout lat", None),
    ("certif", None),
    ("Payments Gate", None),
    ("thunder", None),
    # names: a service is the first hit for its name
    ("Payments Gateway", "Payments Gateway"),
    ("Kubernetes Platform", "Kubernetes Platform"),
    ("Fraud Scoring", "Fraud Scoring"),
    # no hit
    ("xylophone", None),
    ("qwertyuiop asdfgh", None),
    ("-latency", None),
    ("zzyzx OR quux", None),
]
assert len(QUERIES) == 50, len(QUERIES)


class Corpus:
    def __init__(self, seed=7):
        self.random = random.Random(seed)
        weights = [1.0 / (rank + 1) ** 0.6 for rank in range(len(COMMON))]
        self.common_weights = weights

    def _words(self, count):
        pick = self.random
        common = pick.choices(COMMON, weights=self.common_weights, k=count)
        filler = pick.choices(FILLER, k=count)
        rare = pick.choices(RARE, k=count // 25 + 1)
        words = []
        for index in range(count):
            words.append(common[index] if index % 3 else filler[index])
            if index % 25 == 24:
                words.append(rare[index // 25])
        return words

    def body(self, service, team):
        words = self._words(250)
        sentences = [" ".join(words[start : start + 14]).capitalize() + "." for start in range(0, len(words), 14)]
        return f"{service} incident handled by {team}. " + " ".join(sentences) + f" Follow-up owned by {team}."

    def title(self, service, team):
        pick = self.random
        return (
            pick.choice(TITLE_PATTERNS)
            .format(
                service=service,
                team=team,
                common1=pick.choice(COMMON),
                common2=pick.choice(COMMON),
                rare=pick.choice(RARE),
            )
            .capitalize()
        )

    def documents(self, count):
        """Yield (kind, title, body, service, team) for `count` documents, planted ones spread among them."""
        planted_at = {int((index + 1) * count / (len(PLANTED) + 1)): planted for index, planted in enumerate(PLANTED)}
        for position in range(count):
            service = self.random.choice(SERVICES)
            team = self.random.choice(TEAMS)
            kind = self.random.choice(KINDS)
            if position in planted_at:
                title, sentence = planted_at[position]
                yield "review", title, self.body(service, team) + " " + sentence, service, team
            else:
                yield kind, self.title(service, team), self.body(service, team), service, team
