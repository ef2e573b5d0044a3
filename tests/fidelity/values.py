"""values.py - the fidelity fuzzer's column types and edge values.

Each type is (SQL type name, values): a value is the raw text PostgreSQL's
input function takes (None for NULL), so one value can be written both as a
SQL literal ('text'::type) and as a field of COPY's text format. The values
lean on the edges where text goes wrong: digits beyond a double, -0,
padding, quotes, backslashes, non-ASCII, infinities, empty arrays, arrays
with NULLs, several dimensions and non-default bounds.

User-defined types live in schemas whose names need quoting (PRELUDE).
NaN and ±Infinity of numeric and float are left out: wal2json 2.5 sends
them as null, a known loss pgtrail reports (tested on its own).
"""
import random

PRELUDE = [
    'CREATE SCHEMA "Odd Schema"',
    "CREATE SCHEMA app",
    'CREATE TYPE "Odd Schema"."Mood" AS ENUM (\'sad\', \'ok\', \'Happy Day\')',
    'CREATE DOMAIN app."Dom" AS int CHECK (VALUE > -1000000)',
    "CREATE TYPE app.pair AS (a int, b text)",
    "CREATE TYPE app.floatrange AS RANGE (subtype = float8)",
]

ALPHABET = "abcXYZ09 '\"\\\t\n,{}()é€😀ß\u00a0"

TYPES = {
    "integer": ["0", "-1", "1", "2147483647", "-2147483648", "42"],
    "bigint": ["9223372036854775807", "-9223372036854775808", "9007199254740993", "0"],
    "smallint": ["32767", "-32768", "7"],
    "numeric": ["1.500", "-0", "0.000001", "123456789012345678901234567890.123456789",
                "1e-20", "99999999999999999999", "0.1"],
    "numeric(10,2)": ["12345678.91", "-0.01", "0.00", "1.5"],
    "double precision": ["1.5", "-0", "1e308", "5e-324", "0.1", "3.141592653589793", "-2.2250738585072014e-308"],
    "real": ["1.5", "-0", "3.4028235e38", "1e-45", "0.1"],
    "text": None,  # random text, see text_value
    "character varying(10)": ["", "abc", "héllo wörl", "  pad  "],
    "character(5)": ["", "ab", "abcde", " x"],
    '"char"': ["a", "Z", " ", "\\"],
    "name": ["", "some_name", "Mixed Case"],
    "bytea": ["\\x", "\\x00ff", "\\xdeadbeef00", "\\x5c27"],
    "boolean": ["t", "f"],
    "date": ["2024-02-29", "0044-03-15 BC", "infinity", "-infinity", "1999-12-31"],
    "timestamp without time zone": ["2024-02-29 13:45:30.123456", "infinity", "1970-01-01 00:00:00",
                                    "0001-01-01 00:00:00 BC"],
    "timestamp with time zone": ["2024-02-29 13:45:30.123456+05:30", "2000-01-01 00:00:00+00", "-infinity"],
    "time without time zone": ["13:45:30.123456", "24:00:00", "00:00:00"],
    "time with time zone": ["13:45:30+05:30", "00:00:00-12"],
    "interval": ["1 year 2 mons 3 days 04:05:06.789", "-1 days", "00:00:00", "178000000 years", "-00:00:00.000001"],
    "money": ["1234.56", "-0.01", "0", "92233720368547758.07"],
    "bit(4)": ["1010", "0000"],
    "bit varying": ["", "101", "11111111111111111111"],
    "uuid": ["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "00000000-0000-0000-0000-000000000000"],
    "inet": ["192.168.0.1/24", "::1", "10.0.0.1"],
    "cidr": ["10.0.0.0/8", "2001:db8::/32"],
    "macaddr": ["08:00:2b:01:02:03"],
    "json": ['{"a":1,"a":2}', '{ "b" : [1, 2.50, null] }', '"x"', "123.4500", "[]", '{"k": "\\u00e9\\n"}'],
    "jsonb": ['{"a": 1, "b": [1, 2.50]}', "[]", '"é"', "1.0"],
    "tsvector": ["'a':1A 'cat':2 'fat'", "the quick brown fox", ""],
    "tsquery": ["'a' & 'b'", "!'x' | 'y':*"],
    "xml": ['<a x="1">t &amp; u</a>', "text only", "<b/>"],
    "point": ["(1,2)", "(-0,1.5)", "(1e+300,-1e-300)"],
    "box": ["(3,4),(1,2)"],
    "circle": ["<(1,2),3>"],
    "line": ["{1,2,3}"],
    "lseg": ["[(1,2),(3,4)]"],
    "path": ["((0,0),(1,1),(2,0))", "[(0,0),(1,1)]"],
    "polygon": ["((0,0),(1,1),(2,0))"],
    "int4range": ["[1,5)", "empty", "(,3]", "[2,)"],
    "numrange": ["[1.50,2.5]", "(,)"],
    "tstzrange": ["[2024-01-01 00:00:00+00,2024-02-01 00:00:00+00)"],
    "int4multirange": ["{[1,3),[5,7)}", "{}"],
    "integer[]": ["{1,NULL,3}", "{{1,2},{3,4}}", "[0:1]={7,8}", "{}", "{NULL}"],
    "text[]": ['{"a b","c\\"d",NULL,"NULL"}', "{}", '{{"x","y"},{"z",NULL}}', "[-2:-1]={a,b}"],
    "numeric[]": ["{1.50,-0,NULL}"],
    "pg_lsn": ["16/B374D848", "0/0"],
    '"Odd Schema"."Mood"': ["sad", "ok", "Happy Day"],
    '"Odd Schema"."Mood"[]': ['{sad,"Happy Day"}', "{}"],
    'app."Dom"': ["0", "-999999", "17"],
    "app.pair": ['(1,"x y")', "(,)", '(-5,"")'],
    "app.floatrange": ["[1.5,2.5)", "empty"],
}


def text_value(rng):
    if rng.random() < 0.08:
        # long enough to be TOASTed out of line, random enough not to compress
        return "".join(rng.choice(ALPHABET + "ghijklmnopqrstuvw") for _ in range(rng.randint(2500, 4000)))
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 12)))


def value(rng, typ):
    """A raw value of TYP, or None (NULL) now and then."""
    if rng.random() < 0.1:
        return None
    if TYPES.get(typ) is None:
        return text_value(rng)
    return rng.choice(TYPES[typ])


def literal(raw, typ):
    """RAW as a SQL expression of type TYP."""
    if raw is None:
        return f"NULL::{typ}"
    return "'" + raw.replace("'", "''") + "'::" + typ


def copy_field(raw):
    """RAW as a field of COPY's text format."""
    if raw is None:
        return "\\N"
    return raw.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def random_type(rng):
    return rng.choice(list(TYPES))


if __name__ == "__main__":
    r = random.Random(1)
    for t in TYPES:
        print(literal(value(r, t), t))
