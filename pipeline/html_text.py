"""Stage 2: the main text of an HTML page, one paragraph per line.

:func:`html_to_text` asks trafilatura for the main content (``favor_recall``, no comments, tables
kept) and puts the page title first when trafilatura leaves it out; when trafilatura finds nothing
(tiny pages, hostile or broken markup) a plain lxml walk collects the visible text, block by block,
without recursion. Neither may raise on any input: the worst case is an empty string, which the
normalizer reports as "no text".

For an HTML input the normalizer's ``raw`` text (the base of every offset) is this extracted text,
not the markup: offsets into markup would point inside tags and scripts, which no reader wants.

>>> html_to_text("<html><body><p>投资增长8%。</p><script>x()</script><p>第二段</p></body></html>")
'投资增长8%。\\n第二段'
"""
from __future__ import annotations

import logging
import re

__all__ = ["looks_like_html", "html_to_text", "lxml_text"]

_HTML_START = re.compile(r"\s*(?:<\?xml[^>]{0,200}>\s*)?(?:<!--.*?-->\s*)*"
                         r"<(?:!doctype\s+html|html|head|body|meta|title|div|p|table|section|article)\b",
                         re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"</?(?:p|div|br|span|td|tr|table|a|li|ul|ol|h[1-6]|script|style|section|article|font|"
                  r"strong|b|img|meta|link)\b[^<>]{0,300}>", re.IGNORECASE)
_HTML_SUFFIXES = (".html", ".htm", ".xhtml", ".shtml", ".jsp", ".asp", ".aspx", ".php")
#: Pages larger than this are cut before parsing (a report is far shorter; this bounds time and memory).
MAX_HTML_CHARS = 8_000_000

_SKIP = frozenset({"script", "style", "noscript", "template", "head", "iframe", "object", "svg", "math",
                   "button", "select", "textarea", "nav", "footer"})
_BLOCK = frozenset({"p", "div", "br", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "section",
                    "article", "blockquote", "pre", "table", "ul", "ol", "dl", "dt", "dd", "header", "main",
                    "aside", "figure", "figcaption", "hr", "center", "form", "address"})
_BLANKS = re.compile(r"[ \t\r\f\v\u00a0]*\n[\s\u00a0]*")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")


def looks_like_html(text: str, name: str = "") -> bool:
    """True for an HTML page: an .html-like name, markup at the start, or many common tags early on.

    >>> looks_like_html("<!DOCTYPE html><html>..."), looks_like_html("增速<5%,规模>3亿元")
    (True, False)
    """
    if name and name.lower().endswith(_HTML_SUFFIXES):
        return True
    head = text[:8192]
    if _HTML_START.match(head):
        return True
    return len(_TAG.findall(head)) >= 5


def html_to_text(html: str) -> str:
    """The main text of ``html``: trafilatura's extraction, else :func:`lxml_text`; never raises."""
    html = html[:MAX_HTML_CHARS]
    text = _trafilatura(html)
    if not text:
        text = lxml_text(html)
    return text.strip()


def _trafilatura(html: str) -> str:
    try:
        import trafilatura
    except ImportError:  # pragma: no cover - a declared dependency; fall back to the lxml walk
        return ""
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    try:
        doc = trafilatura.bare_extraction(html, favor_recall=True, include_comments=False, include_tables=True,
                                          with_metadata=True, deduplicate=False)
    except (Exception, RecursionError):  # hostile markup must not stop a batch
        return ""
    if doc is None:
        return ""
    text = (getattr(doc, "text", None) or "").strip()
    title = (getattr(doc, "title", None) or "").strip()
    if text and title and title not in text[: len(title) + 200]:
        text = title + "\n" + text
    return text


def lxml_text(html: str) -> str:
    """Visible text of ``html`` by an iterative walk: blocks become lines, scripts and styles are skipped."""
    try:
        import lxml.html
        from lxml import etree
    except ImportError:  # pragma: no cover
        return _strip_tags(html)
    try:
        root = lxml.html.document_fromstring(html)
    except (Exception, RecursionError):
        return _strip_tags(html)
    parts: list[str] = []
    skip_depth = 0
    try:
        for event, el in etree.iterwalk(root, events=("start", "end")):
            tag = el.tag if isinstance(el.tag, str) else ""
            tag = tag.lower()
            if event == "start":
                if tag in _SKIP or not tag:
                    skip_depth += 1
                elif skip_depth == 0:
                    if tag in _BLOCK:
                        parts.append("\n")
                    if el.text:
                        parts.append(el.text)
            else:
                if tag in _SKIP or not tag:
                    skip_depth -= 1
                elif skip_depth == 0 and tag in _BLOCK:
                    parts.append("\n")
                if skip_depth == 0 and el.tail:
                    parts.append(el.tail)
    except (Exception, RecursionError):
        pass
    text = _SPACES.sub(" ", "".join(parts))
    return _BLANKS.sub("\n", text).strip()


_ANY_TAG = re.compile(r"<[^<>]{0,2000}>")


def _strip_tags(html: str) -> str:
    """Last resort: drop anything that looks like a tag."""
    import html as _html

    return _BLANKS.sub("\n", _html.unescape(_ANY_TAG.sub("\n", html))).strip()
