"""A saved web page -> text, via BeautifulSoup (Python's own html.parser: no C build needed).

Only the article is read: WeChat's `#js_content`, else `<article>`, `<main>` or `<body>`.
Block elements end a line and `<br>` breaks one; white space inside a block collapses as a
browser shows it. Images are listed as dropped (with their `alt`/`src`), figure captions and
navigation/footer/aside elements inside the article are dropped as page chrome; headings,
bold-only blocks and block quotes are marked, a block of nothing but links is dropped as a line
of links. Title, URL, outlet and date come from the page's meta tags when it has them.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, Tag
from bs4.element import Comment, NavigableString

from bot.ingest.readers.blocks import Blocks, Kind
from bot.ingest.readers.model import Document

_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_BLOCK = _HEADINGS | {
    "p", "div", "section", "article", "main", "blockquote", "li", "ul", "ol", "dl", "dt", "dd", "table",
    "thead", "tbody", "tr", "pre", "figure", "center", "address", "fieldset", "details", "summary",
}
_SKIP = {"script", "style", "noscript", "template", "svg", "iframe", "head", "button", "input", "select",
         "textarea", "canvas", "video", "audio", "object", "embed", "map"}
_CHROME = {"nav", "footer", "aside", "form", "header"}
_STRONG = {"strong", "b"}
_SPACE = re.compile(r"[ \t\r\n\f]+")


class _Walker:
    def __init__(self, blocks: Blocks) -> None:
        self.blocks = blocks
        self.parts: list[str] = []
        self.plain = self.linked = self.strong = 0
        self.heading = self.quote = self.link = self.bold = 0

    def flush(self) -> None:
        text = "".join(self.parts)
        if text.strip():
            kind: Kind = "text"
            if self.heading:
                kind = "heading"
            elif self.linked and not self.plain and not self.strong:
                kind = "links"
            elif self.quote:
                kind = "quote"
            lines = "\n".join(_SPACE.sub(" ", line).strip() for line in text.split("\n"))
            self.blocks.add(lines, kind, emphasized=self.strong > 0 and not self.plain and not self.linked)
        self.parts = []
        self.plain = self.linked = self.strong = 0

    def walk(self, node: Tag) -> None:
        for child in node.children:
            if isinstance(child, Comment):
                continue
            if isinstance(child, NavigableString):
                self._text(str(child))
            elif isinstance(child, Tag):
                self._tag(child)

    def _text(self, text: str) -> None:
        self.parts.append(text)
        size = len(text.strip())
        if self.link:
            self.linked += size
        elif self.bold:
            self.strong += size
        else:
            self.plain += size

    def _tag(self, tag: Tag) -> None:
        name = tag.name.lower()
        if name in _SKIP:
            return
        if name == "br":
            self.parts.append("\n")
            return
        if name == "hr":
            self.flush()
            self.blocks.rule()
            return
        if name == "img":
            alt, src = tag.get("alt") or "", tag.get("data-src") or tag.get("src") or ""
            self.blocks.drop("image", f"<img alt={alt!r} src={src!r}>")
            return
        if name == "figcaption" or name in _CHROME:
            self.flush()
            rule = "caption" if name == "figcaption" else "page_chrome"
            for line in tag.get_text("\n").split("\n"):
                self.blocks.drop(rule, _SPACE.sub(" ", line))
            return
        block = name in _BLOCK
        if block:
            self.flush()
        self.heading += name in _HEADINGS
        self.quote += name == "blockquote"
        self.link += name == "a"
        self.bold += name in _STRONG
        self.walk(tag)
        if block:
            self.flush()
        elif name in ("td", "th"):
            self.parts.append(" ")
        self.heading -= name in _HEADINGS
        self.quote -= name == "blockquote"
        self.link -= name == "a"
        self.bold -= name in _STRONG


def walk_fragment(html: str, blocks: Blocks) -> None:
    """Add an HTML fragment's blocks (Markdown's raw HTML) to `blocks`."""
    walker = _Walker(blocks)
    walker.walk(BeautifulSoup(html, "html.parser"))
    walker.flush()


def _meta(soup: BeautifulSoup) -> dict[str, str]:
    found: dict[str, str] = {}

    def put(key: str, value: object) -> None:
        text = _SPACE.sub(" ", str(value or "")).strip()
        if text and key not in found:
            found[key] = text

    def meta(*names: str) -> str | None:
        for name in names:
            tag = soup.find("meta", attrs={"property": name}) or soup.find("meta", attrs={"name": name})
            if isinstance(tag, Tag) and tag.get("content"):
                return str(tag.get("content"))
        return None

    for key, tag_id in (("title", "activity-name"), ("outlet", "js_name"), ("date", "publish_time")):
        tag = soup.find(id=tag_id)
        if isinstance(tag, Tag):
            put(key, tag.get_text())
    put("title", meta("og:title", "twitter:title"))
    if soup.title is not None:
        put("title", soup.title.get_text())
    put("url", meta("og:url"))
    canonical = soup.find("link", rel="canonical")
    if isinstance(canonical, Tag):
        put("url", canonical.get("href"))
    put("outlet", meta("og:site_name", "application-name"))
    put("author", meta("author", "article:author"))
    put("date", meta("article:published_time", "pubdate", "publishdate", "date"))
    return found


def read_html(raw: str) -> Document:
    soup = BeautifulSoup(raw, "html.parser")
    root = soup.find(id="js_content") or soup.find("article") or soup.find("main") or soup.body or soup
    blocks = Blocks()
    walker = _Walker(blocks)
    if isinstance(root, Tag):
        walker.walk(root)
    walker.flush()
    return blocks.document("html", _meta(soup))
