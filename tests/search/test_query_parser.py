"""The query language: what a user types becomes a small AST; nothing they type reaches an FTS parser."""

import re

from hypothesis import given
from hypothesis import strategies as st

from search.query import (
    MAX_QUERY_LENGTH,
    MAX_TERMS,
    Term,
    parse,
    to_fts5,
    to_tsquery,
)


def test_words_are_and_ed_and_the_last_one_is_a_prefix():
    query = parse("payments timeout escal")
    assert query.groups == ((Term(("payments",)),), (Term(("timeout",)),), (Term(("escal",), prefix=True),))
    assert to_fts5(query) == '(("payments") AND ("timeout") AND ("escal" *))'
    assert to_tsquery(query) == "('payments') & ('timeout') & ('escal':*)"


def test_quoted_phrase_keeps_order_and_is_not_a_prefix():
    query = parse('"root cause"')
    assert query.groups == ((Term(("root", "cause")),),)
    assert to_fts5(query) == '(("root cause"))'
    assert to_tsquery(query) == "(('root' <-> 'cause'))"


def test_an_unterminated_quote_runs_to_the_end():
    assert parse('"sev1 ack').groups == ((Term(("sev1", "ack")),),)


def test_exclusion_of_words_and_phrases():
    query = parse('checkout -"root cause" -flaky latency')
    assert query.excluded == (Term(("root", "cause")), Term(("flaky",)))
    assert to_fts5(query) == '(("checkout") AND ("latency" *)) NOT "root cause" NOT "flaky"'
    assert to_tsquery(query) == "(('checkout') & ('latency':*)) & !('root' <-> 'cause') & !'flaky'"


def test_or_joins_its_neighbours():
    query = parse("payments OR checkout latency")
    assert query.groups == ((Term(("payments",)), Term(("checkout",))), (Term(("latency",), prefix=True),))
    assert to_fts5(query) == '(("payments" OR "checkout") AND ("latency" *))'


def test_lower_case_or_and_a_dangling_or_are_words_or_ignored():
    assert parse("this or that").groups[1] == (Term(("or",)),)
    assert parse("OR checkout OR").groups == ((Term(("checkout",), prefix=True),),)


def test_hyphenated_and_punctuated_words_become_phrases():
    assert parse("api-gateway").groups == ((Term(("api", "gateway"), prefix=True),),)
    assert parse('foo"bar').groups == ((Term(("foo", "bar"), prefix=True),),)


def test_only_exclusions_or_punctuation_is_nothing_to_search_for():
    assert not parse("-payments")
    assert not parse('");--')
    assert not parse("")
    assert not parse("   ")


def test_a_one_letter_last_word_is_not_a_prefix():
    assert parse("plan b").groups[-1] == (Term(("b",)),)


def test_length_and_term_count_are_capped():
    long = parse("word " * 5000)
    assert len(long.text) == MAX_QUERY_LENGTH
    assert {term.tokens for term in long.terms} <= {("word",), ("w",)}  # repeated words collapse
    many = parse(" ".join(f"w{index}" for index in range(100)))
    assert len(many.terms) + len(many.excluded) == MAX_TERMS


def test_name_key_matches_a_title_key():
    assert parse("  API   Gateway ").name_key == "api gateway"


SAFE_FTS5 = re.compile(r'^[\w\s"(){}:*]*$')


@given(st.text(max_size=400))
def test_any_text_renders_to_quoted_tokens_only(text):
    query = parse(text)
    if not query:
        return
    fts5 = to_fts5(query)
    # Outside the quoted tokens, only our own operators remain.
    outside = re.sub(r'"[^"]*"', "", fts5)
    assert set(re.sub(r"\b(AND|OR|NOT)\b", "", outside)) <= set(" ()*{}:")
    for token in re.findall(r'"([^"]*)"', fts5):
        assert re.fullmatch(r"[^\W_]+( [^\W_]+)*", token)
    tsquery = to_tsquery(query)
    for lexeme in re.findall(r"'([^']*)'", tsquery):
        assert re.fullmatch(r"[^\W_]+", lexeme)
    assert set(re.sub(r"'[^']*'", "", tsquery)) <= set(" ()&|!<->:*")
