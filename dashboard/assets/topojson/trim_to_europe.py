"""Derive topojson/europe/world_50m.json from plotly's Natural Earth world_50m.json: same objects and ids, only
the shapes that reach the map's European window, unused arcs dropped (1.1 MB -> a fraction; the browser draws less).

Run from the repository root:  python dashboard/assets/topojson/trim_to_europe.py
The output keeps the name world_50m.json because plotly.js asks for <scope>_<resolution>m.json; the map uses
config topojsonURL=/assets/topojson/europe/.
"""
from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "world_50m.json"
TARGET = HERE / "europe" / "world_50m.json"
# Generous box around the map's lon/lat ranges (-25..45, 34..72) so nothing visible is cut.
WINDOW = (-35.0, 25.0, 60.0, 82.0)  # lon_min, lat_min, lon_max, lat_max
DROPPED_OBJECTS = ("ocean",)  # one world-wide polygon; the map paints water with the geo background instead


def arc_indices(arcs) -> list[int]:
    """Every arc index a geometry's nested 'arcs' refers to (negative ~i means arc i reversed)."""
    if isinstance(arcs, int):
        return [arcs if arcs >= 0 else ~arcs]
    return [i for part in arcs for i in arc_indices(part)]


def arc_boxes(topo: dict) -> list[tuple[float, float, float, float]]:
    """Lon/lat bounding box of every arc (arcs are delta-encoded, quantised)."""
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    boxes = []
    for arc in topo["arcs"]:
        x = y = 0
        xs, ys = [], []
        for dx, dy in arc:
            x += dx
            y += dy
            xs.append(x * sx + tx)
            ys.append(y * sy + ty)
        boxes.append((min(xs), min(ys), max(xs), max(ys)))
    return boxes


def touches_window(indices: list[int], boxes) -> bool:
    """True when any of the arcs reaches into WINDOW."""
    x0, y0, x1, y1 = WINDOW
    return any(boxes[i][2] >= x0 and boxes[i][0] <= x1 and boxes[i][3] >= y0 and boxes[i][1] <= y1 for i in indices)


def renumber(arcs, mapping: dict[int, int]):
    """The nested arcs structure with old arc numbers replaced by new ones (direction kept)."""
    if isinstance(arcs, int):
        return mapping[arcs] if arcs >= 0 else ~mapping[~arcs]
    return [renumber(part, mapping) for part in arcs]


def trim(topo: dict) -> dict:
    """A copy of the topology with only the geometries touching WINDOW and the arcs they use."""
    boxes = arc_boxes(topo)
    kept_objects = {}
    for name, obj in topo["objects"].items():
        geometries = [] if name in DROPPED_OBJECTS else [
            g for g in obj["geometries"] if touches_window(arc_indices(g.get("arcs", [])), boxes)]
        kept_objects[name] = {**obj, "geometries": geometries}
    used = sorted({i for obj in kept_objects.values() for g in obj["geometries"] for i in arc_indices(g.get("arcs", []))})
    mapping = {old: new for new, old in enumerate(used)}
    for obj in kept_objects.values():
        for g in obj["geometries"]:
            if "arcs" in g:
                g["arcs"] = renumber(g["arcs"], mapping)
    return {**topo, "objects": kept_objects, "arcs": [topo["arcs"][i] for i in used]}


def main() -> None:
    """Write the trimmed file and say how much was kept."""
    topo = json.loads(SOURCE.read_text())
    trimmed = trim(topo)
    TARGET.parent.mkdir(exist_ok=True)
    TARGET.write_text(json.dumps(trimmed, separators=(",", ":")))
    print(f"{TARGET}: {len(trimmed['arcs'])} of {len(topo['arcs'])} arcs, {TARGET.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
