"""The bot's Application in-process, fed updates straight from the test server (no polling)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.matching import Engine
from bot.telegram.app import build_application
from bot.telegram.config import Settings

from .server import BotApiServer


class InProcessBot:
    """build_application() against the test server; `pump()` processes what users sent so far."""

    def __init__(self, server: BotApiServer, engine: Engine, personas: Path, data_dir: Path, **overrides: Any) -> None:
        settings = Settings(token=server.token, personas_dir=personas, data_dir=data_dir,
                            api_base_url=server.root_url)
        self.settings = replace(settings, **overrides)
        self.server = server
        self.engine = engine
        self.app: Application | None = None  # type: ignore[type-arg]

    async def start(self) -> None:
        self.app = build_application(self.settings, self.engine)
        await self.app.initialize()
        await self.app.start()  # running, as under run_polling (non-blocking handlers need it); no updater

    async def pump(self) -> int:
        """Process every pending update in order, as the polling loop would; returns how many."""
        assert self.app is not None
        updates = self.server.take_updates()
        for data in updates:
            await self.app.process_update(Update.de_json(data, self.app.bot))
        await self._non_blocking_done()
        return len(updates)

    async def _non_blocking_done(self) -> None:
        """Handlers registered with block=False (/reload) run as tasks; wait for them too."""
        assert self.app is not None
        prefix = f"Application:{self.app.bot.id}:process_update_non_blocking"
        tasks = [t for t in asyncio.all_tasks() if t.get_name().startswith(prefix) and not t.done()]
        await asyncio.gather(*tasks, return_exceptions=True)

    async def stop(self) -> None:
        if self.app is not None:
            if self.app.running:
                await self.app.stop()
            await self.app.shutdown()
