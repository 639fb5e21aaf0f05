"""Corpus -> personas on the real seeds: counts, exact boundaries, verbatim quotes, no junk.

Expected words below were written by reading corpus/raw/, not copied from the program's output.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bot.ingest.build import build_personas, cleaned_text, load_repairs, load_sources, stale_files, write_personas
from bot.ingest.clean import junk_in
from bot.model import DataError, Persona
from bot.text import fold

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"


@pytest.fixture(scope="module")
def personas() -> dict[str, Persona]:
    return {p.name_simplified: p for p in build_personas(CORPUS)}


def _entry(persona: Persona, answer_start: str):  # type: ignore[no-untyped-def]
    found = [e for e in persona.entries if e.answer.startswith(answer_start)]
    assert len(found) == 1, f"{persona.name}: {len(found)} entries start with {answer_start!r}"
    return found[0]


SEEDS = ("000", "001", "002", "003", "004")


def test_the_seed_sources_give_eight_personas_with_all_their_answers(personas: dict[str, Persona]) -> None:
    """The one test that pins counts, and only the seeds': a curator's new source adds to them."""
    counts = {name: n for name, p in personas.items() if (n := sum(e.source in SEEDS for e in p.entries))}
    assert counts == {"丁磊": 7 + 15, "沈向洋": 3, "沈为": 14, "安筱鹏": 1,
                      "殷宇辉": 4, "周亚灵": 4, "杜夏威": 3, "马超": 3}


def test_names_as_written_simplified_and_romanised(personas: dict[str, Persona]) -> None:
    an = personas["安筱鹏"]
    assert (an.id, an.name, an.name_simplified, an.pinyin) == ("an-xiaopeng", "安筱鵬", "安筱鹏", "An Xiaopeng")
    assert "Harry Shum" in personas["沈向洋"].aliases
    assert personas["丁磊"].id == "ding-lei"
    assert [s.id for s in personas["丁磊"].sources] == ["000", "001"]


@pytest.mark.parametrize(
    ("name", "start", "end", "question_start", "question_end"),
    [
        ("丁磊", "类似于人脑是人思维的载体", "就未必能胜任了。", "你在书中提及", "是否会产生认知局限？"),
        ("丁磊", "向ChatGPT提问、说AI的语言", "与人工智能一起工作。", "你在《AI思维", "之间的关系？"),
        ("丁磊", "首先可以这样类比一下", "是AI领域更大的突破。", "几年前AlphaGo掀起过", "很快失去热度?"),
        ("丁磊", "提到Transformer", "决定了我们能训练出什么样的模型。", "您在新书《生成式人工智能》中提到,Transformer", "还有哪些?"),
        ("丁磊", "我觉得有几个方面的因素", "还是有一定的片面性。", "自ChatGPT爆火以来", "他们在担心什么?"),
        ("丁磊", "我认为可以这么理解。", "我认为可以这么理解。", "我们能把ChatGPT理解为", "是一个成年人吗?"),
        ("周亚灵", "大模型跟實體經濟的結合", "運營閉環,生態閉環。", "今年的漢諾威工業博覽會上", "應該具備哪些基礎?"),
        ("安筱鹏", "根據大家的討論,我們的結論是", "也是一個整個產業生態體系的競爭。", "根據大家的討論", "我們的結論是"),
        ("马超", "我說一句比較客觀的話", "去輔助落實這些解決方案。", "好,第三個好我們再問4位嘉賓", "在整個產業發展中的作用?"),
        ("沈为", "所谓大模型就是指模型的参数量大", "可以达到百亿、千亿级别。", "能不能用最通俗简单的语言", "有什么区别？"),
        ("沈为", "在安全方面，首先我观察到几个反常的现象", "这个问题是大家担心的。", "我们看到包括奥特曼", "你怎么看待安全问题？"),
        ("沈为", "这个问题超纲了", "毕竟技术发展不是线性的。", "硅基文明取代碳基文明", "确定性的方向？"),
        ("沈向洋", "在這樣一個智能時代,機會到底在哪里?", "值得人們在數學方面更進一步地研究!", "對於人工智能發展的幾點思考", "發展的幾點思考"),
    ],
)
def test_answer_and_question_boundaries(personas: dict[str, Persona], name: str, start: str, end: str,
                                        question_start: str, question_end: str) -> None:
    entry = _entry(personas[name], start)
    assert entry.answer.endswith(end)
    assert fold(entry.question).startswith(fold(question_start))
    assert entry.question.endswith(question_end)


def test_every_answer_is_verbatim_from_its_cleaned_source(personas: dict[str, Persona]) -> None:
    repairs = load_repairs(CORPUS)
    texts = {spec.source.id: cleaned_text(CORPUS, spec, repairs) for spec in load_sources(CORPUS)}
    for persona in personas.values():
        for entry in persona.entries:
            assert entry.answer in texts[entry.source], entry.id


_JUNK = {
    "summary or page chrome": re.compile(r"举报|反馈|关键词|重大事件摘要|这篇文章|今日关注|siemens|標簽|打印|E-mail|轉載請注明"),
    "caption": re.compile(r"资料图|新书《生成式人工智能》$"),
    "editor's note": re.compile(r"作者系|演講整理"),
    "pinyin junk": re.compile(r"[\u4e00-\u9fffA-Za-z\]^]\([a-zü]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ][a-zü]*\)"),
    "mojibake": re.compile(r"[\ue000-\uf8ff]|\?[A-Za-z;,\]^]|\?ldquo"),
    "journalist's intro": re.compile(r"据《生成式人工智能》作者丁磊判断|界面新闻记者|白马商评“都快成红海"),
}


def test_no_junk_in_any_entry(personas: dict[str, Persona]) -> None:
    for persona in personas.values():
        for entry in persona.entries:
            for text in (entry.answer, entry.question):
                assert junk_in(text) == [], entry.id  # the very rules ingest cleans with, for every source
                # The seeds' own traps, in the seeds only: in another source these are ordinary words.
                for what, pattern in _JUNK.items() if entry.source in SEEDS else ():
                    assert not pattern.search(text), f"{what} in {entry.id}: {pattern.search(text)}"


def test_no_passage_is_held_twice(personas: dict[str, Persona]) -> None:
    seen: dict[str, str] = {}
    for persona in personas.values():
        for entry in persona.entries:
            for sentence in re.findall(r"[^。！？!?]{12,}[。！？!?]", entry.answer):
                key = fold(sentence)
                assert key not in seen or seen[key] == entry.id + "?", f"{entry.id} repeats {seen.get(key)}"
                seen[key] = entry.id


def test_mojibake_is_repaired_where_certain(personas: dict[str, Persona]) -> None:
    shen = " ".join(e.answer for e in personas["沈向洋"].entries)
    for repaired in ("以OpenAI為代表", "因為覺得這是人工智能的作品", "是因為它帶來了機會", "談論很多的“規模效應”",
                     "我們在粵港澳大灣區", "因為沒有資金", "人們在數學方面", "是不是(會有)“涌現”", "通用人工智能(AGI)"):
        assert repaired in shen
    zhou = " ".join(e.answer for e in personas["周亚灵"].entries)
    assert "通用的方法基于華為公司自身" in zhou
    assert "但是在在一些特定行業" in personas["马超"].entries[-1].answer


def test_machine_summary_sentences_are_held_once_from_the_interview(personas: dict[str, Persona]) -> None:
    repeated = "发展速度太快，越来越智能，会不会产生自主意识"
    holders = [e.id for e in personas["沈为"].entries if repeated in e.answer]
    assert holders == ["shen-wei-004-6d7762"]


def test_committed_personas_are_fresh_and_a_rebuild_changes_no_byte(tmp_path: Path) -> None:
    assert stale_files(CORPUS, ROOT / "personas") == []
    first = tmp_path / "a"
    write_personas(CORPUS, first)
    snapshot = {p.name: p.read_bytes() for p in first.iterdir()}
    write_personas(CORPUS, first)
    assert {p.name: p.read_bytes() for p in first.iterdir()} == snapshot


NEW_INTERVIEW = """标题: 专访:算法工程师谈模型
链接: https://example.org/a/1
总结: 文|测试日报记者。测试日报：你怎么看开源大模型？林一鸣：开源降低了门槛，让中小团队也能参与。测试日报：算力会成为瓶颈吗？林一鸣：算力很贵，但算法优化能省下一半的卡。举报/反馈
关键词: 开源, 算力
"""


def test_adding_a_source_is_a_file_and_an_entry(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "raw").mkdir(parents=True)
    for name in ("topics.yaml", "experts.yaml", "stopwords.txt"):
        shutil.copy(CORPUS / name, corpus / name)
    (corpus / "raw" / "100_test.txt").write_text(NEW_INTERVIEW, encoding="utf-8")
    (corpus / "sources.yaml").write_text(
        '- id: "100"\n  file: 100_test.txt\n  outlet: 测试日报\n  title: 算法工程师谈模型\n  date: "2025-01-02"\n'
        "  url: https://example.org/a/1\n  script: Simplified\n  format: interview\n  speakers:\n"
        "    - {label: 测试日报, part: interviewer, role: 记者}\n    - {label: 林一鸣, part: expert, role: 算法工程师}\n",
        encoding="utf-8",
    )
    out = tmp_path / "personas"
    assert write_personas(corpus, out) == ["lin-yiming.yaml"]
    (persona,) = build_personas(corpus)
    assert [(e.question, e.answer) for e in persona.entries] == [
        ("你怎么看开源大模型？", "开源降低了门槛，让中小团队也能参与。"),
        ("算力会成为瓶颈吗？", "算力很贵，但算法优化能省下一半的卡。"),
    ]
    assert persona.entries[0].topics[0] == "open-source"
    assert persona.entries[1].topics[0] == "compute"
    assert persona.sources[0].url == "https://example.org/a/1"


def _small_corpus(tmp_path: Path, speakers: str, raw: str = NEW_INTERVIEW) -> Path:
    corpus = tmp_path / "corpus"
    (corpus / "raw").mkdir(parents=True)
    for name in ("topics.yaml", "experts.yaml", "stopwords.txt"):
        shutil.copy(CORPUS / name, corpus / name)
    (corpus / "raw" / "100_test.txt").write_text(raw, encoding="utf-8")
    (corpus / "sources.yaml").write_text(
        '- id: "100"\n  file: 100_test.txt\n  outlet: 测试日报\n  title: 算法工程师谈模型\n  date: null\n'
        "  url: null\n  script: Simplified\n  format: interview\n  speakers:\n" + speakers, encoding="utf-8")
    return corpus


def _problems(corpus: Path) -> list[str]:
    with pytest.raises(DataError) as info:
        build_personas(corpus)
    return [str(p) for p in info.value.problems]


def test_a_declared_speaker_with_no_turn_fails_naming_its_line(tmp_path: Path) -> None:
    corpus = _small_corpus(tmp_path, "    - {label: 测试日报, part: interviewer}\n    - {label: 梁文锋, part: expert}\n")
    (problem,) = _problems(corpus)
    assert problem.startswith(f"{corpus / 'sources.yaml'}:11: source 100: no turn found for speaker '梁文锋' (expert)")
    assert "labels that start turns there: 测试日报 (2), 林一鸣 (2)" in problem
    assert not (tmp_path / "out").exists()


def test_a_bad_part_fails_naming_its_line(tmp_path: Path) -> None:
    corpus = _small_corpus(tmp_path, "    - label: 测试日报\n      part: interviewer\n    - label: 林一鸣\n      part: Expert\n")
    assert _problems(corpus) == [f"{corpus / 'sources.yaml'}:13: speaker '林一鸣': part 'Expert' is not one of "
                                 "interviewer, moderator, expert (did you mean 'expert'?)"]


def test_a_missing_raw_file_fails_naming_the_entry(tmp_path: Path) -> None:
    corpus = _small_corpus(tmp_path, "    - {label: 测试日报, part: interviewer}\n    - {label: 林一鸣, part: expert}\n")
    (corpus / "raw" / "100_test.txt").unlink()
    assert _problems(corpus) == [f"{corpus / 'sources.yaml'}:1: source 100: file raw/100_test.txt not found in {corpus}"]


def test_the_persona_is_named_by_experts_yaml_or_name_never_by_a_raw_label(tmp_path: Path) -> None:
    decorated = NEW_INTERVIEW.replace("林一鸣：", "**林一鸣：**")
    corpus = _small_corpus(tmp_path, "    - {label: 「测试日报」, part: interviewer}\n    - {label: '**林一鸣', part: expert}\n",
                           decorated)
    (persona,) = build_personas(corpus)
    assert (persona.id, persona.name) == ("lin-yiming", "林一鸣")
    generic = _small_corpus(tmp_path / "g", "    - {label: 问, part: interviewer}\n    - {label: 答, part: expert}\n",
                            "问：你怎么看开源？\n答：开源降低了门槛。\n")
    assert _problems(generic) == [f"{generic / 'sources.yaml'}:11: speaker '答' says what the speaker does, not who: "
                                  "add `name:` (the expert's name) to it"]
    named = _small_corpus(tmp_path / "n", "    - {label: 问, part: interviewer}\n    - {label: 答, part: expert, name: 丁磊}\n",
                          "问：你怎么看开源？\n答：开源降低了门槛。\n")
    (ding,) = build_personas(named)
    assert (ding.id, ding.name, "Ding Lei" in ding.aliases) == ("ding-lei", "丁磊", True)
