"""Settings shared by every test."""

from hypothesis import settings

# Property tests check rules, not speed: the first example of a test builds pydantic type adapters, which on a
# loaded machine can take seconds, so Hypothesis' per-example deadline would make them flaky.
settings.register_profile("dvr", deadline=None)
settings.load_profile("dvr")
