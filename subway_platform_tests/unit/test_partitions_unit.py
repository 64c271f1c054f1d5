"""Month keys: what ``validate_month`` accepts, refuses and says, and ``months_between``."""

from __future__ import annotations

import pytest

from subway_platform.partitions import InvalidPartitionKey, months_between, validate_month


@pytest.mark.parametrize("key", ["201501", "201907", "201912", "190001", "209912"])
def test_accepted(key: str) -> None:
    assert validate_month(key) == key


@pytest.mark.parametrize(
    "key",
    [
        "201913",
        "201900",
        "2019-01",
        "../x",
        "",
        "20191",
        "2019011",
        "210001",
        "189912",
        " 201901",
        "201901\n",
        "２０１９01",
        "201901/../x",
        "201901%00",
    ],
)
def test_refused_with_the_key_quoted(key: str) -> None:
    with pytest.raises(InvalidPartitionKey) as caught:
        validate_month(key)
    assert (
        str(caught.value)
        == f"invalid month partition key {repr(key)[:40]}: expected YYYYMM, e.g. 201907"
    )
    assert isinstance(caught.value, ValueError)


def test_long_key_is_cut_in_the_message() -> None:
    key = "201907' OR 1=1; DROP TABLE subway_passengers; --" + "x" * 200
    with pytest.raises(InvalidPartitionKey) as caught:
        validate_month(key)
    assert str(caught.value) == (
        "invalid month partition key \"201907' OR 1=1; DROP TABLE subway_passe: "
        "expected YYYYMM, e.g. 201907"
    )


def test_non_string_key() -> None:
    with pytest.raises(InvalidPartitionKey, match="invalid month partition key 201907:"):
        validate_month(201907)  # type: ignore[arg-type]


def test_months_between() -> None:
    assert months_between("201911", "202002") == ["201911", "201912", "202001", "202002"]
    assert months_between("201907", "201907") == ["201907"]
    assert months_between("201908", "201907") == []
    assert len(months_between("201501", "201912")) == 60


@pytest.mark.parametrize(("first", "last"), [("2019-11", "202002"), ("201911", "202013")])
def test_months_between_validates_both_ends(first: str, last: str) -> None:
    with pytest.raises(InvalidPartitionKey):
        months_between(first, last)
