"""Models of a given size: the width picked for a target parameter count, for every mixer."""

from dataclasses import replace

import pytest

from raflab.seq.nets import MIXERS, NetConfig, count_parameters, make_model, parameter_count
from raflab.seq.sizing import sized_config, width_for_parameters
from raflab.seq.studies import build_task, seq_run, sized_run

#: the promise: the chosen network is within this fraction of the target (on the MQAR study's sizes)
TOLERANCE = 0.15


@pytest.mark.parametrize("mixer", MIXERS)
@pytest.mark.parametrize("target", [15_000, 40_000, 100_000])
def test_the_chosen_width_is_within_tolerance_and_the_closest(mixer, target):
    base = NetConfig(vocab_size=64, block_size=32, mixer=mixer, n_layer=2, mlp_ratio=0.0)
    width = width_for_parameters(base, target)
    count = parameter_count(replace(base, n_embd=width))
    assert abs(count - target) <= TOLERANCE * target, (width, count)
    # no other width comes closer: the neighbours are both at least as far
    for other in (width - 1, width + 1):
        assert abs(parameter_count(replace(base, n_embd=other)) - target) >= abs(count - target)


def test_the_count_is_the_built_models_and_heads_divide_the_width():
    base = NetConfig(vocab_size=64, block_size=32, mixer="attention", n_layer=2, n_head=4, mlp_ratio=1.0)
    sized = sized_config(base, 40_000)
    assert sized.n_embd % 4 == 0
    assert count_parameters(make_model(sized)) == parameter_count(sized)
    assert abs(parameter_count(sized) - 40_000) <= TOLERANCE * 40_000


def test_sizes_of_a_paper_scale_vocabulary_are_found_or_refused():
    base = NetConfig(vocab_size=8192, block_size=256, mixer="mamba", n_layer=2, mlp_ratio=0.0)
    assert abs(parameter_count(sized_config(base, 1_000_000)) - 1_000_000) <= 0.01 * 1_000_000
    with pytest.raises(ValueError, match="below the smallest mamba network"):
        width_for_parameters(base, 5_000)
    with pytest.raises(ValueError, match="above the mamba network of width 16"):
        width_for_parameters(base, 10**9, max_width=16)
    with pytest.raises(ValueError, match="must be an integer"):
        width_for_parameters(base, 1.5e4)


def test_a_run_with_a_target_size_takes_the_matched_width():
    run = seq_run("mqar", model="s4d", target_params=15_000, pairs=2, examples=8, heldout=4)
    sized = sized_run(run, build_task(run))
    assert sized.width == 59 and run.width == 64  # the run's own width is left as given
    assert sized_run(seq_run("mqar", model="s4d"), build_task(run)).width == 64  # no target: unchanged
