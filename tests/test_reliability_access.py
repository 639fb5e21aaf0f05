"""Access and secrets: the chat allow-list and admin ids from the environment, /reload without
downtime, and a scan of bot/ for code that could let a message reach a shell, eval or a file.
"""

from __future__ import annotations

import ast
import io
import shutil
import tokenize
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest_asyncio
from botapi import BotApiServer
from botapi.personas import PERSONAS, write_personas
from botapi.process import ROOT, BotProcess

TOKEN = "464646:ACCESS-secret-token-0123456789abcdef"
ADMIN, MEMBER, OUTSIDER, GROUP_MEMBER = 8001, 8002, 8009, 8003
GROUP = -1008000000001
REFUSED = "只对受邀的聊天开放"
NOT_ADMIN = "只有管理员可以使用 /reload"


@dataclass
class Env:
    server: BotApiServer
    bot: BotProcess
    personas: Path


@pytest_asyncio.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    personas = write_personas(tmp_path / "live")
    async with BotApiServer(TOKEN) as server:
        server.timeout = 30.0
        for user in (ADMIN, MEMBER, OUTSIDER):
            server.private_chat(user, f"U{user}")
        server.group_chat(GROUP, members=(ADMIN, GROUP_MEMBER))
        bot = BotProcess(TOKEN, server.root_url, personas, tmp_path / "data", env={
            "PERSONA_BOT_ALLOWED_CHATS": f"{ADMIN}, {MEMBER},{GROUP}", "PERSONA_BOT_ADMINS": str(ADMIN)})
        await bot.start()
        try:
            await server.wait_call("setMyCommands", 0, timeout=30)
            await server.wait_for(lambda: server.polls_waiting > 0, 30, what="the bot to poll")
            yield Env(server, bot, personas)
        finally:
            assert await bot.stop() == 0
        log = bot.output()
        assert "Traceback" not in log and TOKEN.split(":")[1] not in log


async def reply(env: Env, chat: int, text: str, user: int | None = None) -> str:
    mark = env.server.mark()
    await env.server.send_text(chat, text, user=user)
    return (await env.server.next_message(chat, mark)).text


async def test_allow_list_refuses_other_chats_politely(env: Env) -> None:
    assert REFUSED in await reply(env, OUTSIDER, "/start")
    assert REFUSED in await reply(env, OUTSIDER, "人工智能需要监管吗")
    assert REFUSED in await reply(env, OUTSIDER, "/reload")  # even an admin command: the gate comes first
    qid = await env.server.inline_query("监管", user=OUTSIDER)
    assert (await env.server.inline_answer(qid))["results"] == []
    assert (await reply(env, MEMBER, "人工智能需要监管吗")).startswith(("丁磊", "沈向洋", "张亚勤"))
    assert (await reply(env, GROUP, "/ask@PersonaTestBot 丁磊 人工智能需要监管吗", user=GROUP_MEMBER)).startswith("丁磊")


async def test_reload_is_for_admins_and_reports_changes_without_downtime(env: Env) -> None:
    assert NOT_ADMIN in await reply(env, MEMBER, "/reload")
    assert NOT_ADMIN in await reply(env, GROUP, "/reload@PersonaTestBot", user=GROUP_MEMBER)

    (env.personas / "zhang-yaqin.yaml").unlink()
    ding = {**PERSONAS[0], "topics": {**PERSONAS[0]["topics"], "education": [
        {"id": "dl-005", "question": "孩子该学编程吗？", "answer": "编程是一种思维方式，值得学。", "topics": ["education"],
         "source": "jiemian-2023", "position": 5}]}}
    write_personas(env.personas, [ding])
    mark = env.server.mark()
    await env.server.send_text(ADMIN, "/reload")
    await env.server.send_text(MEMBER, "人工智能需要监管吗")  # while the new data loads
    report = await env.server.next_message(ADMIN, mark, lambda m: "重新加载" in m.text)
    answer = await env.server.next_message(MEMBER, mark)
    assert answer.call_index < report.call_index, "the question waited for the reload"
    assert "已重新加载：2 位专家" in report.text
    assert "- 张亚勤" in report.text and "~ 丁磊：4 → 5 条" in report.text
    assert "编程是一种思维方式" in await reply(env, MEMBER, "/ask 丁磊 孩子该学编程吗")
    assert "没有找到叫「张亚勤」的专家" in await reply(env, MEMBER, "/expert 张亚勤")

    shutil.copy(env.personas / "ding-lei.yaml", env.personas / "broken.yaml")
    (env.personas / "broken.yaml").write_text("id: [broken\n", encoding="utf-8")
    failed = await reply(env, ADMIN, "/reload")
    assert "重新加载失败" in failed and "broken.yaml" in failed
    assert "编程是一种思维方式" in await reply(env, MEMBER, "/ask 丁磊 孩子该学编程吗")  # still the last good data


# ---- the source: nothing from a message reaches a shell, eval or a file path ----

BOT = ROOT / "bot"
FORBIDDEN = ("yaml.load(", "yaml.unsafe_load", "yaml.full_load", "yaml.Loader", "eval(", "exec(", "__import__",
             "subprocess", "os.system", "os.popen", "os.exec", "os.spawn", "pickle", "marshal", "shelve", "shell=True")
# The one reviewed exception: jieba's dictionary cache is marshal (jieba's own format); bot/text.py
# reads it only from the user's private 0700 cache directory and checks its shape before use.
ALLOWED = {(Path("bot/text.py"), "marshal")}
UNSAFE_YAML = {"load", "load_all", "unsafe_load", "unsafe_load_all", "full_load", "full_load_all", "Loader",
               "UnsafeLoader", "FullLoader", "CLoader", "CUnsafeLoader", "CFullLoader"}
BUILTINS = {"eval", "exec", "compile", "__import__", "breakpoint"}  # as calls; `re.compile` is fine
FILE_ACCESS = ("open(", "read_text", "write_text", "read_bytes", "write_bytes", "unlink", "mkdir", "rmdir",
               "rename", "os.replace", "glob")
# In the Telegram front end only these modules touch files: the state file, the update journal and ./.env
# (or a secret file it names), at paths from settings.
FILE_MODULES = {"persistence.py", "journal.py", "config.py"}


def code_only(path: Path) -> str:
    """The file's code without comments and strings (docstrings may name what the code must not do)."""
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
    return " ".join(t.string for t in tokens if t.type not in (tokenize.COMMENT, tokenize.STRING)).replace(" ", "")


def test_no_shell_eval_or_unsafe_yaml_in_bot() -> None:
    files = sorted(BOT.rglob("*.py"))
    assert len(files) > 10
    found = [(f.relative_to(ROOT), word) for f in files for word in FORBIDDEN
             if word in code_only(f).replace(".eval(", ".x(").replace(".exec(", ".x(").replace("allow_pickle=False", "")
             and (f.relative_to(ROOT), word) not in ALLOWED]
    assert found == []
    trees = {f: ast.parse(f.read_text(encoding="utf-8")) for f in files}
    builtins = [(f.name, node.func.id) for f, tree in trees.items() for node in ast.walk(tree)
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in BUILTINS]
    assert builtins == []
    yaml_uses = {node.attr for tree in trees.values() for node in ast.walk(tree)
                 if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "yaml"}
    assert "safe_load" in yaml_uses and not yaml_uses & UNSAFE_YAML, yaml_uses & UNSAFE_YAML
    loaders = [ast.unparse(kw.value) for tree in trees.values() for node in ast.walk(tree)
               if isinstance(node, ast.Call) for kw in node.keywords if kw.arg == "Loader"]
    assert set(loaders) <= {"yaml.SafeLoader", "yaml.CSafeLoader"}, loaders


def test_message_handling_code_never_touches_files() -> None:
    front = [*sorted((BOT / "telegram").glob("*.py")), *sorted((BOT / "conversation").glob("*.py")),
             *sorted((BOT / "views").glob("*.py"))]
    found = [(f.name, word) for f in front if f.name not in FILE_MODULES for word in FILE_ACCESS
             if word in code_only(f)]
    assert found == []
