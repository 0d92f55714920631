"""Fixed vocabularies of the registry, one TextChoices class per field."""

from django.db import models


class TeamKind(models.TextChoices):
    PRODUCT = "product", "Product"
    ENGINEERING = "engineering", "Engineering"
    OPERATIONS = "operations", "Platform / operations"
    SECURITY = "security", "Security"
    CUSTOMER_SUPPORT = "customer_support", "Customer support"
    LEADERSHIP = "leadership", "Leadership"
    GOVERNANCE = "governance", "Governance"


class Channel(models.TextChoices):
    PAGE = "page", "Page"
    PHONE = "phone", "Phone"
    CHAT = "chat", "Chat"
    EMAIL = "email", "Email"


class ServiceTier(models.TextChoices):
    CRITICAL = "critical", "Critical"
    HIGH = "high", "High"
    STANDARD = "standard", "Standard"


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"


class Coverage(models.TextChoices):
    ALWAYS = "24x7", "24×7"
    BUSINESS_HOURS = "business_hours", "Business hours"


class Duty(models.TextChoices):
    DETECTION = "detection", "Detection"
    VALIDATION = "validation", "Validation"
    CONTAINMENT = "containment", "Containment"
    REMEDIATION = "remediation", "Remediation"
    INCIDENT_COMMANDER = "incident_commander", "Incident commander"
    CUSTOMER_COMMUNICATION = "customer_communication", "Communication to customers"
    EXECUTIVE_COMMUNICATION = "executive_communication", "Communication to executives"
    PARTNER_COMMUNICATION = "partner_communication", "Communication to partners"
