"""Chrome (labels, buttons) in the asker's language; the quotes themselves are never translated.

A message without a Chinese character gets English chrome. The confidence words come from the
model's calibrated `Match.probability`, the one number that also decides whether to answer.
"""

from __future__ import annotations

LABELS: dict[str, dict[str, str]] = {
    "zh": {"q": "问：", "source": "来源：", "link": "原文", "full": "全文 ▾", "close": "很接近",
           "likely": "比较接近", "maybe": "可能相关", "compare": "对比：", "silent": "{name}没有足够贴切的原话。",
           "none": "没有找到{who}足够贴切回答这个问题的原话：", "everyone": "专家们",
           "covered": "这个话题 {names} 谈过，可以问问他们。", "try": "你可以试试：",
           "more": "更多{name}的观点", "others": "其他专家怎么看", "versus": "对比",
           "ask": "问{name}", "ask_all": "问所有专家", "whole": "{name}：全文", "share": "分享",
           "pick_rival": "和谁对比{name}的回答？", "all_experts": "所有专家", "page": "第 {n}/{total} 条",
           "others_of": "{name}的其他回答"},
    "en": {"q": "Q: ", "source": "Source: ", "link": "original", "full": "Full answer ▾", "close": "close match",
           "likely": "likely match", "maybe": "possibly related", "compare": "Compare: ",
           "silent": "{name}: nothing recorded answers this closely.",
           "none": "No recorded words of {who} answer this closely enough: ",
           "everyone": "the experts", "covered": "{names} spoke about this: ask them.", "try": "You could try:",
           "more": "More from {name}", "others": "Other experts", "versus": "Compare",
           "ask": "Ask {name}", "ask_all": "Ask everyone", "whole": "{name}: full answer", "share": "Share",
           "pick_rival": "Compare {name}'s answer with whom?", "all_experts": "Everyone",
           "page": "{n}/{total}", "others_of": "More from {name}"},
}

# Match.probability (calibrated) -> words. Only matches the gate let through are shown at all.
CLOSE_AT = 0.85  # calibrated: such an answer is right about 85 times in 100
LIKELY_AT = 0.6  # below this the gate rarely lets an answer through; say "possibly"


def labels(english: bool) -> dict[str, str]:
    return LABELS["en" if english else "zh"]


def confidence(probability: float, english: bool = False) -> str:
    """How sure the bot is, in a few plain words."""
    words = labels(english)
    if probability >= CLOSE_AT:
        return words["close"]
    return words["likely"] if probability >= LIKELY_AT else words["maybe"]
