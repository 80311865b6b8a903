"""Target curves of every strategy, and parameter validation."""

import pytest

from accord.policies import STRATEGIES, closest_strategy, make_strategy, validate_strategy_params
from accord.policies.strategies import time_fraction


@pytest.mark.parametrize(
    "name, e, reservation, r, max_rounds, expected",
    [
        ("linear", None, 0.0, 0, 11, 1.0),
        ("linear", None, 0.0, 5, 11, 0.5),
        ("linear", None, 0.4, 5, 11, 0.7),
        ("linear", None, 0.4, 10, 11, 0.4),
        ("linear", 1, 0.3, 0, 1, 0.3),  # one round: t = 1 at once
        ("boulware", 0.5, 0.0, 5, 11, 0.75),
        ("boulware", 0.5, 0.2, 9, 11, 0.352),
        ("boulware", 0.2, 0.35, 0, 20, 1.0),
        ("boulware", 0.2, 0.35, 19, 20, 0.35),
        ("boulware", None, 0.0, 1, 3, 1 - 0.5**5),  # default e = 0.2
        ("conceder", 2.0, 0.0, 1, 5, 0.5),
        ("conceder", 2.0, 0.2, 1, 5, 0.6),
        ("conceder", 3.0, 0.4, 1, 9, 0.7),
        ("conceder", None, 0.0, 1, 5, 0.5),  # default e = 2
        ("conceder", 3.0, 0.4, 8, 9, 0.4),
        ("hardliner", None, 0.0, 0, 10, 1.0),
        ("hardliner", None, 0.5, 9, 10, 1.0),
    ],
)
def test_time_based_target_curve(name, e, reservation, r, max_rounds, expected):
    strategy = make_strategy(name, e=e, reservation=reservation)
    assert strategy.target(time_fraction(r, max_rounds)) == pytest.approx(expected, abs=1e-12)


def test_boulware_holds_out_and_conceder_gives_early():
    boulware, linear, conceder = (
        make_strategy(n, e, 0.2) for n, e in [("boulware", 0.3), ("linear", 1), ("conceder", 3)]
    )
    for r in range(1, 19):
        t = time_fraction(r, 20)
        assert boulware.target(t) > linear.target(t) > conceder.target(t)


@pytest.mark.parametrize(
    "history, reservation, expected",
    [
        ([], 0.0, 1.0),
        ([0.9], 0.0, 1.0),  # no concession before two opponent offers
        ([0.9, 0.8], 0.0, 0.9),
        ([0.9, 0.8, 0.85], 0.0, 0.95),  # the opponent took back 0.05: so does it
        ([1.0, 0.5, 0.2], 0.6, 0.6),  # never below its reservation
        ([1.0, 0.5, 0.7], 0.6, 0.8),  # mirrors from where it stands, not from the raw sum
        ([0.8, 0.9], 0.0, 1.0),  # never above 1
    ],
)
def test_tit_for_tat_mirrors_the_opponents_concessions(history, reservation, expected):
    strategy = make_strategy("tit_for_tat", reservation=reservation)
    assert strategy.target(0.5, history) == pytest.approx(expected, abs=1e-12)
    assert strategy.target(1.0, history) == pytest.approx(expected, abs=1e-12)  # time plays no part


def test_time_fraction():
    assert time_fraction(0, 20) == 0.0
    assert time_fraction(19, 20) == 1.0
    assert time_fraction(0, 1) == 1.0


def test_registry():
    assert set(STRATEGIES) == {"boulware", "linear", "conceder", "tit_for_tat", "hardliner"}
    for name, cls in STRATEGIES.items():
        assert isinstance(make_strategy(name), cls)
        assert cls.name == name


@pytest.mark.parametrize(
    "name, e, reservation, message",
    [
        ("bulware", None, 0.0, "unknown strategy 'bulware'"),
        ("boulware", 1.0, 0.0, "boulware needs e < 1, got 1.0"),
        ("boulware", 2, 0.0, "boulware needs e < 1, got 2"),
        ("conceder", 1, 0.0, "conceder needs e > 1, got 1"),
        ("conceder", 0.5, 0.0, "conceder needs e > 1, got 0.5"),
        ("linear", 2, 0.0, "linear has e = 1, got 2"),
        ("linear", 0, 0.0, "e must be greater than 0, got 0"),
        ("conceder", -3, 0.0, "e must be greater than 0, got -3"),
        ("boulware", float("nan"), 0.0, "e must be a number, got nan"),
        ("boulware", "0.2", 0.0, "e must be a number, got '0.2'"),
        ("linear", None, 1.5, "reservation must be between 0 and 1, got 1.5"),
        ("linear", None, -0.1, "reservation must be between 0 and 1, got -0.1"),
        ("hardliner", 0.5, 0.0, "strategy 'hardliner' takes no e"),
        ("tit_for_tat", 2, 0.0, "strategy 'tit_for_tat' takes no e"),
    ],
)
def test_bad_parameters(name, e, reservation, message):
    assert message in validate_strategy_params(name, e, reservation)
    with pytest.raises(ValueError) as err:
        make_strategy(name, e=e, reservation=reservation)
    assert str(err.value) == message
    assert message[0].islower() and not message.endswith(".")


def test_all_problems_are_reported_at_once():
    assert validate_strategy_params("boulware", 2, 3) == [
        "reservation must be between 0 and 1, got 3",
        "boulware needs e < 1, got 2",
    ]
    assert validate_strategy_params("boulware", 0.2, 0.3) == []


def test_closest_strategy():
    assert closest_strategy("bulware") == "boulware"
    assert closest_strategy("titfortat") == "tit_for_tat"
    assert closest_strategy("zzz") is None


def test_strategies_are_immutable_values():
    a, b = make_strategy("boulware", 0.2, 0.3), make_strategy("boulware", 0.2, 0.3)
    assert a == b and hash(a) == hash(b)
    with pytest.raises(AttributeError):
        a.e = 0.5
