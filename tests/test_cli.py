"""The CLI's JSON shapes are a contract (the eval scorer and other tools parse them)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bot.model import load_personas
from bot.paths import default_personas_dir

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "bot.cli"]
MATCH_KEYS = {"persona", "persona_id", "entry_id", "question", "answer", "score", "topics", "why", "source"}


def _run(*args: str, stdin: bytes | str = b"") -> subprocess.CompletedProcess[bytes]:
    data = stdin.encode() if isinstance(stdin, str) else stdin
    return subprocess.run([*CLI, *args], capture_output=True, input=data, cwd=ROOT, timeout=120)


def test_ask_json_shape() -> None:
    result = _run("ask", "AlphaGo会不会进化成ChatGPT", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) >= {"query", "persona_filter", "matches", "suggestions"}
    assert data["persona_filter"] is None
    top = data["matches"][0]
    assert set(top) >= MATCH_KEYS
    assert top["persona"] == "丁磊" and top["persona_id"] == "ding-lei"
    assert set(top["source"]) == {"outlet", "title", "url", "date"}
    assert 0 <= top["score"] <= 100
    assert len(data["matches"]) <= 3


def test_ask_with_persona_and_top() -> None:
    data = json.loads(_run("ask", "开源", "--persona", "Ma Chao", "--top", "1", "--json").stdout)
    assert data["persona_filter"] == "马超"
    assert [m["persona"] for m in data["matches"]] == ["马超"]


def test_ask_human_readable_has_expert_question_quote_source_and_score() -> None:
    out = _run("ask", "英伟达的股价为什么涨").stdout.decode()
    assert "沈为" in out and "问：" in out and "答：" in out and "出处：白马商评" in out and "score" in out
    assert "https://baijiahao.baidu.com/s?id=1770461794592856916" in out


def test_ask_no_confident_answer_is_empty_with_suggestions() -> None:
    data = json.loads(_run("ask", "红烧肉怎么做才好吃", "--json").stdout)
    assert data["matches"] == []
    assert 1 <= len(data["suggestions"]) <= 3


def test_unknown_expert_names_the_closest_and_lists_all() -> None:
    result = _run("ask", "开源", "--persona", "丁雷")
    assert result.returncode == 2
    err = result.stderr.decode()
    assert "丁雷" in err and "丁磊" in err and "沈向洋" in err and "Traceback" not in err


def test_compare_json_shape() -> None:
    data = json.loads(_run("compare", "丁磊", "沈向洋", "AI该不该立法监管", "--json").stdout)
    assert set(data) == {"query", "topic", "sides"}
    assert [s["persona"] for s in data["sides"]] == ["丁磊", "沈向洋"]
    assert data["topic"] == "safety"
    for side in data["sides"]:
        assert len(side["matches"]) == 1 and set(side["matches"][0]) >= MATCH_KEYS


def test_experts_and_topics() -> None:
    experts = json.loads(_run("experts", "--json").stdout)["experts"]
    personas = load_personas(default_personas_dir())
    assert len(experts) == len(personas) and {"id", "name", "entries", "sources", "role"} <= set(experts[0])
    assert sum(e["entries"] for e in experts) == sum(len(p.entries) for p in personas)
    out = _run("topics", "沈为").stdout.decode()
    assert "投资与资本市场" in out


def test_jsonl_answers_each_line_in_order_and_bad_lines_get_an_error_object() -> None:
    lines = [
        json.dumps({"query": "英伟达股价", "persona": None}, ensure_ascii=False).encode(),
        b"this is not json",
        b"\xff\xfe broken utf-8",
        json.dumps({"query": "开源", "persona": "Nobody"}).encode(),
        json.dumps({"query": "x" * 100_000}).encode(),
        json.dumps({"query": "   "}).encode(),
        json.dumps({"query": "数据的壁垒在哪", "persona": "沈为"}, ensure_ascii=False).encode(),
    ]
    result = _run("ask", "--jsonl", stdin=b"\n".join(lines) + b"\n")
    assert result.returncode == 0
    out = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert len(out) == len(lines)
    assert out[0]["matches"][0]["persona"] == "沈为"
    for bad, number in ((out[1], 2), (out[2], 3), (out[3], 4), (out[4], 5), (out[5], 6)):
        assert bad["error"].startswith(f"line {number}:") and bad["line"] == number
    assert "UTF-8" in out[2]["error"] and "Nobody" in out[3]["error"] and "太长" in out[4]["error"]
    assert out[6]["persona_filter"] == "沈为"


def test_jsonl_answers_each_line_as_soon_as_it_is_read() -> None:
    """A long-running pipe: the answer to line 1 arrives before line 2 is written."""
    proc = subprocess.Popen([*CLI, "ask", "--jsonl"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.stdin and proc.stdout
    try:
        proc.stdin.write(json.dumps({"query": "开源和闭源", "persona": None}).encode() + b"\n")
        proc.stdin.flush()
        first = json.loads(proc.stdout.readline())
        assert first["query"] == "开源和闭源"
        proc.stdin.write(json.dumps({"query": "算力", "persona": None}).encode() + b"\n")
        proc.stdin.flush()
        assert json.loads(proc.stdout.readline())["query"] == "算力"
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    assert proc.returncode == 0


def test_chat_without_token_or_network() -> None:
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    started = time.monotonic()
    result = subprocess.run([*CLI, "chat"], input="/expert 沈为\n英伟达为什么涨\n1\n/all\n/help\n/quit\n", text=True,
                            capture_output=True, cwd=ROOT, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "已选择沈为" in out and "算力是有明确的增长预期的" in out
    assert "\n[1] 更多沈为的观点\n" in out and "沈为的其他回答 · 第 1/" in out  # typing 1 pressed the button
    help_text = out[out.index("使用说明"):]
    assert "/compare" in help_text and "/default" not in help_text and "/reload" not in help_text  # chat's share
    assert time.monotonic() - started < 60
