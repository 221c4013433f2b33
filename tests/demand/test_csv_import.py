"""The CSV/JSON reading machinery shared by the sales and inventory imports."""

import datetime as dt
import io

import pytest
from django.core.exceptions import ValidationError

from coordination.weeks import iso_label, parse_week
from demand.csv_import import (
    MAX_QUANTITY,
    Column,
    ImportRejected,
    RowError,
    RowParser,
    import_actor,
    parse_csv,
    parse_items,
    parse_rows,
)
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

PARSER = RowParser(
    sku=Column("sku", "SKU", ("product",)),
    date=Column("week", "week", ("date",)),
    quantity=Column("units", "units", ("quantity", "qty")),
    parse_date=parse_week,
    format_date=iso_label,
)
W1 = dt.date(2024, 1, 1)  # Monday of 2024-W01
W2 = dt.date(2024, 1, 8)


@pytest.fixture
def products():
    return {
        "BEV-1001": ProductFactory(sku="BEV-1001").pk,
        "BEV-1002": ProductFactory(sku="BEV-1002").pk,
    }


def errors_of(parsed):
    return [(e.position, e.column, e.message) for e in parsed.errors]


def test_a_good_file_gives_its_rows_in_order_with_products_resolved(products):
    parsed = parse_csv(
        "sku,week,units\nBEV-1001,2024-W01,12\nbev-1002 , 2024-01-03 ,0\nBEV-1001,2024-W02,7\n",
        PARSER,
    )
    assert parsed.is_valid
    assert parsed.row_count == 3
    assert parsed.error_count == 0
    assert parsed.positions == [2, 3, 4]
    assert list(parsed.records()) == [
        (products["BEV-1001"], W1, 12),
        (products["BEV-1002"], W1, 0),
        (products["BEV-1001"], W2, 7),
    ]
    assert parsed.products_count == 2
    assert (parsed.first_date, parsed.last_date) == (W1, W2)
    assert parsed.product_ids == products
    assert parsed.error_dicts() == []


def test_every_kind_of_bad_row_is_reported_by_spreadsheet_line(products):
    text = (
        "sku,week,units\n"  # line 1
        "BEV-1001,2024-W01,12\n"  # 2 fine
        "BEV-9999,2024-W01,5\n"  # 3 unknown sku
        "BEV-1001,2024-13-45,5\n"  # 4 bad date
        "\n"  # 5 blank: skipped, still counted as a line
        "BEV-1002,2024-W01,-5\n"  # 6 negative
        "BEV-1002,2024-W02,12.5\n"  # 7 not a whole number
        "BEV-1001,2024-01-03,9\n"  # 8 same week as line 2
        ",2024-W03,\n"  # 9 empty sku and units
        "NOPE-1,2024-W99,x\n"  # 10 unknown sku, bad week and units together
        f"BEV-1002,2024-W05,{MAX_QUANTITY + 1}\n"  # 11 too large
    )
    parsed = parse_csv(text, PARSER)
    assert not parsed.is_valid
    assert parsed.row_count == 9
    assert errors_of(parsed) == [
        (3, "sku", "No product has the SKU 'BEV-9999'."),
        (4, "week", "Enter a week as 2026-W48 or a date as 2026-11-23; got '2024-13-45'."),
        (6, "units", "The units cannot be negative; got -5."),
        (7, "units", "The units must be a whole number; got '12.5'."),
        (8, "week", "Duplicate of line 2: BEV-1001 already has a row for 2024-W01."),
        (9, "sku", "Enter the SKU."),
        (9, "units", "Enter the units."),
        (10, "sku", "No product has the SKU 'NOPE-1'."),
        (10, "week", "2024-W99 is not a week of 2024."),
        (10, "units", "The units must be a whole number; got 'x'."),
        (11, "units", "The units must be at most 2,147,483,647; got 2147483648."),
    ]
    assert parsed.error_count == 11
    assert parsed.rows == {}
    rejection = parsed.rejection()
    assert isinstance(rejection, ValidationError)
    assert rejection.message_dict["9.sku"] == ["Enter the SKU."]
    assert rejection.message_dict["3.sku"] == ["No product has the SKU 'BEV-9999'."]
    assert rejection.summary == "Nothing was imported: 11 errors."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "sku,week\nBEV-1001,2024-W01\n",
            [
                (
                    1,
                    "units",
                    'Missing column "units" (also accepted: quantity, qty). The first line '
                    "must name the columns sku, week and units.",
                )
            ],
        ),
        (
            "BEV-1001,2024-W01,12\n",
            [
                (1, column, message)
                for column, message in [
                    (
                        "sku",
                        'Missing column "sku" (also accepted: product). The first line must '
                        "name the columns sku, week and units.",
                    ),
                    (
                        "week",
                        'Missing column "week" (also accepted: date). The first line must '
                        "name the columns sku, week and units.",
                    ),
                    (
                        "units",
                        'Missing column "units" (also accepted: quantity, qty). The first '
                        "line must name the columns sku, week and units.",
                    ),
                ]
            ],
        ),
        (
            "",
            [
                (
                    1,
                    "",
                    "The file is empty: the first line must name the columns sku, week and units.",
                )
            ],
        ),
        (
            "\n\n",
            [
                (
                    1,
                    "",
                    "The file is empty: the first line must name the columns sku, week and units.",
                )
            ],
        ),
        ("sku,week,units\n", [(2, "", "The file has no rows below the header.")]),
        (
            "sku,product,week,units\nBEV-1001,BEV-1001,2024-W01,1\n",
            [(1, "sku", 'Columns "sku" and "product" both give the SKU; keep one.')],
        ),
    ],
    ids=["missing-column", "no-header", "empty", "blank-lines-only", "header-only", "two-sku"],
)
def test_file_level_errors(products, text, expected):
    parsed = parse_csv(text, PARSER)
    assert errors_of(parsed) == expected
    assert parsed.error_count == len(expected)


def test_a_duplicate_is_reported_even_when_its_first_row_has_a_bad_quantity(products):
    parsed = parse_csv(
        "sku,week,units\nBEV-1001,2024-W01,-1\nBEV-1001,2024-01-05,x\nBEV-1001,2024-W99,1\n",
        PARSER,
    )
    assert errors_of(parsed) == [
        (2, "units", "The units cannot be negative; got -1."),
        (3, "week", "Duplicate of line 2: BEV-1001 already has a row for 2024-W01."),
        (3, "units", "The units must be a whole number; got 'x'."),
        (4, "week", "2024-W99 is not a week of 2024."),
    ]


def test_header_is_case_insensitive_with_aliases_and_extra_columns_ignored(products):
    parsed = parse_csv(
        "Product;Name;Date;Quantity\r\nBEV-1001;Cola;2024-01-01;3\r\n",
        PARSER,
    )
    assert errors_of(parsed) == []
    assert list(parsed.records()) == [(products["BEV-1001"], W1, 3)]


def test_semicolon_file_with_byte_order_mark_as_bytes_and_files(products):
    content = "\ufeffSKU;Week;Units\r\nBEV-1001;2024-W01;4\r\nBEV-1002;2024-W02;5\r\n"
    expected = [(products["BEV-1001"], W1, 4), (products["BEV-1002"], W2, 5)]
    sources = [
        content,
        content.encode("utf-8"),
        io.BytesIO(content.encode("utf-8")),
        io.StringIO(content.removeprefix("\ufeff"), newline=""),
    ]
    for source in sources:
        parsed = parse_csv(source, PARSER)
        assert errors_of(parsed) == []
        assert list(parsed.records()) == expected


def test_tab_separated_file(products):
    parsed = parse_csv("sku\tweek\tunits\nBEV-1001\t2024-W01\t4\n", PARSER)
    assert list(parsed.records()) == [(products["BEV-1001"], W1, 4)]


def test_not_utf8_names_the_line(products):
    data = "sku,week,units\nBEV-1001,2024-W01,1\nBEV-1002,Caf\xe9,1\n".encode("latin-1")
    parsed = parse_csv(data, PARSER)
    assert errors_of(parsed) == [
        (3, "", "This line is not UTF-8 text (byte 0xE9); save the file as CSV UTF-8.")
    ]


def test_quoted_newlines_keep_line_numbers_as_a_spreadsheet_shows_them(products):
    text = 'sku,note,week,units\nBEV-1001,"two\nlines",2024-W01,1\nBEV-1002,x,2024-W01,-1\n'
    parsed = parse_csv(text, PARSER)
    assert errors_of(parsed) == [(4, "units", "The units cannot be negative; got -1.")]


def test_a_line_with_more_values_than_the_header(products):
    parsed = parse_csv("sku,week,units\nBEV-1001,2024-W01,1,500\nBEV-1002,2024-W01,2,,\n", PARSER)
    assert errors_of(parsed) == [
        (2, "", "This line has 4 values but the header has 3; quote values that contain ','.")
    ]


def test_errors_are_capped_but_counted_and_unknown_skus_merge_in_line_order(products):
    lines = ["sku,week,units"]
    lines += [f"BEV-1001,2024-W{w:02d},-1" for w in range(1, 6)]  # lines 2-6: negative
    lines.insert(2, "GONE-1,2024-W10,1")  # line 3: unknown SKU, found after the scan
    lines += [f"GONE-2,2024-W{w:02d},x" for w in range(1, 4)]  # lines 8-10: both errors
    parsed = parse_csv("\n".join(lines), PARSER, max_errors=4)
    assert errors_of(parsed) == [
        (2, "units", "The units cannot be negative; got -1."),
        (3, "sku", "No product has the SKU 'GONE-1'."),
        (4, "units", "The units cannot be negative; got -1."),
        (5, "units", "The units cannot be negative; got -1."),
    ]
    assert parsed.error_count == 5 + 1 + 3 * 2
    assert parsed.error_dicts()[-1] == {
        "line": None,
        "column": "",
        "message": "8 more errors are not listed (the first 4 are).",
        "more": 8,
    }
    rejection = parsed.rejection()
    assert rejection.message_dict["__all__"] == ["8 more errors are not listed (the first 4 are)."]


def test_skus_are_resolved_with_one_query(products, django_assert_num_queries):
    text = "sku,week,units\n" + "\n".join(
        f"BEV-100{1 + i % 2},{(W1 + dt.timedelta(weeks=i)).isoformat()},{i}" for i in range(300)
    )
    with django_assert_num_queries(1):
        parsed = parse_csv(text, PARSER)
    assert parsed.row_count == 300
    assert parsed.is_valid


def test_many_distinct_skus_are_still_one_query(products, django_assert_num_queries):
    text = "sku,week,units\n" + "\n".join(f"X-{i:05d},2024-W01,1" for i in range(1200))
    text += "\nBEV-1001,2024-W01,1"
    with django_assert_num_queries(1):
        parsed = parse_csv(text, PARSER)
    assert parsed.error_count == 1200
    assert parsed.errors[0] == RowError(2, "sku", "No product has the SKU 'X-00000'.")


def test_limit_reads_only_the_first_rows(products):
    parsed = parse_csv(
        "sku,week,units\nBEV-1001,2024-W01,1\nBEV-1001,2024-W02,2\nbad", PARSER, limit=1
    )
    assert parsed.row_count == 1
    assert parsed.sample() == [
        {
            "line": 2,
            "sku": "BEV-1001",
            "date": W1,
            "date_label": "2024-W01",
            "quantity": 1,
            "known": True,
        }
    ]


def test_items_are_checked_like_rows_with_errors_by_index(products):
    items = [
        {"sku": "BEV-1001", "week": "2024-W01", "units": 3},
        {"product": "BEV-1002", "date": "2024-01-10", "quantity": "4"},
        {"sku": "BEV-1001", "week": "2024-W01", "units": 1},
        {"sku": "BEV-1002", "week": "2024-W03", "units": 2.5},
        {"sku": "BEV-1002", "week": "2024-W04"},
        ["BEV-1001", "2024-W05", 1],
        {"sku": None, "week": "2024-W05", "units": True},
    ]
    parsed = parse_items(items, PARSER)
    assert parsed.position_label == "item"
    assert errors_of(parsed) == [
        (2, "week", "Duplicate of item 0: BEV-1001 already has a row for 2024-W01."),
        (3, "units", "The units must be a whole number; got '2.5'."),
        (4, "units", "Enter the units."),
        (5, "", "Each item must be an object with sku, week and units; got list."),
        (6, "sku", "Enter the SKU."),
        (6, "units", "The units must be a whole number; got 'True'."),
    ]
    assert parsed.rejection().message_dict["5"] == [
        "Each item must be an object with sku, week and units; got list."
    ]
    good = parse_rows(items[:2], PARSER)
    assert list(good.records()) == [(products["BEV-1001"], W1, 3), (products["BEV-1002"], W2, 4)]


def test_an_empty_list_is_an_error(products):
    assert errors_of(parse_items([], PARSER)) == [
        (0, "", "Send at least one item with sku, week and units.")
    ]


def test_import_rejected_is_a_validation_error_keyed_by_position():
    rejected = ImportRejected([RowError(3, "units", "Bad."), RowError(4, "", "Worse.")], 2, "line")
    assert rejected.message_dict == {"3.units": ["Bad."], "4": ["Worse."]}
    assert rejected.summary == "Nothing was imported: 2 errors."


def test_import_actor_prefers_the_named_user_then_a_superuser_then_an_admin():
    with pytest.raises(LookupError, match="No user to record as the importer"):
        import_actor()
    admin = UserFactory(username="ada", roles=["Admin"])
    assert import_actor() == admin
    root = UserFactory(username="root", is_superuser=True)
    assert import_actor() == root
    assert import_actor("ada") == admin
    with pytest.raises(LookupError, match="No active user is called 'nobody'"):
        import_actor("nobody")
