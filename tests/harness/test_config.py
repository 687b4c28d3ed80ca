"""Experiment configs: presets, YAML files, overrides, strict keys and types."""

from __future__ import annotations

from pathlib import Path

import pytest

from shiftaug.harness.config import (
    ExperimentConfig,
    RunBlock,
    TrainConfig,
    available_presets,
    config_from_dict,
    config_to_dict,
    load_config,
)
from shiftaug.harness.models import resolve_spec


def test_presets_ship_with_the_package() -> None:
    assert {"smoke", "quick", "full", "probe"} <= set(available_presets())


@pytest.mark.parametrize("name", ["smoke", "quick", "full", "probe"])
def test_every_preset_loads_and_names_known_models(name: str) -> None:
    cfg = load_config(name)
    assert cfg.name == name and cfg.grid()
    for model, _, _ in cfg.grid():
        resolve_spec(model, cfg.model_defs)
        cfg.train.for_model(model)


def test_layers_apply_in_order(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("train:\n  epochs: 3\n  lr: 1\ndata:\n  canvas: 48\n")
    cfg = load_config("smoke", path, ["train.epochs=5", "data.background=noise", "seeds=[1, 2]"])
    assert cfg.train.epochs == 5 and cfg.train.lr == 1.0 and isinstance(cfg.train.lr, float)
    assert cfg.data.canvas == 48 and cfg.data.background == "noise" and cfg.seeds == [1, 2]
    assert cfg.data.object_size == 12  # from the preset


def test_round_trip_through_a_dict() -> None:
    cfg = load_config("quick")
    assert config_from_dict(config_to_dict(cfg)) == cfg


def test_grid_is_the_union_of_blocks_without_repeats() -> None:
    cfg = ExperimentConfig(
        runs=[RunBlock(["a", "b"], ["none"]), RunBlock(["a"], ["none", "x"])], seeds=[0, 1]
    )
    assert cfg.grid() == [
        ("a", "none", 0),
        ("a", "none", 1),
        ("b", "none", 0),
        ("b", "none", 1),
        ("a", "x", 0),
        ("a", "x", 1),
    ]


def test_per_model_training_overrides() -> None:
    train = TrainConfig(epochs=2, per_model={"vit": {"epochs": 9, "lr": 1}})
    assert train.for_model("vit").epochs == 9 and train.for_model("vit").lr == 1.0
    assert train.for_model("cnn").epochs == 2
    with pytest.raises(
        ValueError, match=r"`train.per_model.vit.epoch` must be one of the config keys"
    ):
        TrainConfig(per_model={"vit": {"epoch": 9}}).for_model("vit")


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        (["data.canvs=3"], r"`data.canvs` must be one of the config keys \[.*'canvas'"),
        (["train.epochs=three"], r"`train.epochs` must be of type int, but got 'three'"),
        (["train.epochs=true"], r"`train.epochs` must be of type int, but got True"),
        (["seeds=3"], r"`seeds` must be a list, but got 3"),
        (["seeds=[a]"], r"`seeds\[0\]` must be of type int"),
        (["data=3"], r"`data` must be a mapping"),
        (["train.epochs"], r"`--set` must be KEY=VALUE, but got 'train.epochs'"),
        (["name.x=1"], r"`name.x` must name a config key, but 'name' is not a section"),
        (["runs=[{models: [cnn]}]"], r"`runs\[0\].arms` must be given, but it is missing"),
    ],
)
def test_bad_overrides_are_errors(overrides: list[str], match: str) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        load_config("smoke", overrides=overrides)


def test_unknown_preset_and_non_mapping_file(tmp_path: Path) -> None:
    with pytest.raises(
        ValueError, match=r"`preset` must be one of \[.*'quick'.*\], but got 'fast'"
    ):
        load_config("fast")
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n")
    with pytest.raises(ValueError, match=r"must hold a YAML mapping, but got \[1, 2\]"):
        load_config(None, path)


def test_yaml_is_loaded_safely(tmp_path: Path) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text("name: !!python/object/apply:os.system ['echo hacked']\n")
    import yaml

    with pytest.raises(yaml.YAMLError):
        load_config(None, path)
