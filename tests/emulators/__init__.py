"""Test-side emulators of the systems the voicebot talks to."""
