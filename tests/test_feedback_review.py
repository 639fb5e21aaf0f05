"""The review loop end to end on the real corpus: users ask (one gets a 👎), `persona-bot review`
runs beside a live bot's data directory, a curator attaches and declines, `ingest` rebuilds, and
the same questions (and other phrasings of them) now get the attached entry or the no-answer reply.

Also: grouping measured on a labelled set (tests/fixtures/feedback/questions.yaml), the declined
threshold checked against it and eval/tune.yaml, and the corpus files edited byte for byte."""

from __future__ import annotations

import io
import itertools
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from argparse import Namespace
from pathlib import Path

import pytest
import yaml
from rapidfuzz import process

from bot.conversation import AnswerReply, ChatState, Conversation
from bot.feedback import files
from bot.feedback.commands import run_review
from bot.feedback.config import FeedbackConfig
from bot.feedback.declined import Declined
from bot.feedback.recorder import Recorder
from bot.feedback.review import Group, Phrasing, group_texts
from bot.feedback.settings import settings
from bot.feedback.similar import SCORER, key
from bot.feedback.store import Asked, FeedbackStore
from bot.ingest.alternates import load_alternates
from bot.matching import Engine

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "bot.cli"]
LABELLED = Path(__file__).parent / "fixtures" / "feedback" / "questions.yaml"
TUNE = ROOT / "eval" / "tune.yaml"

THUMBS_DOWN = "中国大模型落后美国多少年"      # answered with 沈为's view of the gap, but it asks for a number
THUMBS_DOWN_OTHER = "中国大模型比美国落后多少年"  # another phrasing of it, never recorded
TIMELINE = "ding-lei-001-d269bd"              # 丁磊 on the gap and the catch-up timetable: the curator's pick
UNANSWERED = "打工人怎么跟AI相处"             # no confident answer; 沈为 on jobs is the right one
UNANSWERED_OTHER = "打工人该怎么跟AI相处呢"
OUT_OF_SCOPE = "红烧肉怎么做才好吃"
OUT_OF_SCOPE_OTHER = "红烧肉到底怎么做才会好吃"


# ---- grouping, measured ----


def _labelled(half: int | None) -> tuple[list[str], list[str]]:
    groups = yaml.safe_load(LABELLED.read_text(encoding="utf-8"))["groups"]
    texts, labels = [], []
    for i, group in enumerate(groups):
        if half is None or i % 2 == half:
            texts += group["questions"]
            labels += [group["label"]] * len(group["questions"])
    return texts, labels


def pairwise(texts: list[str], labels: list[str], threshold: float | None = None) -> tuple[float, float]:
    """Pairwise precision and recall of `group_texts` against the labels."""
    group_of = {i: g for g, members in enumerate(group_texts(texts, threshold)) for i in members}
    tp = fp = fn = 0
    for i, j in itertools.combinations(range(len(texts)), 2):
        same, together = labels[i] == labels[j], group_of[i] == group_of[j]
        tp += same and together
        fp += together and not same
        fn += same and not together
    return tp / (tp + fp), tp / (tp + fn)


def test_the_labelled_set_is_big_enough() -> None:
    texts, labels = _labelled(None)
    assert len(texts) >= 50 and len(set(labels)) >= 30


def test_grouping_precision_and_recall() -> None:
    """Figures in the README; the threshold was chosen on half 0 and is reported on half 1."""
    p_test, r_test = pairwise(*_labelled(1))
    p_all, r_all = pairwise(*_labelled(None))
    assert p_test >= 0.9 and r_test >= 0.65
    assert p_all >= 0.8 and r_all >= 0.7


def test_declined_threshold_separates_different_requests() -> None:
    texts, labels = _labelled(None)
    keys = [key(t) for t in texts]
    scores = process.cdist(keys, keys, scorer=SCORER)
    limit = settings().declined_similarity
    different = [scores[i][j] for i, j in itertools.combinations(range(len(texts)), 2) if labels[i] != labels[j]]
    assert max(different) < limit
    if TUNE.exists():  # almost no answerable tune question is as close as that to a tune negative
        cases = yaml.safe_load(TUNE.read_text(encoding="utf-8"))
        negatives = [c["query"] for c in cases if c["category"] == "negative"]
        declined = Declined.load(_declined_dir(negatives))
        named = Engine.load().named
        caught = [c["query"] for c in cases if c["category"] != "negative" and declined.matches(c["query"], named)]
        # One known pair since holdout 4 joined tune: a question one place name (美国) short of a
        # negative (settings.yaml says which); wording alone cannot tell them apart.
        assert len(caught) <= 1, caught


def test_a_declined_question_about_one_expert_leaves_the_same_about_another() -> None:
    declined = Declined.load(_declined_dir(["马超觉得AI会不会导致大量失业？"]))
    named = Engine.load().named
    assert declined.matches("马超认为AI会不会导致大量失业", named)
    assert not declined.matches("沈为觉得AI会不会导致大量失业？", named)
    assert declined.matches("沈为觉得AI会不会导致大量失业？")  # without names, wording alone decides


def _declined_dir(questions: list[str]) -> Path:
    import tempfile

    directory = Path(tempfile.mkdtemp())
    files.add_declined(directory, questions, "2026-12-02", "test")
    return directory


def test_declined_catches_reworded_and_reordered_phrasings(tmp_path: Path) -> None:
    files.add_declined(tmp_path, ["沈向洋怎么看量子计算？", OUT_OF_SCOPE], "2026-12-02", "not in any source")
    declined = Declined.load(tmp_path)
    assert len(declined) == 2
    for asked in ["沈向洋对量子计算怎么看", "沈向洋怎麼看量子計算", OUT_OF_SCOPE_OTHER, "紅燒肉怎麼做才好吃？"]:
        assert declined.matches(asked), asked
    for asked in ["沈向洋怎么看开源", "丁磊怎么看量子计算的商业化前景", "大模型怎么做才好用", ""]:
        assert not declined.matches(asked), asked
    assert not Declined.load(tmp_path / "nowhere").matches(OUT_OF_SCOPE)


# ---- the corpus files: appended, every other byte kept ----


def test_attach_appends_under_the_entry_and_keeps_every_other_byte(tmp_path: Path) -> None:
    original = textwrap.dedent("""\
        # comment at the top, kept
        ding-lei-001-aaaaaa:
          - {q: "第一个", by: helper-alt-a, date: 2026-12-02}  # trailing comment
          # a comment inside the list
          - {q: "第二个", by: helper-alt-a, date: 2026-12-02}

        # a comment before the next key
        shen-wei-004-bbbbbb:
          - {q: "third", by: helper-alt-b, date: 2026-12-02}""")  # no newline at the end
    (tmp_path / "alternates.yaml").write_text(original, encoding="utf-8")
    added = files.add_alternates(tmp_path, "ding-lei-001-aaaaaa",
                                 ['他说"开源"是什么意思', "第一个", "第一个？", "电话 [phone]"], "2026-12-03")
    assert added == ['他说"开源"是什么意思']  # duplicates (same key) and masked text are left out
    files.add_alternates(tmp_path, "new-entry-001-cccccc", ["新问题"], "2026-12-03")
    files.add_alternates(tmp_path, "shen-wei-004-bbbbbb", ["fourth"], "2026-12-03")
    text = (tmp_path / "alternates.yaml").read_text(encoding="utf-8")
    assert text == original.replace(
        '  - {q: "第二个", by: helper-alt-a, date: 2026-12-02}\n',
        '  - {q: "第二个", by: helper-alt-a, date: 2026-12-02}\n'
        '  - {q: "他说\\"开源\\"是什么意思", by: review, date: 2026-12-03}\n',
    ) + ('\n  - {q: "fourth", by: review, date: 2026-12-03}\n'
         'new-entry-001-cccccc:\n  - {q: "新问题", by: review, date: 2026-12-03}\n')
    flow = tmp_path / "flow"
    flow.mkdir()
    (flow / "alternates.yaml").write_text('x-1: [{q: "a", by: b}]\n', encoding="utf-8")
    with pytest.raises(ValueError, match="one line"):
        files.add_alternates(flow, "x-1", ["new"], "2026-12-03")
    found = load_alternates(tmp_path)
    assert [(a.question, a.by) for a in found["ding-lei-001-aaaaaa"]][-1] == ('他说"开源"是什么意思', "review")
    assert [a.question for a in found["new-entry-001-cccccc"]] == ["新问题"]


def test_decline_appends_to_declined_and_to_tune_as_negatives(tmp_path: Path) -> None:
    shutil.copy(ROOT / "corpus" / "declined.yaml", tmp_path / "declined.yaml")
    header = (tmp_path / "declined.yaml").read_text(encoding="utf-8")
    tune = tmp_path / "tune.yaml"
    tune_text = "# a tune set\n- id: x-1\n  category: direct\n  query: \"开源\"\n  persona: null\n  expect_any: [a]\n"
    tune.write_text(tune_text, encoding="utf-8")
    assert files.add_declined(tmp_path, [OUT_OF_SCOPE, OUT_OF_SCOPE + "？"], "2026-12-03", "cooking") == [OUT_OF_SCOPE]
    assert (tmp_path / "declined.yaml").read_text(encoding="utf-8") == (
        header + f'- {{q: "{OUT_OF_SCOPE}", date: 2026-12-03, note: "cooking"}}\n')
    ids = files.add_negatives(tune, [OUT_OF_SCOPE, "开源"], "2026-12-03", "cooking")
    assert len(ids) == 1 and ids[0].startswith("rv-neg-")
    assert files.add_negatives(tune, [OUT_OF_SCOPE], "2026-12-04", "again") == []  # once only
    text = tune.read_text(encoding="utf-8")
    assert text.startswith(tune_text) and text.count(files.TUNE_HEADER) == 1
    case = yaml.safe_load(text)[-1]
    assert case == {"id": ids[0], "category": "negative", "query": OUT_OF_SCOPE, "persona": None,
                    "expect_any": [], "note": "declined in review 2026-12-03: cooking"}


# ---- the loop, end to end ----


LIVE_BOT = """
import sys, time
from pathlib import Path
from bot.feedback.config import FeedbackConfig
from bot.feedback.recorder import Recorder
from bot.feedback.store import Asked
from bot.matching import Answer
recorder = Recorder(FeedbackConfig(Path(sys.argv[1])), via="live")
print("up", flush=True)
n = 0
while True:  # a bot answering other users the whole time review runs
    recorder.record("你好呀 %d" % (n % 3), None, Answer("", None, []))
    n += 1
    time.sleep(0.01)
"""


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=180)


@pytest.fixture(scope="module")
def real_engine() -> Engine:
    return Engine.load()


def test_review_attach_decline_ingest_then_the_questions_answer(tmp_path: Path, real_engine: Engine) -> None:
    corpus, personas, data = tmp_path / "corpus", tmp_path / "personas", tmp_path / "data"
    shutil.copytree(ROOT / "corpus", corpus)
    tune = tmp_path / "tune.yaml"
    tune.write_text((TUNE.read_text(encoding="utf-8") if TUNE.exists() else "[]\n"), encoding="utf-8")
    alternates_before = (corpus / "alternates.yaml").read_text(encoding="utf-8")
    before = {q: real_engine.answer(q) for q in (THUMBS_DOWN, THUMBS_DOWN_OTHER, UNANSWERED, UNANSWERED_OTHER)}
    assert before[THUMBS_DOWN].matches and not before[UNANSWERED].matches

    # users ask; one presses 👎 on the answer they got
    recorder = Recorder(FeedbackConfig(data / "feedback.sqlite3"), via="test")
    conv = Conversation(real_engine, recorder=recorder)
    wrong = conv.handle(THUMBS_DOWN, ChatState())
    assert isinstance(wrong, AnswerReply) and wrong.record
    recorder.verdict(wrong.record, False, chat_id=1, message_id=10, user_id=100)
    for text in (UNANSWERED, UNANSWERED, UNANSWERED + "？", OUT_OF_SCOPE, "红烧肉怎么做"):
        conv.handle(text, ChatState())
    assert recorder.flush(30)
    recorder.close()

    env = {**os.environ, "PERSONA_BOT_DATA_DIR": str(data)}  # as `run` would have it: no flags needed
    env.pop("PERSONA_BOT_FEEDBACK_DB", None)
    live = subprocess.Popen([sys.executable, "-c", LIVE_BOT, str(data / "feedback.sqlite3")], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert live.stdout is not None and live.stdout.readline().strip() == "up"
        listed = _cli("review", "--json", "--corpus", str(corpus), "--tune", str(tune), env=env)
        assert listed.returncode == 0, listed.stderr
        groups = {g["text"]: g for g in json.loads(listed.stdout)["groups"]}
        down = groups[THUMBS_DOWN]
        assert down["reasons"]["thumbs_down"] == 1 and len(down["candidates"]) == 3
        assert down["candidates"][0]["answered"] and down["candidates"][0]["entry_id"] == \
            before[THUMBS_DOWN].matches[0].entry.id
        target = TIMELINE  # the curator types the entry id (it need not be among the candidates)
        asked = groups[UNANSWERED]
        assert asked["count"] == 3 and asked["reasons"]["unanswered"] == 3
        assert asked["phrasings"] == [{"text": UNANSWERED, "count": 3}]  # "？" is the same phrasing
        pork = next(g for g in groups.values() if OUT_OF_SCOPE in {p["text"] for p in g["phrasings"]})
        assert pork["count"] == 2

        for args in (["--attach", down["id"], TIMELINE], ["--attach", asked["id"], "1"],
                     ["--decline", pork["id"], "--note", "cooking"]):
            done = _cli("review", *args, "--corpus", str(corpus), "--tune", str(tune), env=env)
            assert done.returncode == 0, done.stderr
        again = _cli("review", "--json", "--corpus", str(corpus), "--tune", str(tune), env=env)
        left = {g["text"] for g in json.loads(again.stdout)["groups"]}
        assert not left & {THUMBS_DOWN, UNANSWERED, OUT_OF_SCOPE, "红烧肉怎么做"}
        assert live.poll() is None  # the live bot never noticed
    finally:
        live.kill()
        live.wait()

    # only lines were added to alternates.yaml; the decline reached declined.yaml and the tune set
    after = (corpus / "alternates.yaml").read_text(encoding="utf-8")
    added = [line for line in after.splitlines(keepends=True) if line not in alternates_before]
    assert "".join(line for line in after.splitlines(keepends=True) if line not in added) == alternates_before
    day = time.strftime("%Y-%m-%d")
    assert sorted(added) == sorted([f'  - {{q: "{THUMBS_DOWN}", by: review, date: {day}}}\n',
                                    f'  - {{q: "{UNANSWERED}", by: review, date: {day}}}\n'])
    cases = yaml.safe_load(tune.read_text(encoding="utf-8"))
    assert {c["query"] for c in cases if c["id"].startswith("rv-neg-")} == {OUT_OF_SCOPE, "红烧肉怎么做"}

    built = _cli("ingest", "--corpus", str(corpus), "--out", str(personas), env=env)
    assert built.returncode == 0, built.stderr
    engine = Engine.load(personas, corpus)  # what /reload does after ingest
    unanswered_target = asked["candidates"][0]["entry_id"]
    for question, entry in ((THUMBS_DOWN, target), (THUMBS_DOWN_OTHER, target),
                            (UNANSWERED, unanswered_target), (UNANSWERED_OTHER, unanswered_target)):
        answer = engine.answer(question)
        assert answer.matches and answer.matches[0].entry.id == entry, question
    # before, the 👎 question got another entry first and the unanswered one nothing
    assert before[THUMBS_DOWN].matches[0].entry.id != target and not before[UNANSWERED].matches
    declined = Declined.load(corpus)
    assert declined.matches(OUT_OF_SCOPE) and declined.matches(OUT_OF_SCOPE_OTHER)
    assert not declined.matches(THUMBS_DOWN) and not declined.matches(UNANSWERED)


def test_interactive_review(tmp_path: Path, tiny_personas_dir: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    db = tmp_path / "feedback.sqlite3"
    with FeedbackStore.open(db) as store:
        now = time.time()
        for i, (text, ago) in enumerate([("开源怎么看", 9), ("开源怎么看", 8), ("明天会下雨吗", 7), ("红烧肉怎么做", 6)]):
            store.add(Asked(f"r{i}", text, "ding-lei", False, asked_at=now - ago))  # most recent first
    out = io.StringIO()
    args = Namespace(feedback_db=db, data_dir=None, days=None, json=False, limit=None, attach=None,
                     decline=None, note="off topic", personas=tiny_personas_dir, corpus=corpus, tune=None)
    code = run_review(args, io.StringIO("x\nno-such-entry-1\ns\nd\nq\n"), out)
    shown = out.getvalue()
    assert code == 0
    assert "3 group(s) to review" in shown and "2× 开源怎么看" in shown and "1. 丁磊" in shown
    assert "1/2/3 attach" in shown  # `x` is not an answer: the help again
    assert "no entry no-such-entry-1" in shown  # an id no entry has is refused, not written
    assert "declined: 1 question(s)" in shown and "persona-bot ingest" in shown
    assert Declined.load(corpus).matches("红烧肉怎么做")
    with FeedbackStore.open(db) as store:
        reviewed = {q.text: q.reviewed for q in store.questions()}
    assert reviewed == {"开源怎么看": None, "红烧肉怎么做": "declined", "明天会下雨吗": None}


def test_review_without_a_store_says_where_it_looked(tmp_path: Path) -> None:
    env = {**os.environ, "PERSONA_BOT_DATA_DIR": str(tmp_path)}
    result = _cli("review", "--json", env=env)
    assert result.returncode == 2 and str(tmp_path / "feedback.sqlite3") in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "feedback.sqlite3").exists()  # looking never creates one


def test_group_json_shape() -> None:
    group = Group("g-1", [Phrasing("问", 2)], [1, 2], unanswered=2)
    data = group.to_json()
    assert set(data) == {"id", "count", "text", "phrasings", "reasons", "expert", "last_asked", "candidates",
                         "question_ids"}
    assert data["count"] == 2 and data["reasons"] == {"unanswered": 2, "low_confidence": 0, "thumbs_down": 0}


if __name__ == "__main__":  # the README's grouping figures
    for name, half in (("tune half", 0), ("test half", 1), ("all", None)):
        texts, labels = _labelled(half)
        p, r = pairwise(texts, labels)
        print(f"{name}: {len(texts)} questions, {len(set(labels))} groups: precision {p:.2f}, recall {r:.2f}")
