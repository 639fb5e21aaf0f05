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

from bot.ingest.readers.model import BREAK, Dropped

# A single pinyin syllable with its tone mark, as scrapers glue it after each character.
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
_PINYIN = rf"[a-zü{_TONED}]*[{_TONED}][a-zü{_TONED}]*"
_CJK = r"\u3400-\u9fff\uf900-\ufaff"

# Labels of the scraper's record format: the article body sits in the "总结" field.
_FIELD = re.compile(r"^(标题|链接|总结|关键词|AI技术|行业|重大事件摘要): ?", re.M)
_SUMMARY_FIELDS = ("关键词", "AI技术", "行业", "重大事件摘要")


# Where a rule records the lines it drops (the ingest report lists them); None: nobody asked.
DropLog = list[Dropped] | None


def _drop_lines(text: str, rule: str, junk: Callable[[str], bool], log: DropLog) -> str:
    """Drop whole lines for which `junk(stripped line)` holds, recording each under `rule`."""
    kept = []
    for line in text.split("\n"):
        if junk(line.strip()):
            if log is not None and line.strip():
                log.append(Dropped(rule, line.strip()))
        else:
            kept.append(line)
    return "\n".join(kept)


def _cut_from(text: str, start: int, rule: str, log: DropLog) -> str:
    """Cut everything from `start` on, recording the lines cut."""
    if log is not None:
        log.extend(Dropped(rule, line.strip()) for line in text[start:].split("\n") if line.strip())
    return text[:start]


@dataclass(frozen=True)
class Repair:
    """A hand-checked mojibake repair from corpus/repairs.yaml."""

    broken: str
    fixed: str


def body_of_record(text: str, log: DropLog = None) -> str:
    """Keep the article of a scraper record; drop title, link and machine-written summaries.

    Records look like `标题: ...\\n链接: ...\\n总结: <article>\\n关键词: ...\\n重大事件摘要: ...`.
    Only the 总结 field holds people's words (despite its name: the scraper put the whole
    article there); 关键词, AI技术, 行业 and 重大事件摘要 are machine-written and nobody's words.
    """
    fields = list(_FIELD.finditer(text))
    if not fields:
        return text
    if log is not None:
        log.extend(Dropped("body_of_record", f"{m.group(1)}: …") for m in fields if m.group(1) != "总结")
    for i, match in enumerate(fields):
        if match.group(1) == "总结":
            end = fields[i + 1].start() if i + 1 < len(fields) else len(text)
            return text[match.end() : end]
    return "".join(
        text[m.end() : fields[i + 1].start() if i + 1 < len(fields) else len(text)]
        for i, m in enumerate(fields)
        if m.group(1) not in _SUMMARY_FIELDS and m.group(1) not in ("标题", "链接")
    )


def drop_report_button(text: str, log: DropLog = None) -> str:
    """`...一起工作。举报/反馈`: the page's report button is glued to the last answer."""
    if log is not None:
        log.extend(Dropped("drop_report_button", "举报/反馈") for _ in range(text.count("举报/反馈")))
    return text.replace("举报/反馈", "")


def drop_after_tags_line(text: str, log: DropLog = None) -> str:
    """Everything from the tags line (`標簽:大模型 我要反饋`) on is ads and related topics."""
    match = re.search(r"^(標簽|标签|標(?:\(biāo\))?簽(?:\(qiān\))?)[:：].*$", text, re.M)
    return _cut_from(text, match.start(), "drop_after_tags_line", log) if match else text


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


def drop_chrome_lines(text: str, log: DropLog = None) -> str:
    """Whole lines of page furniture: ads, badges, footers, spam titles, bylines."""
    return _drop_lines(text, "drop_chrome_lines", lambda line: any(p.match(line) for p in _CHROME_LINES), log)


_CAPTION = re.compile(r"^.{0,30}[(（]资料图[)）]$|^\S{1,8}新书《[^》]+》$")


def drop_captions(text: str, log: DropLog = None) -> str:
    """Photo captions standing alone between answers: `ChatGPT(资料图)`, `丁磊新书《生成式人工智能》`."""
    return _drop_lines(text, "drop_captions", lambda line: bool(_CAPTION.match(line)), log)


_EDITOR_NOTE = re.compile(r"^[(（][^()（）]*(作者系|整理|编辑|編輯)[^()（）]*[)）]$")


def drop_editor_notes(text: str, log: DropLog = None) -> str:
    """`(作者系...演讲整理)`: the editor's note is not the speaker's words."""
    return _drop_lines(text, "drop_editor_notes", lambda line: bool(_EDITOR_NOTE.match(line)), log)


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


# Article furniture of blogs and WeChat accounts: one rule per kind, each only on short lines
# (a paragraph of the article is never dropped for a word it contains).
_SHORT_LINE = 100
_IMAGE_LINE = re.compile(
    r"^(?:!\[[^\]]*\]\([^)]*\)\s*)+$"
    r"|^[\[【(（]?(?:图片|圖片|图|圖|配图|配圖|题图|題圖|插图|插圖|image|img|photo)[\]】)）]?$",
    re.I,
)
_LINK_LINE = re.compile(
    r"^(?:(?:https?://|www\.)\S+\s*)+$|^(?:\[[^\]]*\]\([^)]+\)[\s|·、/｜]*)+$", re.I
)
_SEPARATOR = r"\s*[丨|｜│/·:：]"
_CREDIT = re.compile(
    r"^(?:图片来源|圖片來源|图源|圖源|题图|題圖|头图|頭圖|封面图|封面圖|封面来源|封面|排版|编辑|編輯|责编|責編"
    r"|责任编辑|責任編輯|校对|校對|审核|審核|审校|審校|撰文|摄影|攝影|视觉|視覺|设计|設計|美编|美編|监制|監製"
    r"|出品人|出品|策划|策劃|运营|運營|统筹|統籌|来源|來源|整理|翻译|翻譯)" + _SEPARATOR
    # Words that are also speaker labels count only with a bar, never with a colon.
    + r"|^(?:文|图|圖|图片|圖片|作者|记者|記者|采访|採訪|主持)\s*[丨|｜│/]"
)
_SENTENCE_IN_LINE = re.compile(r"[。！？!?]")
_ACCOUNT = re.compile(
    r"公众号.{0,20}(?:关注|添加|搜索|ID|微信号|后台|回复|星标|置顶|订阅)|(?:关注|添加|搜索|订阅|星标|置顶).{0,20}公众号"
    r"|^(?:来源)?公众号|(?:点击|點擊|轻触|輕觸).{0,3}(?:上方|下方|蓝字|藍字|阅读原文|閱讀原文|关注|關注|图片|圖片|链接|鏈接|这里|這裡"
    r"|名片|卡片)"
    r"|扫码|掃碼|扫描.{0,6}二维码|掃描.{0,6}二維碼|长按.{0,6}(?:识别|扫码|二维码)|识别二维码|識別二維碼"
    r"|原创内容|原創內容|未经授权|未經授權|未经许可|未經許可|禁止转载|禁止轉載|转载请|轉載請|如需转载|如需轉載"
    r"|授权转载|欢迎转发|歡迎轉發|版权归|版權歸|版权所有|版權所有"
    r"|点(?:个|亮)?[“\"「]?在看|[“\"「]在看[”\"」]|分享.{0,6}点赞|分享.{0,6}點讚"
    r"|^原创\s+\S+.*\d{4}[-年]"
    # What a page saved from WeChat's reader keeps of its buttons, each alone on a line.
    r"|^(?:赞|讚|在看|分享|收藏|留言|写留言|寫留言|分析|知道了|取消|允许|允許|视频|小程序|阅读原文|閱讀原文|微信扫一扫.*)$",
    re.I,
)
_CONTACT = re.compile(
    r"(?:添加|加)(?:作者|记者|記者|小编|小編|编辑|編輯|本人)?(?:个人|個人)?微信|(?:作者|记者|記者|小编|小編)(?:个人|個人)?微信"
    r"|微信号\s*[:：]|微信號\s*[:：]|联系(?:作者|记者|我们|小编)|聯繫(?:作者|記者|我們|小編)|备注.{0,4}(?:姓名|公司|职位|职务|来意)"
    r"|備註.{0,4}(?:姓名|公司|職位|職務|來意)|欢迎(?:交流|联系|添加|加入|投稿|爆料)|歡迎(?:交流|聯繫|添加|加入|投稿|爆料)"
    r"|商务合作|商務合作|投稿邮箱|投稿郵箱|邮箱\s*[:：]|郵箱\s*[:：]|e-?mail\s*[:：]"
    r"|(?:加入|进入|進入|扫码进|掃碼進).{0,4}(?:交流群|读者群|讀者群|社群|群聊)",
    re.I,
)
_FOOTER = re.compile(
    r"^(?:推荐阅读|推薦閱讀|往期推荐|往期推薦|往期回顾|往期回顧|往期精彩|相关阅读|相關閱讀|延伸阅读|延伸閱讀|热门文章|熱門文章"
    r"|精彩推荐|精彩推薦|猜你喜欢|猜你喜歡|更多阅读|更多閱讀|end|the end|全文完|[(（]?完[)）]?"
    r"|继续滑动看下一个|繼續滑動看下一個|向上滑动看下一个|喜欢此内容的人还喜欢|喜歡此內容的人還喜歡|预览时标签不可点|預覽時標籤不可點)$",
    re.I,
)
_DECORATION = " \t*_#>=~·•-—–|｜【】[]「」『』“”\"'‘’"


def _bare(line: str) -> str:
    """A line without decoration and spaces: `**— END —**` -> `END`."""
    return re.sub(r"\s+", "", line.strip(_DECORATION))


def drop_image_lines(text: str, log: DropLog = None) -> str:
    """`![图片](https://mmbiz.qpic.cn/...)`, `[图片]`: an image tag, or its placeholder, on its own line."""
    return _drop_lines(text, "drop_image_lines", lambda line: bool(_IMAGE_LINE.match(line)), log)


_SYMBOL_LINE = re.compile(r"^[^\w\u3400-\u9fff]+$")


def drop_symbol_lines(text: str, log: DropLog = None) -> str:
    """A line of nothing but symbols (`▼`, `↓↓↓`, `· · ·`, `●`): layout between paragraphs, nobody's words.

    The readers' own rule line (`——`, where the page had `---` or `<hr>`) stays: it ends a turn.
    """
    return _drop_lines(text, "drop_symbol_lines", lambda line: line != BREAK and bool(_SYMBOL_LINE.match(line)), log)


def drop_link_lines(text: str, log: DropLog = None) -> str:
    """A line of nothing but URLs or Markdown links: related articles, `阅读原文`, sharing links."""
    return _drop_lines(text, "drop_link_lines", lambda line: bool(_LINK_LINE.match(line)), log)


def drop_credits(text: str, log: DropLog = None) -> str:
    """`图片来源丨视觉中国`, `排版｜小林`, `文丨于丽丽 编辑丨刘旌`: who made the page, not who spoke."""

    def junk(line: str) -> bool:
        return len(line) <= _SHORT_LINE and bool(_CREDIT.match(line)) and not _SENTENCE_IN_LINE.search(line)

    return _drop_lines(text, "drop_credits", junk, log)


def drop_account_boilerplate(text: str, log: DropLog = None) -> str:
    """The account's furniture: `点击上方蓝字关注`, `原创内容，未经授权禁止转载`, `扫码关注公众号`, `点个在看`."""
    return _drop_lines(text, "drop_account_boilerplate",
                       lambda line: len(line) <= _SHORT_LINE and bool(_ACCOUNT.search(line)), log)


def drop_contact_notes(text: str, log: DropLog = None) -> str:
    """The journalist's contact note (`欢迎添加作者微信 xxx 交流，请备注公司和职位`): never an answer."""
    return _drop_lines(text, "drop_contact_notes",
                       lambda line: len(line) <= _SHORT_LINE and bool(_CONTACT.search(line)), log)


def drop_footer(text: str, log: DropLog = None) -> str:
    """From `推荐阅读` / `往期推荐` / `— END —` on, in the second half of a page, it is all footer."""
    offset = 0
    for line in text.split("\n"):
        if _FOOTER.match(_bare(line)) and offset >= len(text) // 2:
            return _cut_from(text, offset, "drop_footer", log).rstrip("\n")
        offset += len(line) + 1
    return text


_PULL_QUOTE_MIN = 12
_ATTRIBUTION = re.compile(r"[—–-]{1,2}\s*\S{1,10}$")
_LABEL_START = re.compile(r"^\S{1,12}\s?[:：]")


def drop_pull_quotes(text: str, log: DropLog = None) -> str:
    """A line that repeats a sentence said at more length elsewhere in the article: a pull-quote.

    Editors lift a sentence out of an answer and set it alone between paragraphs (often before
    the answer that says it), so it would otherwise be quoted under the wrong question. It goes
    when all of it, without quote marks or an attribution, is found inside a longer line.
    """
    lines = text.split("\n")
    bare = [_bare(_ATTRIBUTION.sub("", line.strip())) for line in lines]
    full = [re.sub(r"\s+", "", line) for line in lines]

    def repeated(i: int) -> bool:
        core = bare[i]
        if len(core) < _PULL_QUOTE_MIN or _LABEL_START.match(lines[i].strip()):
            return False
        return any(j != i and len(full[j]) > len(full[i]) and core in full[j] for j in range(len(lines)))

    drop = {i for i in range(len(lines)) if repeated(i)}
    if log is not None:
        log.extend(Dropped("drop_pull_quotes", lines[i].strip()) for i in sorted(drop))
    return "\n".join(line for i, line in enumerate(lines) if i not in drop)


Rule = Callable[[str, DropLog], str]


def _text_rule(rule: Callable[[str], str]) -> Rule:
    return lambda text, _log: rule(text)


# In order: raw-page structure first, then repairs of the characters, then whole-line junk.
RULES: list[Rule] = [
    body_of_record,
    drop_report_button,
    drop_after_tags_line,
    _text_rule(repair_gbk_shift),
    _text_rule(fix_broken_entities),
    _text_rule(strip_pinyin),
    _text_rule(cut_leftover_garble),
    _text_rule(normalize_spaces),
    drop_footer,
    drop_chrome_lines,
    drop_captions,
    drop_editor_notes,
    drop_image_lines,
    drop_symbol_lines,
    drop_link_lines,
    drop_credits,
    drop_account_boilerplate,
    drop_contact_notes,
    drop_pull_quotes,
]

# The line rules, by name: `junk_in` checks a quote with exactly the code ingest cleans with.
LINE_RULES: dict[str, Callable[[str], bool]] = {
    "drop_chrome_lines": lambda line: any(p.match(line) for p in _CHROME_LINES),
    "drop_captions": lambda line: bool(_CAPTION.match(line)),
    "drop_editor_notes": lambda line: bool(_EDITOR_NOTE.match(line)),
    "drop_image_lines": lambda line: bool(_IMAGE_LINE.match(line)),
    "drop_symbol_lines": lambda line: line != BREAK and bool(_SYMBOL_LINE.match(line)),
    "drop_link_lines": lambda line: bool(_LINK_LINE.match(line)),
    "drop_credits": lambda line: bool(_CREDIT.match(line)) and not _SENTENCE_IN_LINE.search(line),
    "drop_account_boilerplate": lambda line: len(line) <= _SHORT_LINE and bool(_ACCOUNT.search(line)),
    "drop_contact_notes": lambda line: len(line) <= _SHORT_LINE and bool(_CONTACT.search(line)),
    "drop_footer": lambda line: bool(_FOOTER.match(_bare(line))),
}


def junk_in(text: str) -> list[tuple[str, str]]:
    """(rule, line) for every line of `text` a line rule would have dropped: empty for a clean quote."""
    return [(name, line.strip()) for line in text.split("\n") for name, junk in LINE_RULES.items()
            if line.strip() and junk(line.strip())]


def clean(raw: str, repairs: list[Repair] | None = None, log: DropLog = None) -> str:
    """Apply every rule in order; the result is the text quotes are taken from.

    With `log`, each line a rule drops is appended to it as `Dropped(rule, line)`.
    """
    text = apply_repairs(raw, repairs or [])
    for rule in RULES:
        text = rule(text, log)
    return text
