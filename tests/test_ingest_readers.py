"""Readers: plain text, Markdown and saved HTML into one text model (bot/ingest/readers/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.ingest.readers import detect_markup, read_file, read_text
from bot.ingest.readers.model import BREAK

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "ingest"


def test_the_extension_decides_then_unmistakable_content() -> None:
    assert detect_markup("a.md", "plain words") == "markdown"
    assert detect_markup("a.HTML", "plain words") == "html"
    assert detect_markup("a.txt", "<!DOCTYPE html><html><body><p>x</p></body></html>") == "html"
    clipped = "# 标题\n\n**梁文锋：**答。\n\n![图片](https://mmbiz.qpic.cn/x.png)\n"
    assert detect_markup("clip.txt", clipped) == "markdown"
    # One Markdown-looking sign is not enough: the seeds' scraper records hold `1. **大模型**：`.
    assert detect_markup("a.txt", "总结: 正文\n重大事件摘要: 1. **大模型**：随着") == "plain"


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "corpus" / "raw").glob("00[0-4]_*")))
def test_the_seed_sources_are_plain_text_passed_through_byte_for_byte(name: str) -> None:
    path = ROOT / "corpus" / "raw" / name
    document = read_file(path)
    assert document.markup == "plain"
    assert document.text == path.read_text(encoding="utf-8")
    assert document.dropped == () and document.headings == ()


def test_markdown_emphasis_links_images_headings_quotes_and_front_matter() -> None:
    doc = read_text(
        "---\ntitle: 专访\nsource: https://example.org/a\nauthor: 暗涌\n---\n# 专访梁文锋\n\n"
        "![图片](https://mmbiz.qpic.cn/1.png)\n\n**「****暗涌」：** 你们为什么做AGI？\n\n"
        "****梁文锋：****因为*好奇心*，见[原文](https://x.org)。\n\n**01 做AGI**\n\n> 引用的一句话。\n\n"
        "[推荐一](https://a) [推荐二](https://b)\n\n1\\. 不是列表\\*号\n\n---\n\n尾巴\n",
        "a.md",
    )
    assert doc.text.split("\n") == ["专访梁文锋", "「暗涌」： 你们为什么做AGI？", "梁文锋：因为好奇心，见原文。", "01 做AGI",
                                    "引用的一句话。", "1. 不是列表*号", BREAK, "尾巴"]
    assert doc.headings == ("专访梁文锋", "01 做AGI")
    assert doc.quotes == ("引用的一句话。",)
    assert [(d.rule, d.line) for d in doc.dropped] == [("image", "![图片](https://mmbiz.qpic.cn/1.png)"),
                                                       ("link_line", "推荐一 推荐二")]
    assert doc.meta == {"title": "专访", "url": "https://example.org/a", "author": "暗涌"}


def test_a_bold_label_is_not_taken_for_a_heading() -> None:
    doc = read_text("**梁文锋：**\n\n答案。\n\n**这是一个完整的句子。**\n", "a.md")
    assert doc.headings == ()


def test_html_reads_the_article_only_with_its_blocks_and_marks() -> None:
    page = (
        "<html><head><title>T</title><meta property='og:url' content='https://example.org/p'>"
        "<script>document.write('x')</script><style>p{}</style></head><body><nav>首页</nav>"
        "<div id='js_content'><section><p><strong>梁文锋：</strong>答案，<br>第二行。</p>"
        "<p><img data-src='https://mmbiz.qpic.cn/2.png' alt='图片'></p><h2>01 章节</h2>"
        "<p><b>加粗小标题</b></p><blockquote><p>引文。</p></blockquote><p><a href='x'>相关文章</a></p>"
        "<figure><figcaption>图片来源：视觉中国</figcaption></figure><aside>广告</aside><hr><p>尾巴</p></section></div>"
        "<p>正文之外</p></body></html>"
    )
    doc = read_text(page, "saved.html")
    assert doc.text.split("\n") == ["梁文锋：答案，", "第二行。", "01 章节", "加粗小标题", "引文。", BREAK, "尾巴"]
    assert doc.headings == ("01 章节", "加粗小标题")
    assert doc.quotes == ("引文。",)
    assert [d.rule for d in doc.dropped] == ["image", "link_line", "caption", "page_chrome"]
    assert doc.meta["url"] == "https://example.org/p" and doc.meta["title"] == "T"


def test_the_wechat_fixtures_meta_is_read() -> None:
    doc = read_file(FIXTURES / "saved_004.html")
    assert doc.meta["outlet"] == "白马商评"
    assert doc.meta["title"].startswith("差距一两年")
    assert "script text" not in doc.text and "首页" not in doc.text
