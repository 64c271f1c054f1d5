"""Delta Lake IO manager for Spark DataFrames (bronze and gold): a door to the Delta store.

The table of asset ``bronze/card_subway_month`` lives where the lakehouse resource says
(``<lake>/bronze/card_subway_month``). Writing replaces exactly the months of the step and
loading reads exactly the requested months, both through ``stores.delta.DeltaStore``.
Output metadata comes from the Delta log (rows of the written months, version, URI, schema).
"""

import dagster as dg

from subway_platform.elt_log.month_figures import add_month_figures
from subway_platform.elt_log.stats import target_partitions_metadata
from subway_platform.frames import DataFrame
from subway_platform.partitions import context_months
from subway_platform.resources.lakehouse import Lakehouse
from subway_platform.resources.locks import TableLocks
from subway_platform.resources.spark import SparkEngine
from subway_platform.retries import retry_transient
from subway_platform.stores.delta import DeltaStore
from subway_platform.tables import Slice, delta_table_for_key


def asset_slice(context: dg.InputContext | dg.OutputContext) -> Slice:
    """The Delta table and months of an output or input."""
    months = tuple(context_months(context))
    try:
        return Slice(delta_table_for_key(context.asset_key, bool(months)), months)
    except ValueError as err:
        raise dg.Failure(f"{context.asset_key.to_user_string()}: {err}") from None


class DeltaLakeIOManager(dg.ConfigurableIOManager):
    """Stores Spark DataFrames as Delta Lake tables where the lakehouse puts them
    (``SUBWAY_LAKE_URL``). Partitioned outputs replace exactly their months; unpartitioned
    outputs overwrite.
    """

    lakehouse: dg.ResourceDependency[Lakehouse]
    spark: dg.ResourceDependency[SparkEngine]
    locks: dg.ResourceDependency[TableLocks]

    @property
    def store(self) -> DeltaStore:
        """The Delta store this IO manager writes through."""
        return DeltaStore(lakehouse=self.lakehouse, spark=self.spark, locks=self.locks)

    def handle_output(self, context: dg.OutputContext, obj: DataFrame | None) -> None:
        if obj is None:
            return
        part = asset_slice(context)
        with retry_transient(context):
            written = self.store.write_slice(part, obj)
        metadata = written.metadata()
        metadata.update(target_partitions_metadata(context.output_metadata, written.rows))
        context.add_output_metadata(metadata)
        # Each month's duration and rows, plotted by the UI.
        add_month_figures(context, written.rows)

    def load_input(self, context: dg.InputContext) -> DataFrame:
        return self.store.read_slice(asset_slice(context))
