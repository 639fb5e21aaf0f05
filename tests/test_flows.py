"""docs/flows.md is generated from the real bot by scripts/flows.py; this runs the script (the bot as
a subprocess against the Bot API test server, on the shipped personas) and checks that every flow
completed and that every button it produced led somewhere: the script presses each one and fails
on "nothing more", on a reply that repeats what is on screen and on an answer over 15 phone lines.
Not a byte comparison with the committed file: the corpus may grow."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import flows  # noqa: E402


def test_the_script_plays_every_flow_and_every_button_leads_somewhere(tmp_path: Path) -> None:
    out = tmp_path / "flows.md"
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "flows.py"), "--json", "--out", str(out)],
                            capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert [f["title"] for f in summary] == [f.title for f in flows.FLOWS]
    for flow in summary:
        assert flow["complete"] and flow["done"] == flow["steps"] and not flow["problems"], flow
    assert sum(f["pressed"] for f in summary) >= 100  # every flow's buttons were pressed
    written = out.read_text(encoding="utf-8")
    assert all(f"## {n}. {f.title}" in written for n, f in enumerate(flows.FLOWS, 1))
    assert "〔分享 ↗〕" in written and "（原消息被编辑为）" in written and "〔▶〕" in written


def test_the_committed_flows_document_has_every_flow() -> None:
    committed = (ROOT / "docs" / "flows.md").read_text(encoding="utf-8")
    assert committed.startswith("# 对话流程 / Flows")
    for number, flow in enumerate(flows.FLOWS, 1):
        assert f"## {number}. {flow.title}" in committed, flow.title
