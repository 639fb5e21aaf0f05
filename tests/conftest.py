
# ---- telegram / conversation fixtures (tests/botapi) ----
import pathlib as _pathlib
import sys as _sys

import pytest as _pytest

if str(_pathlib.Path(__file__).parent) not in _sys.path:  # `import botapi` however pytest was started
    _sys.path.insert(0, str(_pathlib.Path(__file__).parent))


@_pytest.fixture(scope="session")
def tiny_personas_dir(tmp_path_factory: _pytest.TempPathFactory) -> _pathlib.Path:
    """Three small valid persona files (see tests/botapi/personas.py), independent of the real corpus."""
    from botapi.personas import write_personas

    return write_personas(tmp_path_factory.mktemp("personas"))
