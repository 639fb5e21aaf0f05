"""`persona-bot stats` against a seeded database: every figure, the JSON, and the HTML page."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.feedback.stats import compute, render_html, render_text
from bot.feedback.store import Asked, Candidate, FeedbackStore

ROOT = Path(__file__).resolve().parents[1]
DAY = 86400


def _t(day: str, hour: int = 12) -> float:
    return datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC).timestamp() + hour * 3600


def _seed(db: Path) -> None:
    """Two days in range (2026-11-10, 2026-11-12: the 11th is quiet) and one question outside it."""
    def cand(entry: str, persona: str, topic: str, p: float) -> Candidate:
        return Candidate(entry, persona, p, topic, True)

    rows = [
        Asked("a1", "开源怎么看", "ding-lei", True, (cand("ding-lei-1", "ding-lei", "open-source", 0.9),),
              asked_at=_t("2026-11-10")),
        Asked("a2", "开源大模型好吗", None, True, (cand("ding-lei-1", "ding-lei", "open-source", 0.8),),
              asked_at=_t("2026-11-10", 13)),
        Asked("a3", "算力不够怎么办", None, True, (cand("shen-wei-2", "shen-wei", "compute", 0.7),),
              asked_at=_t("2026-11-12")),
        Asked("u1", "红烧肉怎么做", None, False, asked_at=_t("2026-11-12", 1)),
        Asked("u2", "红烧肉怎么做？", None, False, asked_at=_t("2026-11-12", 2)),
        Asked("u3", "紅燒肉怎麼做", None, False, asked_at=_t("2026-11-12", 3)),
        Asked("u4", "<b>明天</b>会下雨吗", "shen-wei", False, asked_at=_t("2026-11-12", 4)),
        Asked("old", "很久以前的问题", None, False, asked_at=_t("2026-10-01")),
    ]
    with FeedbackStore.open(db) as store:
        for asked in rows:
            store.add(asked)
        store.set_verdict("a1", "k1", True)
        store.set_verdict("a1", "k2", True)
        store.set_verdict("a3", "k3", False)
        store.set_verdict("old", "k4", False)


def test_stats_of_a_seeded_database(tmp_path: Path) -> None:
    db = tmp_path / "feedback.sqlite3"
    _seed(db)
    since, until = _t("2026-11-10", 0), _t("2026-11-13", 0)
    with FeedbackStore.open(db) as store:
        stats = compute(store.questions(since, until), since, until,
                        expert_name={"ding-lei": "丁磊", "shen-wei": "沈为"}.get, topic_name=str.upper)
    data = stats.to_json()
    assert data["since"] == "2026-11-10" and data["until"] == "2026-11-12"
    assert (data["asked"], data["answered"], data["answered_share"]) == (7, 3, round(3 / 7, 4))
    assert (data["thumbs_up"], data["thumbs_down"], data["thumbs_up_share"]) == (2, 1, round(2 / 3, 4))
    assert data["languages"] == [{"language": "zh-Hans", "count": 6}, {"language": "zh-Hant", "count": 1}]
    # the expert asked, else the one who answered; unanswered questions to everyone count for nobody
    assert data["experts"] == [{"expert": "丁磊", "count": 2}, {"expert": "沈为", "count": 2}]
    assert data["topics"] == [{"topic": "OPEN-SOURCE", "count": 2}, {"topic": "COMPUTE", "count": 1}]
    # one phrasing whatever the punctuation or script; named by its latest writing (all written once)
    assert data["unanswered"] == [{"text": "紅燒肉怎麼做", "count": 3}, {"text": "<b>明天</b>会下雨吗", "count": 1}]
    assert data["days"] == [{"day": "2026-11-10", "asked": 2, "answered": 2},
                            {"day": "2026-11-11", "asked": 0, "answered": 0},
                            {"day": "2026-11-12", "asked": 5, "answered": 1}]
    text = render_text(stats)
    assert "questions asked:   7" in text and "43%" in text and "67% 👍" in text and "紅燒肉怎麼做" in text
    page = render_html(stats)
    assert page.startswith("<!doctype html>") and page.count("<svg") == 5
    assert "<b>明天</b>" not in page and "&lt;b&gt;明天&lt;/b&gt;" in page  # user text is escaped
    assert "<script" not in page


def test_stats_cli_finds_the_bots_store_and_writes_the_page(tmp_path: Path) -> None:
    _seed(tmp_path / "feedback.sqlite3")
    env = {**os.environ, "PERSONA_BOT_DATA_DIR": str(tmp_path)}
    page = tmp_path / "stats.html"
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "stats", "--since", "2026-11-10", "--until", "2026-11-12", "--json",
         "--html", str(page)], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["asked"] == 7 and data["experts"][0]["expert"] in {"丁磊", "沈为"}  # real names from personas/
    assert page.read_text(encoding="utf-8").count("<svg") == 5
    empty = subprocess.run([sys.executable, "-m", "bot.cli", "stats", "--days", "7"], capture_output=True,
                           text=True, cwd=ROOT, env=env, timeout=120)
    assert empty.returncode == 0 and "questions asked:   0" in empty.stdout
    bad = subprocess.run([sys.executable, "-m", "bot.cli", "stats", "--since", "11/10"], capture_output=True,
                         text=True, cwd=ROOT, env=env, timeout=120)
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr and "Traceback" not in bad.stderr
