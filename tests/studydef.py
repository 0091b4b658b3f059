"""The compendium's study definition, read once for the tests."""

from helpers.study import load_study

#: Path of the study definition the stand-in follows, relative to the project root.
STUDY_FILE = "data/study.yaml"
#: The study definition itself.
STUDY = load_study(STUDY_FILE)
