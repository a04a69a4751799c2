"""Criterion 1: screening a referral's symptoms for typical lumbar facet pain."""

from hypothesis import given
from hypothesis import strategies as st

from domain.referral import History, Symptoms
from domain.screening import screen_referral

symptoms_st = st.builds(
    Symptoms,
    axial_low_back_pain=st.booleans(),
    buttock_radiation=st.booleans(),
    hip_pain=st.booleans(),
    lateral_thigh_burning=st.booleans(),
    pain_below_knee=st.booleans(),
)
# The history's flags, read from the model: a flag added to History is covered by the tests below.
FLAGS = tuple(name for name, field in History.model_fields.items() if field.annotation is bool)
history_st = st.fixed_dictionaries({flag: st.booleans() for flag in FLAGS}).map(History.model_validate)


def history_with(*flags: str) -> History:
    return History.model_validate(dict.fromkeys(flags, True))


@given(symptoms_st, history_st)
def test_pain_below_the_knee_is_never_typical(symptoms: Symptoms, history: History) -> None:
    below_knee = symptoms.model_copy(update={"pain_below_knee": True})
    assert not screen_referral(below_knee, history).typical_facet_pain


@given(symptoms_st, history_st)
def test_no_axial_low_back_pain_is_never_typical(symptoms: Symptoms, history: History) -> None:
    no_axial = symptoms.model_copy(update={"axial_low_back_pain": False})
    assert not screen_referral(no_axial, history).typical_facet_pain


@given(symptoms_st, history_st)
def test_axial_pain_without_pain_below_the_knee_is_typical(symptoms: Symptoms, history: History) -> None:
    typical = symptoms.model_copy(update={"axial_low_back_pain": True, "pain_below_knee": False})
    assert screen_referral(typical, history).typical_facet_pain


@given(symptoms_st, history_st)
def test_typical_exactly_when_axial_and_not_below_knee(symptoms: Symptoms, history: History) -> None:
    screening = screen_referral(symptoms, history)
    assert screening.typical_facet_pain == (symptoms.axial_low_back_pain and not symptoms.pain_below_knee)
    assert screening.reason


@given(symptoms_st, history_st, history_st)
def test_history_never_gates_the_screen(symptoms: Symptoms, history: History, other: History) -> None:
    first, second = screen_referral(symptoms, history), screen_referral(symptoms, other)
    assert first.typical_facet_pain == second.typical_facet_pain
    assert first.reason == second.reason


def test_history_has_flags() -> None:
    assert FLAGS
    assert set(FLAGS) == set(History.model_fields)


@given(symptoms_st)
def test_each_history_flag_alone_is_one_indication(symptoms: Symptoms) -> None:
    alone = [screen_referral(symptoms, history_with(flag)).indications for flag in FLAGS]
    assert all(len(indications) == 1 for indications in alone)
    # Each flag names its own indication.
    assert len({indications[0] for indications in alone}) == len(FLAGS)


@given(symptoms_st, history_st)
def test_one_indication_per_history_flag_set(symptoms: Symptoms, history: History) -> None:
    flags_set = [flag for flag in FLAGS if getattr(history, flag)]
    indications = screen_referral(symptoms, history).indications
    assert len(indications) == len(flags_set)
    # The same indications as each of those flags alone, in the order of the history's fields.
    assert indications == tuple(
        screen_referral(symptoms, history_with(flag)).indications[0] for flag in flags_set
    )


@given(symptoms_st, symptoms_st, history_st)
def test_indications_never_depend_on_symptoms(symptoms: Symptoms, other: Symptoms, history: History) -> None:
    assert screen_referral(symptoms, history).indications == screen_referral(other, history).indications


def test_typical_referral_counts_supporting_patterns() -> None:
    screening = screen_referral(
        Symptoms(axial_low_back_pain=True, buttock_radiation=True, lateral_thigh_burning=True), History()
    )
    assert screening.typical_facet_pain
    assert "2 of 3" in screening.reason
    assert screening.indications == ()


def test_axial_pain_alone_is_typical() -> None:
    screening = screen_referral(Symptoms(axial_low_back_pain=True), History())
    assert screening.typical_facet_pain
    assert "0 of 3" in screening.reason


def test_pain_below_knee_reason_mentions_radicular_pain() -> None:
    screening = screen_referral(
        Symptoms(axial_low_back_pain=True, pain_below_knee=True), History(prior_rfa_with_recurrence=True)
    )
    assert not screening.typical_facet_pain
    assert "radicular" in screening.reason
    assert screening.indications == ("prior_rfa_with_recurrence",)


def test_missing_axial_pain_reason() -> None:
    screening = screen_referral(
        Symptoms(axial_low_back_pain=False, buttock_radiation=True, hip_pain=True), History()
    )
    assert not screening.typical_facet_pain
    assert screening.reason == "no axial low back pain"
