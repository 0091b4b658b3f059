"""The in-process floor: every code cell of every notebook, in order, in this one process.

No kernel, no papermill, no HTML: the scientific stack is imported once. Prints
the seconds it took (imports included). ``benchmarks/run.py`` compares ``make
reproduce`` with it.
"""

from __future__ import annotations

import contextlib
import io
import json
import time
from pathlib import Path

start = time.perf_counter()
import matplotlib  # noqa: E402

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parents[1]
for notebook in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    namespace: dict[str, object] = {"__name__": "__main__"}
    with contextlib.redirect_stdout(io.StringIO()):
        for cell in cells:
            if cell["cell_type"] == "code":
                exec(compile("".join(cell["source"]), str(notebook), "exec"), namespace)
print(f"{time.perf_counter() - start:.3f}")
