"""``srl/en/propbank-3.1-rolesets.tsv``: one row per roleset of the PropBank 3.1 frame files."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

HEADER = "roleset\tname\talias_pos\troles(n:function:descr)\tframe_file"


def build_rolesets(frames_dir: Path) -> bytes:
    """Frame files in sorted name order, rolesets in document order; ``;`` inside a description becomes ``,``."""
    rows = [HEADER]
    for frame_file in sorted(frames_dir.glob("*.xml"), key=lambda p: p.name):
        for roleset in ET.parse(frame_file).getroot().iter("roleset"):
            pos = sorted({a.get("pos") for a in roleset.iter("alias") if a.get("pos") is not None})
            roles = [f"{r.get('n')}:{r.get('f')}:{(r.get('descr') or '').replace(';', ',')}"
                     for r in roleset.iter("role")]
            rows.append("\t".join([roleset.get("id") or "", roleset.get("name") or "", ",".join(pos),
                                   ";".join(roles) or "_", frame_file.name]))
    return ("\n".join(rows) + "\n").encode("utf-8")
