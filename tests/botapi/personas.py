"""A tiny but valid personas directory for tests, so they do not depend on the real corpus.

Three experts, a Traditional-script source, an answer with HTML-special characters and one answer
long enough (over 4,096 characters) to force a message split.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

LONG_SENTENCE = "开源让更多的开发者能够参与到大模型的创新之中，这是一件非常重要的事情。"
LONG_ANSWER = LONG_SENTENCE * 160  # ~5,600 characters: more than one Telegram message
HTML_ANSWER = 'AI 的门槛 <在下降> & 成本也在下降，"算力" 不是唯一的 <b>问题</b>。'


def _source(sid: str, outlet: str, title: str, url: str | None, script: str = "Simplified") -> dict[str, Any]:
    return {"id": sid, "outlet": outlet, "title": title, "date": "2024-09-10", "url": url,
            "format": "interview", "script": script}


def _entry(eid: str, question: str, answer: str, topics: list[str], source: str, pos: int) -> dict[str, Any]:
    return {"id": eid, "question": question, "answer": answer, "topics": topics, "source": source, "position": pos}


PERSONAS: list[dict[str, Any]] = [
    {
        "id": "ding-lei", "name": "丁磊", "name_simplified": "丁磊", "pinyin": "Ding Lei",
        "aliases": ["William Ding"], "role": "网易创始人",
        "sources": [_source("jiemian-2023", "界面新闻", "生成式人工智能", "https://example.com/jiemian")],
        "topics": {
            "open-source": [
                _entry("dl-001", "你怎么看开源大模型？", "开源大模型是推动行业进步的力量。我们会积极参与开源社区。",
                       ["open-source"], "jiemian-2023", 1),
                _entry("dl-002", "开源会不会影响商业化？", LONG_ANSWER, ["open-source", "business"], "jiemian-2023", 2),
            ],
            "regulation": [
                _entry("dl-003", "人工智能需要监管吗？", "监管要跟上技术的发展，但不能扼杀创新。", ["regulation"],
                       "jiemian-2023", 3),
            ],
            "compute": [
                _entry("dl-004", "算力是不是最大的瓶颈？", HTML_ANSWER, ["compute"], "jiemian-2023", 4),
            ],
        },
    },
    {
        "id": "shen-xiangyang", "name": "沈向洋", "name_simplified": "沈向洋", "pinyin": "Shen Xiangyang",
        "aliases": ["Harry Shum", "沈向洋博士"], "role": "香港科技大学校董会主席",
        "sources": [_source("sciencenet-2024", "科學網", "通用大模型時代的人機關係", None, script="Traditional")],
        "topics": {
            "open-source": [
                _entry("sx-001", "開源模型重要嗎？", "毫无疑问，开源模型非常重要，促进了大模型的繁荣发展。",
                       ["open-source"], "sciencenet-2024", 1),
            ],
            "regulation": [
                _entry("sx-002", "如何看待人工智能监管？", "人工智能治理需要全球合作，监管应当分级分类。",
                       ["regulation"], "sciencenet-2024", 2),
            ],
            "education": [
                _entry("sx-003", "年轻人应该学什么？", "要学数学，学会思考，保持好奇心。", ["education"],
                       "sciencenet-2024", 3),
            ],
        },
    },
    {
        "id": "zhang-yaqin", "name": "张亚勤", "name_simplified": "张亚勤", "pinyin": "Zhang Yaqin",
        "aliases": ["Ya-Qin Zhang"], "role": "清华大学智能产业研究院院长",
        "sources": [_source("caixin-2024", "财新", "对话张亚勤", "https://example.com/caixin?a=1&b=2")],
        "topics": {
            "regulation": [
                _entry("zy-001", "AI 监管应该怎么做？", "监管要有底线，要防范风险，也要给创新留出空间。",
                       ["regulation"], "caixin-2024", 1),
            ],
            "autonomous-driving": [
                _entry("zy-002", "自动驾驶什么时候普及？", "自动驾驶会在十年内大规模普及。",
                       ["autonomous-driving"], "caixin-2024", 2),
            ],
        },
    },
]


def write_personas(directory: Path, personas: list[dict[str, Any]] | None = None) -> Path:
    """Write one YAML file per persona into directory (created) and return it."""
    directory.mkdir(parents=True, exist_ok=True)
    for persona in personas if personas is not None else PERSONAS:
        text = yaml.safe_dump(persona, allow_unicode=True, sort_keys=False)
        (directory / f"{persona['id']}.yaml").write_text(text, encoding="utf-8")
    return directory
