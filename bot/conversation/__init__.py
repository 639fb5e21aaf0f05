"""The command layer every front end shares: text in, a typed reply out.

Telegram (`bot/telegram/`) and the terminal chat (`bot/chat.py`) speak the same commands over the
same engine, so parsing and the choice of what to answer live here, once:

- `commands.py`  the one command table (`COMMANDS`) and `parse_command`
- `replies.py`   one dataclass per kind of reply (`Reply`), and `ChatState`
- `core.py`      `Conversation`: commands and questions
- `follow_ups.py` what buttons lead to (more, others, compare, paging)
- `actions.py`   button action codes -> conversation calls, for every front end
- `names.py`     where a leading expert name ends

Usage::

    conv = Conversation(Engine.load())
    state = ChatState()                        # per chat; persist state.expert_id yourself
    reply = conv.handle("/expert 丁磊", state)  # -> ExpertProfile, state.expert_id == "ding-lei"
    reply = conv.handle("开源怎么看", state)      # plain text = question -> AnswerReply
    view = bot.views.build(reply)               # then telegram/render.py or render_text.py
"""

from bot.conversation.commands import CHAT, COMMANDS, MENU, USAGE, Command, parse_command
from bot.conversation.core import QUOTE_LINK, Conversation, has_content, short_key
from bot.conversation.replies import (
    TOPIC_PAGE,
    About,
    AllExperts,
    AnswerReply,
    ChatState,
    ComparePicker,
    CompareReply,
    EmptyText,
    EntryReply,
    ExpertList,
    ExpertProfile,
    Help,
    NoMore,
    Notice,
    Privacy,
    Reply,
    RivalPicker,
    SmallTalkReply,
    TopicAnswer,
    TopicList,
    UnknownCommand,
    UnknownExpertReply,
    Usage,
    Welcome,
)

__all__ = [
    "CHAT", "COMMANDS", "MENU", "QUOTE_LINK", "TOPIC_PAGE", "USAGE", "About", "AllExperts", "AnswerReply",
    "ChatState", "Command", "ComparePicker", "CompareReply", "Conversation", "EmptyText", "EntryReply",
    "ExpertList", "ExpertProfile", "Help", "NoMore", "Notice", "Privacy", "Reply", "RivalPicker",
    "SmallTalkReply", "TopicAnswer", "TopicList", "UnknownCommand", "UnknownExpertReply", "Usage", "Welcome",
    "has_content", "parse_command", "short_key",
]
