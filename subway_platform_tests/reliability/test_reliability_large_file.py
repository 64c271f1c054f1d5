"""A very large landing file (about 2M rows, 100x a real month) is staged in bounded memory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from subway_platform.sample_data import write_sample_files

STAGE_AND_MEASURE = """
import json, resource, sys
from pathlib import Path
from subway_platform.datasets import DAILY
from subway_platform.ingest.stage import stage_landing_file
import pyarrow, pyarrow.parquet, numpy  # loaded before the baseline
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
src = Path(sys.argv[1])
staged = stage_landing_file(src, Path(sys.argv[2]), file_name=src.name, spec=DAILY)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"base": base, "peak": peak, "rows": staged.rows, "sums": staged.sums}))
"""


def test_two_million_row_file_stages_in_bounded_memory(tmp_path: Path) -> None:
    [daily] = [
        f
        for f in write_sample_files(tmp_path, ["201907"], scale=100)
        if f.name.startswith("CARD_SUBWAY_MONTH")
    ]
    size = daily.stat().st_size
    # A fresh process, so the peak is this staging's and no earlier test's.
    done = subprocess.run(
        [sys.executable, "-c", STAGE_AND_MEASURE, str(daily), str(tmp_path / "staged.parquet")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["rows"] >= 1_500_000
    growth = out["peak"] - out["base"]
    # Streaming in 8 MiB blocks. Measured here: 62 MiB of growth for a 122 MiB file (the
    # reader's blocks, Parquet buffers and Arrow's allocator pools); a whole-file read
    # would need several times the file's size.
    assert growth < size, (growth, size)
