#!/usr/bin/env bash
# The container's build steps, in one place: the Dockerfile runs them, and tests/test_docker.py runs
# them the same way in a temporary directory (no container engine runs on our machines).
#
#   build_image.sh install SRC PREFIX
#       A virtual environment at PREFIX holding the package from SRC and its pinned dependencies
#       (SRC/constraints.txt); a failed install fails the build. Checked (pip check, the command
#       starts), then pip, setuptools and wheel are removed: the image serves, it does not build.
#   build_image.sh warm PREFIX
#       Run as the serving user: loads the shipped personas once, which writes jieba's dictionary
#       cache and the persisted indexes into that user's private cache (~/.cache/persona-bot), then
#       checks that a second load takes the index from the cache and answers.
set -euo pipefail

usage() { echo "usage: $0 install SRC PREFIX | warm PREFIX" >&2; exit 64; }

install() {
    local src=$1 prefix=$2
    python3 -m venv "$prefix"
    "$prefix/bin/pip" install --quiet --disable-pip-version-check --no-compile \
        -c "$src/constraints.txt" "$src"
    "$prefix/bin/pip" check --disable-pip-version-check
    "$prefix/bin/persona-bot" --help >/dev/null
    "$prefix/bin/python" -m pip uninstall --quiet --yes pip setuptools
    # Byte-compile once here, so the serving user (who cannot write the venv) never recompiles.
    "$prefix/bin/python" -m compileall -q "$prefix/lib" >/dev/null
}

warm() {
    local prefix=$1
    "$prefix/bin/persona-bot" ask "开源大模型和闭源大模型会一直并存吗" --json >/dev/null
    "$prefix/bin/python" - <<'PY'
import sys

from bot.matching import Engine

engine = Engine.load()
engine.index.homophones("算利")  # writes the sound tables too, so the first question does not (about 2 s)
fields = {"answers": engine.index, "alternates": engine.alternates, "context": engine.context}
cold = [name for name, index in fields.items() if index.loaded_from is None]
if cold:
    sys.exit(f"warm: the {', '.join(cold)} index was not read from the cache")
if not engine.answer("开源大模型和闭源大模型会一直并存吗").matches:
    sys.exit("warm: the shipped personas answered nothing")
print(f"warm: {len(engine.personas)} experts; indexes cached in {engine.index.loaded_from.parent}")
PY
}

case "${1:-}" in
    install) [ $# -eq 3 ] || usage; install "$2" "$3" ;;
    warm) [ $# -eq 2 ] || usage; warm "$2" ;;
    *) usage ;;
esac
