"""Text repair: one named rule per trap found in scraped pages, applied in a fixed order.

The raw text stays untouched in corpus/raw/; every quote in personas/ must be a substring of
`clean(raw)`, so the rules here define what "verbatim" means. Each rule has its own test on
the real snippet it fixes (tests/test_clean.py).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass

# A single pinyin syllable with its tone mark, as scrapers glue it after each character.
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
_PINYIN = rf"[a-zü{_TONED}]*[{_TONED}][a-zü{_TONED}]*"
_CJK = r"\u3400-\u9fff\uf900-\ufaff"

# Labels of the scraper's record format: the article body sits in the "总结" field.
_FIELD = re.compile(r"^(标题|链接|总结|关键词|AI技术|行业|重大事件摘要): ?", re.M)
_SUMMARY_FIELDS = ("关键词", "AI技术", "行业", "重大事件摘要")


@dataclass(frozen=True)
class Repair:
    """A hand-checked mojibake repair from corpus/repairs.yaml."""

    broken: str
    fixed: str


def body_of_record(text: str) -> str:
    """Keep the article of a scraper record; drop title, link and machine-written summaries.

    Records look like `标题: ...\\n链接: ...\\n总结: <article>\\n关键词: ...\\n重大事件摘要: ...`.
    Only the 总结 field holds people's words (despite its name: the scraper put the whole
    article there); 关键词, AI技术, 行业 and 重大事件摘要 are machine-written and nobody's words.
    """
    fields = list(_FIELD.finditer(text))
    if not fields:
        return text
    for i, match in enumerate(fields):
        if match.group(1) == "总结":
            end = fields[i + 1].start() if i + 1 < len(fields) else len(text)
            return text[match.end() : end]
    return "".join(
        text[m.end() : fields[i + 1].start() if i + 1 < len(fields) else len(text)]
        for i, m in enumerate(fields)
        if m.group(1) not in _SUMMARY_FIELDS and m.group(1) not in ("标题", "链接")
    )


def drop_report_button(text: str) -> str:
    """`...一起工作。举报/反馈`: the page's report button is glued to the last answer."""
    return text.replace("举报/反馈", "")


def drop_after_tags_line(text: str) -> str:
    """Everything from the tags line (`標簽:大模型 我要反饋`) on is ads and related topics."""
    match = re.search(r"^(標簽|标签|標(?:\(biāo\))?簽(?:\(qiān\))?)[:：].*$", text, re.M)
    return text[: match.start()] if match else text


_CHROME_LINES = [
    re.compile(r"^siemens x$", re.I),  # ad slot above the title
    re.compile(r"^原創$|^原创$"),  # the "original" badge
    re.compile(r".*原創,轉載請注明來源$|.*原创，转载请注明来源$"),
    re.compile(r"^(今日关注|今日關注|更多|更多>>|\[更多\])$"),
    re.compile(r"^發E-mail給|^发E-mail给"),
    re.compile(r"^\|?\s*(打印|列印)\s*\|"),
    re.compile(r"^《[^》]+》\s*[(（][^)）]*封面[)）]$"),  # magazine cover caption
    re.compile(r"^[^\s_]+(?:_[^\s_]+){2,}$"),  # keyword-stuffed spam title: a_b_c_d
    re.compile(r"^作者[:：].*(来源|來源)[:：].*(发布时间|發布時間)"),  # byline with dates
]


def drop_chrome_lines(text: str) -> str:
    """Whole lines of page furniture: ads, badges, footers, spam titles, bylines."""
    return "\n".join(line for line in text.split("\n") if not any(p.match(line.strip()) for p in _CHROME_LINES))


_CAPTION = re.compile(r"^.{0,30}[(（]资料图[)）]$|^\S{1,8}新书《[^》]+》$")


def drop_captions(text: str) -> str:
    """Photo captions standing alone between answers: `ChatGPT(资料图)`, `丁磊新书《生成式人工智能》`."""
    return "\n".join(line for line in text.split("\n") if not _CAPTION.match(line.strip()))


def drop_editor_notes(text: str) -> str:
    """`(作者系...演讲整理)`: the editor's note is not the speaker's words."""
    note = re.compile(r"^[(（][^()（）]*(作者系|整理|编辑|編輯)[^()（）]*[)）]$")
    return "\n".join(line for line in text.split("\n") if not note.match(line.strip()))


def apply_repairs(text: str, repairs: list[Repair]) -> str:
    """Hand-checked repairs (corpus/repairs.yaml) for garbles no rule can undo."""
    for repair in repairs:
        text = text.replace(repair.broken, repair.fixed)
    return text


_GBK_SHIFT = re.compile(r"\?([\x21-\x3e\x40-\x7e])([^\s。，,]{1,6})")


def repair_gbk_shift(text: str) -> str:
    """`?,F(xiàn)在` -> `現(xiàn)在`: a GBK character whose lead byte lost its high bit.

    The page was GBK; a lost byte became `?` and the next lead byte lost bit 7 (0xAC -> `,`), so
    every following pair of bytes is shifted by one until a trail byte lands on ASCII. Putting
    bit 7 back and re-reading the bytes as GBK gives back the characters; the repair is kept only
    when the bytes decode cleanly (and agree with a pinyin note when one follows). The `?` itself
    stood for bytes that are gone: it is cut, not guessed.
    """

    def fix(match: re.Match[str]) -> str:
        lead = bytes([ord(match.group(1)) | 0x80])
        tail = match.group(2)
        after = text[match.end() :]
        for end in range(1, len(tail) + 1):
            try:
                decoded = (lead + tail[:end].encode("gb18030")).decode("gbk")
            except (UnicodeEncodeError, UnicodeDecodeError):
                continue
            if not all(re.match(rf"[{_CJK}]", ch) for ch in decoded):
                return match.group(0)
            rest = tail[end:] + after
            garbled = any("\ue000" <= ch <= "\uf8ff" for ch in tail[:end])
            note = re.match(rf"\(({_PINYIN})\)", rest)
            confirmed = note is not None and _reads_as(decoded[-1], note.group(1))
            if garbled or confirmed:
                return decoded + tail[end:]
            return match.group(0)
        return match.group(0)

    return _GBK_SHIFT.sub(fix, text)


def _reads_as(char: str, syllable: str) -> bool:
    """Whether a pinyin note (with tone mark) is one of the readings of a character."""
    from pypinyin import Style, pinyin

    readings = pinyin(char, style=Style.TONE, heteronym=True)[0]
    return syllable in readings


def fix_broken_entities(text: str) -> str:
    """`?ldquo;` -> `“`: an HTML entity whose `&` was lost."""
    entity = r"[?&](ldquo|rdquo|lsquo|rsquo|mdash|hellip|quot|middot);"
    return re.sub(entity, lambda m: html.unescape(f"&{m[1]};"), text)


def strip_pinyin(text: str) -> str:
    """`原創(chuàng)` -> `原創`: pinyin the page glued after characters; real parentheses stay.

    Only a single toned syllable right after a CJK character or a Latin letter is junk:
    `(AGI)`, `(sequence to sequence)`, `(资料图)` and `(會有)` survive.
    """
    return re.sub(rf"(?<=[{_CJK}A-Za-z])\({_PINYIN}\)", "", text)


def cut_leftover_garble(text: str) -> str:
    """Whatever garble survives the repairs is cut: `?` glued to private-use characters."""
    return re.sub(r"\?[\ue000-\uf8ff]+|[\ue000-\uf8ff]+", "", text)


def normalize_spaces(text: str) -> str:
    """No-break-space indents and blank lines go; paragraphs end up one per line."""
    lines = [line.replace("\xa0", " ").strip() for line in text.replace("\r\n", "\n").split("\n")]
    return "\n".join(line for line in lines if line)


RULES: list[Callable[[str], str]] = [
    body_of_record,
    drop_report_button,
    drop_after_tags_line,
    repair_gbk_shift,
    fix_broken_entities,
    strip_pinyin,
    cut_leftover_garble,
    normalize_spaces,
    drop_chrome_lines,
    drop_captions,
    drop_editor_notes,
]


def clean(raw: str, repairs: list[Repair] | None = None) -> str:
    """Apply every rule in order; the result is the text quotes are taken from."""
    text = apply_repairs(raw, repairs or [])
    for rule in RULES:
        text = rule(text)
    return text
