"""The SQL statement splitter on its own (no database): literals, comments and routine bodies."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from litellm_dbctl.migrate.sqltext import Statement, needs_no_transaction, split


def texts(script: str) -> list[str]:
    return [s.text for s in split(script)]


@pytest.mark.parametrize(("script", "expected"), [
    ("SELECT 1; SELECT 2;", ["SELECT 1", "SELECT 2"]),
    ("SELECT 1;;  ;\n", ["SELECT 1"]),  # empty statements dropped
    ("SELECT 1", ["SELECT 1"]),  # no final ;
    # dollar quotes: $$, $tag$, a tag inside another, and $ that is not a quote
    ("DO $$ BEGIN PERFORM 1; END $$; SELECT 2", ["DO $$ BEGIN PERFORM 1; END $$", "SELECT 2"]),
    ("SELECT $fn$ a; $$ b; $fn$; SELECT 2", ["SELECT $fn$ a; $$ b; $fn$", "SELECT 2"]),
    ("SELECT $a$ $b$ ; $b$ $a$;", ["SELECT $a$ $b$ ; $b$ $a$"]),
    ("SELECT $1; SELECT a$b; SELECT a$$b;", ["SELECT $1", "SELECT a$b", "SELECT a$$b"]),
    ("SELECT $_x$;$_x$;", ["SELECT $_x$;$_x$"]),
    # E'' strings: backslash escapes, including an escaped quote
    (r"SELECT E'a\';b'; SELECT 2", [r"SELECT E'a\';b'", "SELECT 2"]),
    (r"SELECT e'\\'; SELECT 2", [r"SELECT e'\\'", "SELECT 2"]),
    (r"SELECT (E'x\'' || ';'); SELECT 2", [r"SELECT (E'x\'' || ';')", "SELECT 2"]),
    # standard strings: '' is a quote, a backslash is a backslash
    ("SELECT 'it''s; fine'; SELECT 2", ["SELECT 'it''s; fine'", "SELECT 2"]),
    ("SELECT 'C:\\'; SELECT 2", ["SELECT 'C:\\'", "SELECT 2"]),
    ("SELECT name'x;'; SELECT 2", ["SELECT name'x;'", "SELECT 2"]),  # a word ending in e: not an E-string
    ("SELECT U&'d\\0061;'; SELECT 2", ["SELECT U&'d\\0061;'", "SELECT 2"]),
    # quoted identifiers
    ('SELECT "a;b", "say ""hi"";"; SELECT 2', ['SELECT "a;b", "say ""hi"";"', "SELECT 2"]),
    ("SELECT \"it's\"; SELECT 'x\"'", ["SELECT \"it's\"", "SELECT 'x\"'"]),
    # comments: nested block comments, -- comments holding ; and quotes
    ("SELECT 1 /* a; /* b; */ c; */; SELECT 2", ["SELECT 1", "SELECT 2"]),
    ("SELECT /**/ 1; /*/ x; */ SELECT 2", ["SELECT   1", "SELECT 2"]),
    ("SELECT 1 -- not the end; 'nor a quote\n; SELECT 2", ["SELECT 1", "SELECT 2"]),
    ("SELECT 1 -- a comment ends at CR too\r; SELECT 2", ["SELECT 1", "SELECT 2"]),
    ("-- only a comment;\n/* and; another */", []),
    ("SELECT '/* not a comment'; SELECT '-- nor this'", ["SELECT '/* not a comment'", "SELECT '-- nor this'"]),
])
def test_split(script: str, expected: list[str]) -> None:
    assert texts(script) == expected


def test_block_comments_keep_their_line_breaks_and_statements_their_lines() -> None:
    script = "-- head\n\nSELECT 1 /* a\nb */ + 2;\n  /* c */ SELECT\n3;"
    assert split(script) == [Statement("SELECT 1  \n + 2", 3), Statement("SELECT\n3", 5)]


BEGIN_ATOMIC = """CREATE FUNCTION add(a integer, b integer) RETURNS integer LANGUAGE SQL
BEGIN ATOMIC
  SELECT a + b;
  SELECT CASE WHEN a > 0 THEN 1 ELSE 0 END;
END;
SELECT 1;"""


@pytest.mark.parametrize("head", ["CREATE FUNCTION", "create or replace function", "CREATE PROCEDURE",
                                  "CREATE OR REPLACE PROCEDURE"])
def test_begin_atomic_body_is_one_statement(head: str) -> None:
    script = BEGIN_ATOMIC.replace("CREATE FUNCTION", head)
    statements = split(script)
    assert [s.line for s in statements] == [1, 6]
    assert statements[0].text == script[:script.rindex("END;") + 3]
    assert statements[1].text == "SELECT 1"
    assert not needs_no_transaction(statements)  # the body's END is not a COMMIT


def test_begin_atomic_nesting_follows_psql() -> None:
    nested = ("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC "
              "SELECT CASE WHEN true THEN (CASE 1 WHEN 1 THEN 1 END) END; SELECT 'end;'; END; SELECT 2")
    assert texts(nested)[1:] == ["SELECT 2"]
    # BEGIN inside parentheses (a parameter named begin) opens nothing
    assert texts("CREATE FUNCTION f(begin int) RETURNS int AS 'SELECT 1' LANGUAGE sql; SELECT 2")[1:] == ["SELECT 2"]
    # a body in a dollar quote holds its own BEGIN ... END
    assert texts("CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END $$ LANGUAGE plpgsql; SELECT 2")[1:] == [
        "SELECT 2"]


def test_transaction_statements_still_split() -> None:
    assert texts("BEGIN; SELECT 1; END; START TRANSACTION; COMMIT;") == [
        "BEGIN", "SELECT 1", "END", "START TRANSACTION", "COMMIT"]
    assert texts("CREATE TABLE begin_log (x int); SELECT 1") == ["CREATE TABLE begin_log (x int)", "SELECT 1"]
    assert texts("CREATE TRIGGER t AFTER INSERT ON x EXECUTE FUNCTION f(); BEGIN; END") == [
        "CREATE TRIGGER t AFTER INSERT ON x EXECUTE FUNCTION f()", "BEGIN", "END"]
    assert needs_no_transaction(split("BEGIN; SELECT 1; COMMIT;"))
    assert needs_no_transaction(split("CREATE INDEX CONCURRENTLY i ON t (a);"))
    assert not needs_no_transaction(split("CREATE INDEX i ON t (a); -- CONCURRENTLY later"))


# -- random scripts ------------------------------------------------------------------------------
# A statement is a list of tokens, each (source text, what split keeps of it). Literal contents draw
# from the characters that end or open something elsewhere.

_TRICKY = st.text(alphabet=st.sampled_from(list("ab ;'\"$\\-*/\n\tEe(")), max_size=12)
_KEYWORDS = {"begin", "end", "case", "create", "function", "procedure", "or", "replace"}
_word = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True).filter(lambda w: w not in _KEYWORDS)


def _kept(source: str) -> tuple[str, str]:
    return source, source


def _standard(text: str) -> tuple[str, str]:
    return _kept("'" + text.replace("'", "''") + "'")


def _escape(text: str) -> tuple[str, str]:
    return _kept("E'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'")


def _identifier(text: str) -> tuple[str, str]:
    return _kept('"' + (text or "x").replace('"', '""') + '"')


@st.composite
def _dollar(draw: st.DrawFn) -> tuple[str, str]:
    tag = "$" + draw(st.sampled_from(["", "x", "body", "_1"])) + "$"
    body = draw(_TRICKY.filter(lambda b: (b + tag).find(tag) == len(b)))  # the first closing tag is the end
    return _kept(f"{tag}{body}{tag}")


def _line_comment(text: str) -> tuple[str, str]:
    return f"-- {text.replace(chr(10), ' ').replace(chr(13), ' ')}\n", "\n"


def _block_comment(outer: str, inner: str) -> tuple[str, str]:
    clean = [t.replace("/", "").replace("*", "") for t in (outer, inner)]
    source = f"/* {clean[0]} /* {clean[1]} */ {clean[0]} */"
    return source, " " + "\n" * source.count("\n")


_token = st.one_of(
    _word.map(_kept),
    st.sampled_from(["(", ")", ",", "=", "+", "::", "<>", "42", "1.5", "$1", "a$b"]).map(_kept),
    _TRICKY.map(_standard), _TRICKY.map(_escape), _TRICKY.map(_identifier), _dollar(),
)
_separator = st.one_of(st.sampled_from([" ", "\n", "\t ", "\r\n"]).map(_kept),
                       _TRICKY.map(_line_comment), st.tuples(_TRICKY, _TRICKY).map(lambda t: _block_comment(*t)))
_statement = st.lists(st.tuples(_token, _separator), min_size=1, max_size=8)


@given(st.lists(_statement, min_size=1, max_size=6), st.sampled_from([";", ";\n", " ; ", ";;\n"]))
def test_random_statements_split_back(statements: list[list[tuple[tuple[str, str], tuple[str, str]]]],
                                      joiner: str) -> None:
    script = joiner.join("".join(token[0] + separator[0] for token, separator in statement)
                         for statement in statements)
    expected = ["".join(token[1] + separator[1] for token, separator in statement).strip()
                for statement in statements]
    assert texts(script) == expected


@given(_statement.filter(lambda tokens: all(token[0] not in ("(", ")") for token, _ in tokens)))
def test_a_random_statement_as_a_routine_body_stays_whole(statement: list[tuple[tuple[str, str], tuple[str, str]]]) -> None:
    body = "".join(token[0] + separator[0] for token, separator in statement)
    script = f"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC {body}; {body}; END; SELECT 2"
    assert texts(script)[1:] == ["SELECT 2"]
