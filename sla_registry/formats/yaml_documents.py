"""What the YAML formats share: reading a multi-document file, and one document with where it was."""

from dataclasses import dataclass
from pathlib import Path

import yaml


class YAMLFileError(ValueError):
    """The file cannot be read as YAML; the message says where and why."""


def read_file(path):
    """The UTF-8 text of `path` (a byte-order mark allowed), or YAMLFileError naming why it cannot be read."""
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise YAMLFileError(f"There is no file {path}.") from None
    except UnicodeDecodeError as error:
        raise YAMLFileError(f"{path} is not UTF-8 text (byte {error.start}).") from None
    except OSError as error:
        raise YAMLFileError(f"Cannot open {path}: {error.strerror}.") from None


def load_documents(text):
    """Every document of a YAML stream (text or UTF-8 bytes); YAMLFileError with the line and column otherwise."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise YAMLFileError(f"The file is not UTF-8 text (byte {error.start}).") from None
    try:
        return list(yaml.safe_load_all(text))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "an unknown place"
        problem = error.problem or error.context or "not valid YAML"
        raise YAMLFileError(f"YAML syntax error at {where}: {problem}.") from None
    except yaml.YAMLError as error:
        raise YAMLFileError(f"The file is not valid YAML: {error}.") from None


@dataclass
class YAMLDocument:
    """One document of a file (apiVersion/kind/metadata/spec, as OpenSLO and Backstage write them)."""

    number: int
    kind: str
    name: str
    body: dict

    @property
    def where(self):
        named = f" {self.name}" if isinstance(self.name, str) and self.name else ""
        return f"document {self.number} ({self.kind}{named})"

    @property
    def metadata(self):
        return self.body["metadata"]

    @property
    def spec(self):
        spec = self.body.get("spec")
        return spec if isinstance(spec, dict) else {}

    @property
    def annotations(self):
        annotations = self.metadata.get("annotations")
        return annotations if isinstance(annotations, dict) else {}
