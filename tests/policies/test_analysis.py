"""The quality measures used by the property tests and the benchmark."""

from accord.policies.analysis import frontier_distance, nash_product, overlaps, pareto_frontier


def test_pareto_frontier_drops_dominated_and_duplicate_points():
    points = [(1.0, 0.0), (0.5, 0.5), (0.4, 0.4), (0.5, 0.5), (0.0, 1.0), (0.5, 0.2)]
    assert pareto_frontier(points) == [(1.0, 0.0), (0.5, 0.5), (0.0, 1.0)]


def test_frontier_distance():
    frontier = [(1.0, 0.0), (0.5, 0.5), (0.0, 1.0)]
    assert frontier_distance((0.5, 0.5), frontier) == 0.0
    assert abs(frontier_distance((0.5, 0.2), frontier) - 0.3) < 1e-12
    assert frontier_distance((0.7, 0.2), frontier) == 0.0  # nothing on the grid dominates it


def test_nash_product_and_overlap():
    assert abs(nash_product((0.6, 0.5), (0.2, 0.3)) - 0.08) < 1e-12
    assert nash_product((0.1, 0.9), (0.2, 0.3)) == 0.0
    assert nash_product(None, (0.2, 0.3)) == 0.0
    assert overlaps([(0.5, 0.5)], (0.5, 0.5))
    assert not overlaps([(0.6, 0.4), (0.4, 0.6)], (0.5, 0.5))
