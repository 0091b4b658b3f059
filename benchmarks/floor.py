"""The in-process floor: every code cell of every notebook, in order, in this one process.

No kernel, no papermill, no HTML: the scientific stack is imported once. Each
notebook runs with the values ``make reproduce`` injects (the default parameter
set's, ``parameter_set`` and ``tables_dir``), assigned after its parameters cell
as papermill's injected cell does, so it writes the same figure and table files.
``benchmarks/run.py`` passes them as a JSON file (``{notebook stem: {name:
value}}``), prepared before the clock starts. Prints the seconds it took
(imports included); ``benchmarks/run.py`` compares ``make reproduce`` with it.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import time
from pathlib import Path

start = time.perf_counter()
import matplotlib  # noqa: E402

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parents[1]
injected = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8")) if len(sys.argv) > 1 else {}
for notebook in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    namespace: dict[str, object] = {"__name__": "__main__"}
    values = injected.get(notebook.stem, {})
    with contextlib.redirect_stdout(io.StringIO()):
        for cell in cells:
            if cell["cell_type"] == "code":
                exec(compile("".join(cell["source"]), str(notebook), "exec"), namespace)
                if "parameters" in cell.get("metadata", {}).get("tags", []):
                    namespace.update(values)
print(f"{time.perf_counter() - start:.3f}")
