"""Near misses (corpus/near_misses.yaml): questions that share an entry's words but that it does not
answer. They are validated like alternates, copied into the entries, never quoted, and a question
close to one of them is declined where the entry was quoted without them.

Queries here are our own, not eval cases.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.ingest.build import build_personas
from bot.matching import Engine
from bot.matching.engine import load_stopwords
from bot.model import DataError, Persona, load_personas
from bot.paths import default_corpus_dir, default_personas_dir
from bot.vocabulary import load_vocabulary

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.load()


def _without_near_misses(persona: Persona) -> Persona:
    topics = {t: [e.model_copy(update={"near_misses": []}) for e in es] for t, es in persona.topics.items()}
    return persona.model_copy(update={"topics": topics})


def test_a_near_miss_pointing_at_no_entry_is_an_error_with_file_and_line(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    path = corpus / "near_misses.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines += ["shen-wei-004-000000:", '  - {q: "一个没有主人的问题", by: test, date: 2026-12-02}']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        build_personas(corpus)
    (problem,) = info.value.problems
    assert problem.file == str(path) and problem.line == len(lines) and "shen-wei-004-000000" in problem.message


def test_near_misses_are_copied_into_entries_and_never_quoted(engine: Engine) -> None:
    entries = [e for p in engine.personas for e in p.entries]
    assert all(e.near_misses for e in entries)
    for query in ("360智脑是哪天发布的", "AlphaGo是谁家做的"):
        for match in engine.answer(query).matches:
            assert all(q not in match.entry.answer for q in match.entry.near_misses)


@pytest.mark.parametrize("query", ["流浪地球里的MOSS配音演员是谁", "黄仁勋哪一年把DGX-1送给了OpenAI"])
def test_a_question_close_to_a_near_miss_is_declined_where_it_was_quoted(engine: Engine, query: str) -> None:
    """Both answers mention the thing asked about (流浪地球, the DGX-1 gift) without saying who or when."""
    corpus = default_corpus_dir()
    bare = Engine([_without_near_misses(p) for p in load_personas(default_personas_dir())],
                  load_vocabulary(corpus), load_stopwords(corpus))
    assert bare.answer(query).matches
    assert not engine.answer(query).matches
