"""Put an unchecked-hash ``.pyc`` beside every module of a Lambda ``deployment.zip``.

Run by the Lambda runtime's interpreter (``python3.12 infra/aws/bytecode.py deployment.zip``:
bytecode is per Python version; ``package.py`` calls it so). Standard library only. Unchecked
hashes: Lambda can't write bytecode and Chalice zips with 1980 timestamps, so timestamp-checked
``.pyc`` would be stale and ignored. Prints how many were added.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import zipfile
from importlib._bootstrap_external import _code_to_hash_pyc  # type: ignore[attr-defined]
from pathlib import Path


def add_bytecode(zip_path: Path) -> int:
    tag = sys.implementation.cache_tag
    tmp = zip_path.with_suffix(".tmp")
    added = 0
    with zipfile.ZipFile(zip_path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        names = set(src.namelist())
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, data)
            if not info.filename.endswith(".py"):
                continue
            folder, _, module = info.filename.rpartition("/")
            pyc_name = f"{folder + '/' if folder else ''}__pycache__/{module[:-3]}.{tag}.pyc"
            if pyc_name in names:
                continue
            code = compile(data, f"/var/task/{info.filename}", "exec", dont_inherit=True)
            pyc = _code_to_hash_pyc(code, importlib.util.source_hash(data), checked=False)
            entry = zipfile.ZipInfo(pyc_name, date_time=info.date_time)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, bytes(pyc))
            added += 1
    os.replace(tmp, zip_path)
    return added


if __name__ == "__main__":
    print(add_bytecode(Path(sys.argv[1])))
