"""The typed ELT statistics (``elt_log/stats.py``): the JSON keys stay those older runs
wrote, so their events read the same; what the IO manager adds; what the mirror takes."""

from __future__ import annotations

import json

import dagster as dg
import pytest

from subway_platform.elt_log.mirror import _count, _logged_sum
from subway_platform.elt_log.stats import (
    PARTITIONS_METADATA,
    SOURCE_STATS_METADATA,
    PartitionStats,
    partition_stats,
    source_stats_metadata,
    stats_from_metadata,
    stats_metadata,
)

# ``elt/partitions`` of one month as the platform wrote it before the typed statistics
# (commit 602a900: bronze's dict from _source_stats, completed by the Delta IO manager;
# gold's and the mart's likewise), JSON as stored in the event log.
OLD_BRONZE = json.loads(
    '{"source_read_size": 18013, "cleaned_count": 0, '
    '"source_object": "CARD_SUBWAY_MONTH_201910.csv", "source_checksum": "9f2c", '
    '"pass_in": 245871120, "pass_out": 243655019, "target_read_size": 18013, '
    '"merged_count": 0}'
)
OLD_GOLD_HOURLY = json.loads(
    '{"source_read_size": 14472, "cleaned_count": 24, "bronze_rows": 603, '
    '"rejected_rows": 1, "target_read_size": 14400, "merged_count": 48}'
)
OLD_MART = json.loads(
    '{"source_read_size": 17186, "cleaned_count": 0, "target_read_size": 17186, "merged_count": 0}'
)


def test_an_old_runs_bronze_entry_reads_as_typed_statistics() -> None:
    stats = PartitionStats.from_metadata(OLD_BRONZE)
    assert stats == PartitionStats(
        source_read_size=18013,
        cleaned_count=0,
        target_read_size=18013,
        merged_count=0,
        source_object="CARD_SUBWAY_MONTH_201910.csv",
        source_checksum="9f2c",
        sums={"pass_in": 245871120, "pass_out": 243655019},
    )
    # Written back, it is the very dict the old run stored (same keys, same values).
    assert stats.to_metadata() == OLD_BRONZE


@pytest.mark.parametrize("old", [OLD_BRONZE, OLD_GOLD_HOURLY, OLD_MART])
def test_old_entries_round_trip_unchanged(old: dict[str, object]) -> None:
    assert PartitionStats.from_metadata(old).to_metadata() == old


def test_an_old_gold_entry_keeps_its_bronze_and_rejected_rows() -> None:
    stats = PartitionStats.from_metadata(OLD_GOLD_HOURLY)
    assert (stats.bronze_rows, stats.rejected_rows, stats.cleaned_count) == (603, 1, 24)
    assert stats.sums == {}
    assert stats.source_object is None


def test_round_trip_through_json_metadata() -> None:
    stats = {
        "201901": PartitionStats(
            source_read_size=10,
            cleaned_count=1,
            source_object="a.csv",
            source_checksum="00ff",
            bronze_rows=10,
            rejected_rows=1,
            sums={"pass_in": 7, "pass_out": None},
        ),
        "201902": PartitionStats(source_read_size=0, cleaned_count=0),
    }
    value = source_stats_metadata(stats)[SOURCE_STATS_METADATA]
    assert isinstance(value, dg.JsonMetadataValue)
    # Through JSON text, as the event log stores it.
    stored = json.loads(json.dumps(value.value))
    assert stats_from_metadata(stored) == stats
    assert stats_from_metadata(value) == stats
    # A sum that is not known stays a key with null, as bronze wrote it before.
    assert stored["201901"]["pass_out"] is None


def test_unknown_figures_are_left_out_of_the_json() -> None:
    assert PartitionStats(source_read_size=5).to_metadata() == {"source_read_size": 5}
    assert PartitionStats().to_metadata() == {}


def test_the_io_manager_adds_only_the_rows_written() -> None:
    # The asset measures cleaned and merged; the IO manager derives nothing from them (a
    # remainder would make source = target + cleaned + merged hold by construction).
    read = PartitionStats(
        source_read_size=110, cleaned_count=4, merged_count=5, sums={"pass_in": 5}
    )
    done = read.with_target(100)
    assert (done.target_read_size, done.cleaned_count, done.merged_count) == (100, 4, 5)
    assert done.sums == {"pass_in": 5}
    assert PartitionStats(source_read_size=3).with_target(3).to_metadata() == {
        "source_read_size": 3,
        "target_read_size": 3,
    }
    # No source figure: only what was written is known.
    assert PartitionStats().with_target(7).to_metadata() == {"target_read_size": 7}


def test_figures_of_the_wrong_type_count_as_unknown() -> None:
    stats = PartitionStats.from_metadata(
        {
            "source_read_size": "12",
            "cleaned_count": True,
            "target_read_size": 1.5,
            "source_object": 3,
            "pass_in": 9,
            "pass_out": "9",
            "note": {"x": 1},
        }
    )
    assert stats == PartitionStats(sums={"pass_in": 9})
    assert _count(stats.source_read_size) == -1


def test_metadata_that_is_not_an_object_gives_no_statistics() -> None:
    assert stats_from_metadata(None) == {}
    assert stats_from_metadata([1, 2]) == {}
    assert stats_from_metadata({"201901": 5, "201902": {"source_read_size": 1}}) == {
        "201902": PartitionStats(source_read_size=1)
    }
    metadata = {PARTITIONS_METADATA: {"201901": OLD_MART}}
    assert partition_stats(metadata, "201901").target_read_size == 17186
    assert partition_stats(metadata, "201902") == PartitionStats()
    assert partition_stats({}, "") == PartitionStats()


def test_a_sum_column_may_not_shadow_a_figure() -> None:
    with pytest.raises(ValueError, match="cleaned_count"):
        PartitionStats(sums={"cleaned_count": 1})


def test_the_mirror_logs_an_old_entrys_sums_by_the_data_sets_log_sums() -> None:
    bronze = PartitionStats.from_metadata(OLD_BRONZE)
    assert _logged_sum("bronze/card_subway_month", bronze, "pass_in_sum") == 245871120
    assert _logged_sum("bronze/card_subway_month", bronze, "pass_out_sum") == 243655019
    # The fare data set logs paid + free as pass_in_sum; a figure missing logs null.
    fare = PartitionStats(sums={"paid_in": 3, "free_in": 4, "paid_out": 5, "free_out": None})
    assert _logged_sum("gold/subway_passengers_pay_free", fare, "pass_in_sum") == 7
    assert _logged_sum("gold/subway_passengers_pay_free", fare, "pass_out_sum") is None
    assert _logged_sum("gold/subway_passengers", PartitionStats(), "pass_in_sum") is None
    # The station master maps no sum to the log.
    assert _logged_sum("gold/subway_station", bronze, "pass_in_sum") is None


def test_stats_metadata_is_keyed_by_partition() -> None:
    value = stats_metadata({"": PartitionStats(source_read_size=50)})
    assert value.value == {"": {"source_read_size": 50}}
