"""Human-facing references built from the primary key: SLA-0007, CR-0042, PIR-0013."""


class ReferencedByNumber:
    """Mix into a model and set REFERENCE_PREFIX; the reference is stable because the key is."""

    REFERENCE_PREFIX = ""

    @property
    def reference(self):
        return f"{self.REFERENCE_PREFIX}-{self.pk:04d}" if self.pk else f"{self.REFERENCE_PREFIX}-new"

    @classmethod
    def pk_from_reference(cls, reference):
        """7 for "SLA-0007" (any case), or None when the text is not a reference of this kind."""
        prefix, _, number = reference.upper().partition("-")
        return int(number) if prefix == cls.REFERENCE_PREFIX and number.isdigit() else None
