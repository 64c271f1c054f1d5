"""The Delta table reference that OPTIMIZE/VACUUM statements are built from."""

import pytest

from subway_platform.lake_maintenance import delta_path_reference


@pytest.mark.parametrize(
    "url",
    [
        "s3a://lake-bucket/subway/gold/subway_passengers",
        "/tmp/pytest-of-root/pytest-3/test_x0/lake/bronze/card_subway_month",
        "file:///srv/lake/gold/rejects/subway_station",
    ],
)
def test_plain_table_urls_are_quoted_as_delta_paths(url: str) -> None:
    assert delta_path_reference(url) == f"delta.`{url}`"


@pytest.mark.parametrize(
    "url",
    [
        "/tmp/lake`; DROP TABLE x; --",
        "s3a://bucket/lake/gold/x` RETAIN 0 HOURS",
        "/tmp/with space/lake",
        "/tmp/quote'/lake",
        "relative/lake",
        "",
    ],
)
def test_urls_that_could_change_the_statement_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="Delta's SQL cannot take safely"):
        delta_path_reference(url)
