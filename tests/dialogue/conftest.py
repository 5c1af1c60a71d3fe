from __future__ import annotations

import pytest

from voicebot.dialogue.library import FlowLibrary
from voicebot.settings import PROJECT_ROOT, Settings

SCENARIOS = PROJECT_ROOT / "scenarios"


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("var"), duty_dispatcher=None)


@pytest.fixture(scope="module")
def library() -> FlowLibrary:
    return FlowLibrary.load(SCENARIOS)
