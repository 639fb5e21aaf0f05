"""Alternate questions (corpus/alternates.yaml), near misses (corpus/near_misses.yaml: questions
that share an entry's words but that it does not answer) and comparisons that follow the user's
question.

Queries here are our own, not eval cases.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.ingest.build import build_personas
from bot.matching import Engine
from bot.matching.engine import load_stopwords
from bot.model import DataError, Persona, load_personas
from bot.paths import default_corpus_dir, default_personas_dir
from bot.text import fold
from bot.vocabulary import load_vocabulary

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.load()


def _without(persona: Persona, field: str) -> Persona:
    """The persona with every entry's curated `field` (alternates, near_misses) emptied."""
    topics = {t: [e.model_copy(update={field: []}) for e in es] for t, es in persona.topics.items()}
    return persona.model_copy(update={"topics": topics})


def _engine_without(field: str) -> Engine:
    corpus = default_corpus_dir()
    return Engine([_without(p, field) for p in load_personas(default_personas_dir())],
                  load_vocabulary(corpus), load_stopwords(corpus))


@pytest.mark.parametrize("file", ["alternates.yaml", "near_misses.yaml"])
def test_a_question_pointing_at_no_entry_is_an_error_with_file_and_line(tmp_path: Path, file: str) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    path = corpus / file
    lines = path.read_text(encoding="utf-8").splitlines()
    lines += ["ding-lei-001-000000:", '  - {q: "一个没有主人的问题", by: test, date: 2026-12-02}']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        build_personas(corpus)
    (problem,) = info.value.problems
    assert problem.file == str(path) and problem.line == len(lines) and "ding-lei-001-000000" in problem.message


def test_an_alternate_without_its_question_is_an_error_with_its_line(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    path = corpus / "alternates.yaml"
    text = path.read_text(encoding="utf-8")
    first = next(i for i, line in enumerate(text.splitlines()) if line.startswith("  - {q:"))
    lines = text.splitlines()
    lines[first] = "  - {by: test}"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        build_personas(corpus)
    assert [(p.line, "`q`" in p.message) for p in info.value.problems] == [(first + 1, True)]


def test_alternates_are_copied_into_entries_and_never_quoted(engine: Engine) -> None:
    entries = [e for p in engine.personas for e in p.entries]
    assert sum(len(e.alternates) for e in entries) >= 6 * len(entries) // 2
    answer = engine.answer("机器人会不会有喜怒哀乐")
    assert answer.matches and all(m.entry.answer not in m.entry.alternates for m in answer.matches)


def test_an_alternate_makes_a_question_answerable_that_was_not_before(engine: Engine) -> None:
    """喜怒哀乐 is a word neither the answer nor its interviewer used; a blind alternate did."""
    bare = _engine_without("alternates")
    query = "机器人会不会有喜怒哀乐"
    assert not bare.answer(query).matches
    top = engine.answer(query).matches[0]
    assert top.persona.display_name == "沈为" and "机器没有感情是当前的假设" in top.entry.answer


def test_near_misses_are_copied_into_entries_and_never_quoted(engine: Engine) -> None:
    entries = [e for p in engine.personas for e in p.entries]
    assert all(e.near_misses for e in entries)
    for query in ("360智脑是哪天发布的", "AlphaGo是谁家做的"):
        for match in engine.answer(query).matches:
            assert all(q not in match.entry.answer for q in match.entry.near_misses)


@pytest.mark.parametrize("query", ["流浪地球里MOSS是谁配的音", "黄仁勋是哪年把DGX-1送给OpenAI的"])
def test_a_question_close_to_a_near_miss_is_declined_where_it_was_quoted(engine: Engine, query: str) -> None:
    """Both answers mention the thing asked about (流浪地球, the DGX-1 gift) without saying who or when."""
    assert _engine_without("near_misses").answer(query).matches
    assert not engine.answer(query).matches


def test_compare_answers_each_side_on_the_question_itself(engine: Engine) -> None:
    """Each side is that expert's own best answer to the question, scored with the expert named
    (the command names them, as the compare questions the model was fitted on do)."""
    result = subprocess.run([sys.executable, "-m", "bot.cli", "compare", "丁磊", "沈为", "算力重要吗", "--json"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    sides = json.loads(result.stdout)["sides"]
    assert [s["persona"] for s in sides] == ["丁磊", "沈为"]
    assert sides[0]["matches"] and "算力" in fold(sides[0]["matches"][0]["answer"])
    # 沈为's side: his answer on compute is ranked first for him; whether it is quoted is the gate's
    # call (P 0.68 and quoted, his side's answers together passing 0.82, after alternates j and near
    # misses b; 0.93 against 0.80 fit on 1,846 questions; 0.98 against 0.71 once a comparison's sides had their own feature, fit on 1,633; 0.73
    # against 0.74 without it; 0.98 against 0.78 on 1,425; 0.70 against 0.68 on 958).
    q = engine.analyzer.analyse("丁磊和沈为：算力重要吗")
    best = engine._rank(q, [engine.resolve("沈为")])[0][0]
    assert "大模型的核心壁垒包括数据、算力、算法" in best.entry.answer
    assert [m["answer"] for m in sides[1]["matches"]] in ([], [best.entry.answer])
    assert all(m["score"] >= 100 * engine.model.threshold for s in sides for m in s["matches"])


def test_compare_through_the_command_and_through_a_question_agree(engine: Engine) -> None:
    by_command = engine.compare("丁磊", "沈为", "算力重要吗")
    by_question = engine.answer("丁磊和沈为：算力重要吗").comparison
    assert by_question is not None
    assert [[m.entry.id for m in s.matches] for s in by_command.sides] == \
        [[m.entry.id for m in s.matches] for s in by_question.sides]


@pytest.mark.parametrize(
    ("query", "experts"),
    [
        ("对比丁磊和沈向洋对AGI的看法", ["丁磊", "沈向洋"]),
        ("丁磊和沈为怎么看算力", ["丁磊", "沈为"]),
        ("Ding Lei vs Harry Shum on open source models", ["丁磊", "沈向洋"]),
    ],
)
def test_a_question_naming_two_experts_is_a_comparison_in_their_order(engine: Engine, query: str,
                                                                       experts: list[str]) -> None:
    comparison = engine.answer(query).comparison
    assert comparison is not None
    assert [s.persona.display_name for s in comparison.sides] == experts
    assert all(s.matches for s in comparison.sides)


def test_what_everyone_thinks_gives_each_confident_expert_once(engine: Engine) -> None:
    for query in ("大家怎么看开源", "what do they all think about open source models"):
        comparison = engine.answer(query).comparison
        assert comparison is not None and 2 <= len(comparison.sides) <= engine.settings.max_views
        names = [s.persona.display_name for s in comparison.sides]
        assert len(set(names)) == len(names)
        assert all("开源" in fold(s.matches[0].entry.answer) for s in comparison.sides)


def test_a_question_several_experts_answered_gets_each_ones_view(engine: Engine) -> None:
    """Nobody's share reaches the gate alone, but together they do: someone answered it, and the
    reply shows each expert's own answer under their name rather than picking one or declining."""
    query = "开源还是闭源"
    q = engine.analyzer.analyse(query)
    ranked = engine._rank(q, [])
    assert not any(sure for _, sure in ranked)
    assert sum(m.probability for m, _ in ranked) >= engine.model.threshold
    answer = engine.answer(query)
    assert answer.comparison is not None and len(answer.comparison.sides) >= 2
    for side in answer.comparison.sides:
        assert side.matches[0].persona == side.persona and "开源" in fold(side.matches[0].entry.answer)
    assert not engine.answer("红烧肉怎么做才不腻").matches


def test_a_name_in_the_question_overrides_the_selected_expert(engine: Engine) -> None:
    answer = engine.answer("沈为怎么看失业", persona="丁磊")
    assert answer.matches and answer.matches[0].persona.display_name == "沈为"


def test_natural_compare_through_the_terminal_chat() -> None:
    result = subprocess.run([sys.executable, "-m", "bot.cli", "chat"], input="丁磊和沈为怎么看算力\n/quit\n",
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    out = result.stdout.replace("**", "")  # the terminal marks the question's words in bold
    assert "丁磊" in out and "沈为" in out and "核心壁垒包括数据、算力、算法" in out


def test_a_near_duplicate_of_a_declined_question_gets_no_answer(engine: Engine) -> None:
    from bot.feedback.declined import Declined, DeclinedQuestion

    query = "AI会不会造成大量失业"
    assert engine.answer(query).matches
    corpus = default_corpus_dir()
    curated = Engine(load_personas(default_personas_dir()), load_vocabulary(corpus), load_stopwords(corpus),
                     declined=Declined([DeclinedQuestion("AI会不会造成大量的失业？", 1)]))
    assert not curated.answer(query).matches
    assert curated.answer("AI会不会让很多人丢饭碗").matches  # only near-duplicates are declined


def test_ingest_reports_entry_ids_that_vanished(tmp_path: Path) -> None:
    out = tmp_path / "personas"
    shutil.copytree(default_personas_dir(), out)
    stale = out / "shen-wei.yaml"
    stale.write_text(stale.read_text(encoding="utf-8").replace("shen-wei-004-a086ee", "shen-wei-004-000000"),
                     encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "bot.cli", "ingest", "--out", str(out)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "1 entry id(s) vanished or changed: shen-wei-004-000000" in result.stdout
    assert "1 new entry id(s): shen-wei-004-a086ee" in result.stdout
