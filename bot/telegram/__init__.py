"""The Telegram front end: PTB v22 Application over the shared conversation layer.

app.py builds and runs it, handlers.py holds the thin handlers, render.py the HTML, keyboards.py
the buttons and their callback data, persistence.py the crash-safe chat state.
"""
