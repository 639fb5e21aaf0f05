"""`persona-bot add-source`: a real interview in, in any of the shapes scraped pages come in.

The fixtures (tests/fixtures/ingest/, see PROVENANCE.md) hold the seeds' own questions and
answers in new shapes, so the seed source they came from is the oracle: the new source must
give exactly the seed's question/answer pairs, no more, no less, none moved to another speaker.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.ingest.add_source import AddSourceError, Request, add_source
from bot.ingest.build import Ingested, ingest_all, ingest_source, load_repairs, load_sources, stale_files
from bot.ingest.clean import junk_in
from bot.model import load_personas

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
PERSONAS = ROOT / "personas"
FIXTURES = ROOT / "tests" / "fixtures" / "ingest"
CLI = [sys.executable, "-m", "bot.cli"]


@dataclass(frozen=True)
class Case:
    file: str
    seed: str
    persona: str
    options: dict[str, object] = field(default_factory=dict)


CASES = [
    Case("wechat_001.md", "001", "ding-lei", {"experts": ["丁磊"]}),
    Case("saved_004.html", "004", "shen-wei", {"experts": ["沈为"]}),
    Case("wenda_000.txt", "000", "ding-lei", {"name": "丁磊", "outlet": "界面新闻"}),
    Case("qa_004.txt", "004", "shen-wei", {"experts": ["A"], "name": "沈为", "outlet": "白马商评"}),
]


def _corpus_copy(tmp: Path) -> Path:
    corpus = tmp / "corpus"
    shutil.copytree(CORPUS, corpus)
    return corpus


def _seed(source_id: str) -> Ingested:
    spec = next(s for s in load_sources(CORPUS) if s.source.id == source_id)
    return ingest_source(CORPUS, spec, load_repairs(CORPUS))


@pytest.fixture(scope="module", params=CASES, ids=lambda c: c.file)
def added(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Case, Path, str, str]:
    case: Case = request.param
    tmp = tmp_path_factory.mktemp(case.file.replace(".", "_"))
    corpus = _corpus_copy(tmp)
    shutil.copytree(PERSONAS, tmp / "personas")
    result = add_source(Request(file=FIXTURES / case.file, corpus=corpus, out=tmp / "personas", **case.options))  # type: ignore[arg-type]
    return case, tmp, result.source_id, result.report


def _new(tmp: Path, source_id: str) -> Ingested:
    return next(i for i in ingest_all(tmp / "corpus") if i.spec.source.id == source_id)


def test_one_entry_per_answer_each_the_seeds_own_pair(added: tuple[Case, Path, str, str]) -> None:
    case, tmp, source_id, _ = added
    new, seed = _new(tmp, source_id), _seed(case.seed)
    assert [(e.question, e.answer) for e in new.exchanges] == [(e.question, e.answer) for e in seed.exchanges]
    persona = {p.id: p for p in load_personas(tmp / "personas")}[case.persona]
    entries = [e for e in persona.entries if e.source == source_id]
    assert len(entries) == len(seed.exchanges) >= 7
    for entry in entries:
        assert entry.answer in new.text  # verbatim


def test_every_sentence_is_said_by_the_right_speaker(added: tuple[Case, Path, str, str]) -> None:
    case, tmp, source_id, _ = added
    seed = _seed(case.seed)
    theirs = {s for e in seed.exchanges for s in re.findall(r"[^。！？!?\n]+[。！？!?]?", e.answer)}
    asked = {s for e in seed.exchanges for s in re.findall(r"[^。！？!?\n]+[。！？!?]?", e.question)}
    for persona in load_personas(tmp / "personas"):
        for entry in persona.entries:
            if entry.source != source_id:
                continue
            assert persona.id == case.persona
            for sentence in re.findall(r"[^。！？!?\n]+[。！？!?]?", entry.answer):
                assert sentence in theirs, f"{entry.id}: {sentence!r} is not the expert's"
            for sentence in re.findall(r"[^。！？!?\n]+[。！？!?]?", entry.question):
                assert sentence in asked, f"{entry.id}: {sentence!r} was not asked"


_MARKUP = re.compile(r"!\[|\]\(|\*\*|<[a-z/][^>]*>|^#{1,6} |^> |https?://|mmbiz|&[a-z]+;", re.M)
# Every piece of page furniture the fixtures plant (words an expert could say, like 在看 in
# `在看了很多狗的图片后`, are not listed: the rules must not take those out).
_PAGE = re.compile(r"微信|公众号|推荐阅读|图片来源|视觉中国|排版|编辑丨|文丨|扫码|点击上方|点个|未经授权|转载|END|^——$|"
                   r"guancha_ai|baima_sp|一个有立场|百模大战”之后|AI芯片的下一步|创业者的一天|新的石油", re.M)


def test_no_image_tag_credit_footer_contact_note_or_markup_in_any_question_or_answer(
        added: tuple[Case, Path, str, str]) -> None:
    _, tmp, source_id, _ = added
    for persona in load_personas(tmp / "personas"):
        for entry in persona.entries:
            if entry.source != source_id:
                continue
            for text in (entry.question, entry.answer):
                assert junk_in(text) == [], entry.id
                assert not _MARKUP.search(text), f"{entry.id}: {_MARKUP.search(text)}"
                assert not _PAGE.search(text), f"{entry.id}: {_PAGE.search(text)}"


def test_the_existing_personas_are_unchanged(added: tuple[Case, Path, str, str]) -> None:
    case, tmp, source_id, _ = added
    for path in sorted(PERSONAS.glob("*.yaml")):
        if path.stem != case.persona:
            assert (tmp / "personas" / path.name).read_bytes() == path.read_bytes(), path.name
    before = {p.id: p for p in load_personas(PERSONAS)}[case.persona]
    after = {p.id: p for p in load_personas(tmp / "personas")}[case.persona]
    assert [e for e in after.entries if e.source != source_id] == before.entries
    assert stale_files(tmp / "corpus", tmp / "personas") == []


def test_the_report_says_what_it_did(added: tuple[Case, Path, str, str]) -> None:
    case, _, _, report = added
    seed = _seed(case.seed)
    assert f"entries written: {len(seed.exchanges)} ({case.persona}.yaml {len(seed.exchanges)})" in report
    assert "turns per speaker:" in report and "WARNING" not in report
    if case.file.endswith((".md", ".html")):
        for rule in ("image", "drop_credits", "drop_footer", "drop_contact_notes", "drop_pull_quotes", "link_line"):
            assert f"  {rule}: " in report, rule
        assert "sections (kept as context, never quoted)" in report


def test_the_section_headings_are_context_never_quoted(added: tuple[Case, Path, str, str]) -> None:
    _, tmp, source_id, _ = added
    new = _new(tmp, source_id)
    sections = {e.section for e in new.exchanges} - {""}
    for ex in new.exchanges:
        for heading in sections:
            assert heading not in ex.question.split("\n") and heading not in ex.answer.split("\n")


def _snapshot(path: Path) -> dict[str, str]:
    return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(path.rglob("*"))
            if p.is_file()}


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd, timeout=300,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(cwd)})


def test_the_command_adds_a_markdown_export_and_reports(tmp_path: Path) -> None:
    corpus = _corpus_copy(tmp_path)
    out = tmp_path / "personas"
    shutil.copytree(PERSONAS, out)
    result = _cli("add-source", str(FIXTURES / "wechat_001.md"), "--expert", "丁磊", "--corpus", str(corpus),
                  "--out", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "turns per speaker: 观察者网 (interviewer) 15, 丁磊 (expert) 15" in result.stdout
    assert "entries written: 15 (ding-lei.yaml 15)" in result.stdout
    new_id = f"{max(int(s.source.id) for s in load_sources(CORPUS)) + 1:03d}"
    assert f"added source {new_id}" in result.stdout
    entry = next(s for s in load_sources(corpus) if s.source.id == new_id)
    assert (entry.source.outlet, entry.source.url, entry.source.date) == (
        "观察者网", "https://example.org/fixture/guancha-dinglei", "2023-07-26")
    assert entry.file.endswith(".md") and (corpus / "raw" / entry.file).read_bytes() == (
        FIXTURES / "wechat_001.md").read_bytes()
    check = _cli("ingest", "--check", "--corpus", str(corpus), "--out", str(out), cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    asked = _cli("ask", "怎么添加作者公众号？", "--json", "--personas", str(out), cwd=tmp_path)
    for match in json.loads(asked.stdout)["matches"]:
        assert "微信" not in match["answer"] and "公众号" not in match["answer"]
    again = _cli("add-source", str(FIXTURES / "wechat_001.md"), "--expert", "丁磊", "--corpus", str(corpus),
                 "--out", str(out), cwd=tmp_path)
    assert again.returncode == 1 and f"already in the corpus as source {new_id}" in again.stderr


def test_a_new_expert_gets_a_safe_id_and_an_experts_stub(tmp_path: Path) -> None:
    corpus = _corpus_copy(tmp_path)
    source = tmp_path / "interview.txt"
    source.write_text("问：你怎么看开源大模型？\n答：开源降低了门槛，让中小团队也能参与。\n"
                      "问：算力会成为瓶颈吗？\n答：算力很贵，但算法优化能省下一半的卡。\n", encoding="utf-8")
    added = add_source(Request(file=source, corpus=corpus, out=tmp_path / "p", name="林测试", outlet="测试日报",
                               title="算法工程师谈模型"))
    assert "lin-ceshi.yaml" in added.written and "experts.yaml: added a stub for 林测试" in added.report
    assert "- name: 林测试\n  english: []" in (corpus / "experts.yaml").read_text(encoding="utf-8")
    (persona,) = [p for p in load_personas(tmp_path / "p") if p.id == "lin-ceshi"]
    assert (persona.name, persona.pinyin, len(persona.entries)) == ("林测试", "Lin Ceshi", 2)
    spec = next(s for s in load_sources(corpus) if s.source.id == added.source_id)
    assert [(s.label, s.part, s.name) for s in spec.speakers] == [("问", "interviewer", ""), ("答", "expert", "林测试")]


def test_it_asks_when_it_cannot_tell_who_is_who(tmp_path: Path) -> None:
    corpus = _corpus_copy(tmp_path)
    answers = iter(["丁磊"])
    added = add_source(Request(file=FIXTURES / "wechat_001.md", corpus=corpus, out=tmp_path / "p", dry_run=True),
                       ask=lambda _q: next(answers))
    assert "turns per speaker: 观察者网 (interviewer) 15, 丁磊 (expert) 15" in added.report
    assert added.written == [] and _snapshot(corpus) == _snapshot(CORPUS) and not (tmp_path / "p").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.md", "--expert", "丁磊"], "missing.md: no such file"),
        (["{fixtures}/wechat_001.md", "--expert", "梁文锋"], "wechat_001.md:1: no line starts with the label '梁文锋'"),
        (["{fixtures}/wechat_001.md"], "which label is the expert? labels that start turns: 观察者网 (15), 丁磊 (15)"),
        (["{fixtures}/wenda_000.txt", "--outlet", "界面新闻"], "the answers start with '答', which is not a name"),
        (["{fixtures}/wechat_001.md", "--expert", "丁磊", "--bad-part"], "sources.yaml:18: speaker '丁磊': part 'Expert' is not one of"),
    ],
    ids=["missing file", "label not found", "who is who", "generic label", "bad part"],
)
def test_errors_are_one_line_exit_1_and_nothing_is_written(tmp_path: Path, args: list[str], message: str) -> None:
    corpus = _corpus_copy(tmp_path)
    if "--bad-part" in args:
        args = [a for a in args if a != "--bad-part"]
        text = (corpus / "sources.yaml").read_text(encoding="utf-8")
        (corpus / "sources.yaml").write_text(text.replace("part: expert", "part: Expert", 1), encoding="utf-8")
    before = _snapshot(corpus)
    argv = [a.replace("{fixtures}", str(FIXTURES)) for a in args]
    result = _cli("add-source", *argv, "--corpus", str(corpus), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().split("\n")
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.stderr
    assert _snapshot(corpus) == before and not (tmp_path / "out").exists()


def test_a_declared_label_that_starts_no_turn_is_an_error(tmp_path: Path) -> None:
    corpus = _corpus_copy(tmp_path)
    with pytest.raises(AddSourceError, match=r"wechat_001\.md:1: no line starts with the label '记者'"):
        add_source(Request(file=FIXTURES / "wechat_001.md", corpus=corpus, out=tmp_path / "p", experts=["丁磊"],
                           interviewers=["观察者网", "记者"]))
    assert _snapshot(corpus) == _snapshot(CORPUS)


def test_the_interviewer_written_several_ways_is_found(tmp_path: Path) -> None:
    corpus = _corpus_copy(tmp_path)
    source = tmp_path / "several.md"
    source.write_text("**「暗涌」：**你们为什么做开源？\n\n**林测试：**开源降低了门槛。\n\n**记者：**算力会成为瓶颈吗？\n\n"
                      "**林测试：**算力很贵，但算法优化能省下一半的卡。\n\n**「暗涌」：**接下来呢？\n\n**林测试：**继续做研究。\n",
                      encoding="utf-8")
    added = add_source(Request(file=source, corpus=corpus, out=tmp_path / "p", experts=["林测试"], outlet="暗涌"))
    assert "turns per speaker: 暗涌 (interviewer) 2, 记者 (interviewer) 1, 林测试 (expert) 3" in added.report
    (persona,) = [p for p in load_personas(tmp_path / "p") if p.id == "lin-ceshi"]
    assert [e.question for e in persona.entries] == ["你们为什么做开源？", "算力会成为瓶颈吗？", "接下来呢？"]


def test_labels_on_their_own_line_bold_questions_and_emphasis_inside_answers(tmp_path: Path) -> None:
    """Another common export shape, from seed 004's words: `**沈为**` alone, then the answer's paragraphs."""
    seed = _seed("004")
    parts = ["# 我们和专业人士聊了聊中国大模型的真实水平", "原创 白马商评 白马商评 2023-07-10 18:30", "▼"]
    for i, ex in enumerate(seed.exchanges):
        parts.append(f"**白马商评：{ex.question}**")  # the whole question in bold, label inside
        parts.append("**沈为：**" if i % 2 else "**沈为**：")
        for j, paragraph in enumerate(ex.answer.split("\n")):
            first = re.match(r"[^。！？]+[。！？]", paragraph)
            # The export bolds an answer's first sentence now and then.
            parts.append(f"**{first.group()}**{paragraph[first.end():]}" if first and j == 0 and i % 3 == 0 else paragraph)
        parts.append("· · ·")
    parts += ["预览时标签不可点", "继续滑动看下一个", "白马商评", "向上滑动看下一个", "赞", "在看"]
    source = tmp_path / "export.md"
    source.write_text("\n\n".join(parts) + "\n", encoding="utf-8")
    corpus = _corpus_copy(tmp_path)
    added = add_source(Request(file=source, corpus=corpus, out=tmp_path / "p", experts=["沈为"], dry_run=False))
    new = _new(tmp_path, added.source_id)
    assert [(e.question, e.answer) for e in new.exchanges] == [(e.question, e.answer) for e in seed.exchanges]


def test_a_speech_in_markdown_is_one_unit_per_marked_section(tmp_path: Path) -> None:
    corpus = _corpus_copy(tmp_path)
    talk = tmp_path / "talk.md"
    talk.write_text("# 在开发者大会上的演讲\n\n![图片](x.png)\n\n## 开场\n\n过去几年，大模型发展非常迅猛。\n\n我今天讲三点。\n\n"
                    "## 第一点：算力\n\n**算力是门槛。**没有算力，一切无从谈起。\n\n---\n\n欢迎转发。\n\n推荐阅读\n", encoding="utf-8")
    add_source(Request(file=talk, corpus=corpus, out=tmp_path / "p", format="speech", experts=["林测试"], outlet="测试日报"))
    (persona,) = [p for p in load_personas(tmp_path / "p") if p.id == "lin-ceshi"]
    assert [(e.question, e.answer) for e in persona.entries] == [
        ("开场", "过去几年，大模型发展非常迅猛。\n我今天讲三点。"), ("第一点：算力", "算力是门槛。没有算力，一切无从谈起。")]
