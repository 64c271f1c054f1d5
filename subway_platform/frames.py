"""``DataFrame`` for the annotations of assets and IO managers, without importing pyspark.

Loading the code location (``dagster dev``, the CLI, a sensor tick) must not import
pyspark: only a step that runs Spark does. Dagster resolves the annotations of an asset's
parameters when the definitions are built, so they cannot name ``pyspark.sql.DataFrame``
without importing it. Type checkers see the real class; at run time the name is ``Any``
(Dagster's input type ``Any``: the IO manager returns the engine's DataFrame).
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql import DataFrame as DataFrame
else:
    DataFrame = Any

__all__ = ["DataFrame"]
