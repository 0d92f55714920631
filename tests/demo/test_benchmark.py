import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

pytestmark = pytest.mark.django_db


def test_benchmark_prints_latency_and_queries_for_every_page(capsys):
    call_command("seed_demo", "--force", verbosity=0)
    capsys.readouterr()
    call_command("benchmark_pages", "--requests", "2")
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if re.search(r"\s\d+\.\dx$", line)]
    assert len(rows) >= 12
    for row in rows:
        status, queries = row.split()[-6:-4]
        assert status == "200", row
        assert int(queries) < 20, row
    assert "slowest p50" in out


def test_benchmark_explains_an_empty_database():
    with pytest.raises(CommandError, match=r"run `manage\.py seed_demo`"):
        call_command("benchmark_pages", "--user", "nobody")
