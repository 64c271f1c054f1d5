"""PostgreSQL IO manager for the mart: a door to the mart store.

The table of asset ``mart/subway_passengers`` is ``public.subway_passengers``
(``tables.py``). Writing replaces exactly the months of the step, atomically, through
``stores.mart.MartStore`` (staged month partitions swapped in one transaction; an
unpartitioned table replaced whole). Nothing downstream loads a mart table as an input:
the mart is the end of the pipeline, read by dashboards and analysts.
"""

import dagster as dg

from subway_platform.elt_log.month_figures import add_month_figures
from subway_platform.elt_log.stats import target_partitions_metadata
from subway_platform.frames import DataFrame
from subway_platform.partitions import context_months
from subway_platform.retries import retry_transient
from subway_platform.stores.mart import MartStore
from subway_platform.tables import Slice, table_for_key


def mart_slice(context: dg.OutputContext) -> Slice:
    """The mart table and months of an output."""
    table = table_for_key(context.asset_key)
    if table is None or table.backend != "postgres":
        raise dg.Failure(f"{context.asset_key.to_user_string()}: no mart table of the platform")
    return table.months(context_months(context))


class PostgresMartIOManager(dg.ConfigurableIOManager):
    """Stores Spark DataFrames in the PostgreSQL mart tables (``SUBWAY_MART_DSN``).

    The table is the asset's (``tables.py``); the primary key its ``primary_key`` metadata.
    Partitioned assets replace their months atomically; unpartitioned ones the whole table.
    """

    store: dg.ResourceDependency[MartStore]

    def handle_output(self, context: dg.OutputContext, obj: DataFrame | None) -> None:
        if obj is None:
            return
        part = mart_slice(context)
        primary_key = list(context.definition_metadata.get("primary_key") or [])
        with retry_transient(context):
            written = self.store.write_slice(part, obj, primary_key)
        if written.converted_rows is not None:
            context.log.info(
                f"mart table {written.table} converted to month partitions "
                f"({written.converted_rows} rows moved)"
            )
        metadata = written.metadata()
        metadata.update(target_partitions_metadata(context.output_metadata, written.rows))
        context.add_output_metadata(metadata)
        # Each month's duration and rows, plotted by the UI.
        add_month_figures(context, written.rows)

    def load_input(self, context: dg.InputContext) -> DataFrame:
        """Not used: no asset takes a mart table as input."""
        raise dg.Failure(
            f"{context.asset_key.to_user_string()} is a mart table: nothing loads it as an input"
        )
