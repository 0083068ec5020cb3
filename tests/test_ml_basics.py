"""The opening slides ("Machine Learning", "Traditional Machine Learning vs. Deep Learning") on
the two-rings data: no straight boundary separates the rings, a hand-made feature r^2 does, and a
hidden layer learns one from the raw features."""

from train.feature_engineering import compare


def test_a_feature_made_by_hand_or_learned_by_a_hidden_layer_separates_the_rings():
    accuracy = compare(seed=0)
    assert accuracy["raw"] < 0.7, "a straight line cannot separate a ring from the ring around it"
    assert accuracy["engineered"] > 0.95
    assert accuracy["network"] > 0.95
