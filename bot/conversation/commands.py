"""The one command table: /help, Telegram's command menu, the terminal chat and the README check.

Every front end reads `COMMANDS`; nothing else lists commands. A command's `scope` says where it
exists: "all" (Telegram and the terminal chat), "telegram" (needs Telegram: admins, groups).
`menu` commands are published with set_my_commands and listed by /help.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Command:
    """One command: its name (without the slash), a description per language, where it exists."""

    name: str
    zh: str
    en: str
    scope: Literal["all", "telegram"] = "all"
    menu: bool = True

    def description(self, english: bool = False) -> str:
        return self.en if english else self.zh


COMMANDS: tuple[Command, ...] = (
    Command("ask", "向专家提问：/ask [专家] 问题", "Ask: /ask [expert] question"),
    Command("experts", "列出所有专家", "List the experts"),
    Command("expert", "选定一位专家：/expert 名字", "Talk to one expert: /expert name"),
    Command("all", "不限专家，向所有人提问", "Ask everyone again"),
    Command("topics", "按话题浏览：/topics [专家]", "Browse by topic: /topics [expert]"),
    Command("compare", "对比专家：/compare A和B 问题", "Compare: /compare A and B question"),
    Command("about", "数据来源与回答方式", "Where answers come from"),
    Command("privacy", "记录了什么、保存多久", "What is recorded, for how long"),
    Command("help", "使用说明", "How to use this bot"),
    Command("start", "开始", "Start"),
    Command("default", "群默认专家（群管理员）：/default 名字", "Group default expert (group admins): /default name",
            scope="telegram"),
    Command("reload", "重新加载专家数据（管理员）", "Reload the experts' data (admins)", scope="telegram", menu=False),
    Command("review", "审阅未回答的问题（管理员）", "Review unanswered questions (admins)", scope="telegram",
            menu=False),
)
"""In menu order."""

MENU: tuple[Command, ...] = tuple(c for c in COMMANDS if c.menu)
CHAT: tuple[Command, ...] = tuple(c for c in COMMANDS if c.menu and c.scope == "all")
"""What the terminal chat offers (and lists in its /help)."""

USAGE = {
    "ask": "/ask [专家] 问题 —— 例如 /ask 丁磊 开源怎么看",
    "expert": "/expert 名字 —— 例如 /expert 丁磊",
    "compare": "/compare 专家A和专家B 问题 —— 例如 /compare 丁磊和沈向洋 监管（也可以 A vs B）",
    "default": "/default 名字 —— 群管理员设置本群的默认专家；/default all 取消",
}


def parse_command(text: str) -> tuple[str, str, str | None] | None:
    """Split "/cmd@Bot args" into (cmd, args, bot_username); None when text is not a command."""
    stripped = text.strip()
    if not stripped.startswith("/") or len(stripped) < 2:
        return None
    head, _, args = stripped.partition(" ")
    if "\n" in head:  # "/ask\nquestion"
        head, _, more = head.partition("\n")
        args = more + (" " + args if args else "")
    command, _, username = head[1:].partition("@")
    if not command or not all(c.isascii() and (c.isalnum() or c == "_") for c in command):
        return None
    return command.lower(), args.strip(), username or None
