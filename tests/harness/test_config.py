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


@pytest.mark.parametrize(
    ("override", "match"),
    [
        ("train.batch_size=0", r"`train.batch_size` must be >= 1, but got 0"),
        ("train.epochs=-1", r"`train.epochs` must be >= 1, but got -1"),
        ("train.epochs=0", r"`train.epochs` must be >= 1, but got 0"),
        ("train.warmup=1.5", r"`train.warmup` must be in \[0, 1\], but got 1.5"),
        ("train.threads=-2", r"`train.threads` must be >= 0, but got -2"),
        ("train.lr=.nan", r"`train.lr` must be a finite number, but got nan"),
        ("train.lr=nan", r"`train.lr` must be a finite number, but got 'nan'"),
        ("train.lr=.inf", r"`train.lr` must be a finite number, but got inf"),
        ("train.lr=0", r"`train.lr` must be > 0, but got 0"),
        ("train.weight_decay=-1", r"`train.weight_decay` must be >= 0, but got -1"),
        ("train.label_smoothing=1", r"`train.label_smoothing` must be in \[0, 1\), but got 1"),
        ("train.device=foo", r"`train.device` must be auto, cpu, mps, cuda or cuda:<index>"),
        ("train.device=cuda:x", r"`train.device` must be .*, but got 'cuda:x'"),
        ("data.dataset=cifar", r"`data.dataset` must be one of \('mnist'.*, but got 'cifar'"),
        ("data.canvas=0", r"`data.canvas` must be >= 1, but got 0"),
        ("data.object_size=50", r"`data.object_size` must be <= data.canvas=40, but got 50"),
        ("data.background=white", r"`data.background` must be one of"),
        ("data.positions=left", r"`data.positions` must be one of"),
        ("data.region=[0.5, 0, 0.2, 1]", r"`data.region` must be \[x0, y0, x1, y1\] with"),
        ("data.train_size=0", r"`data.train_size` must be >= 1"),
        ("data.data_root=/data", r"`data.data_root` must be unset for the 'mnist' dataset"),
        ("data.seed=-1", r"`data.seed` must be in \[0, 4294967295\], but got -1"),
        ("arms.roll_frac=2", r"`arms.roll_frac` must be in \[0, 1\], but got 2"),
        ("arms.translate_px=-3", r"`arms.translate_px` must be >= 0, but got -3"),
        ("eval.max_shift=0", r"`eval.max_shift` must be >= 1, but got 0"),
        ("eval.grid_step=0", r"`eval.grid_step` must be >= 1"),
        ("eval.layer_objects=1", r"`eval.layer_objects` must be 0 \(off\) or >= 2, but got 1"),
        ("eval.batch_size=0", r"`eval.batch_size` must be >= 1"),
        ("seeds=[]", r"`seeds` must be a non-empty list of seeds"),
        ("seeds=[-1]", r"`seeds` must be a non-empty list of seeds in \[0, 4294967295\]"),
        ("runs=[]", r"`runs` must be a non-empty list of blocks"),
        ("runs=[{models: [], arms: [none]}]", r"`runs\[0\].models` must be a non-empty list"),
        ("runs=[{models: [cnn], arms: ['']}]", r"`runs\[0\].arms` must be a non-empty list"),
        ("name=''", r"`name` must be a non-empty name"),
        ("train.per_model={vit: {epochs: 0}}", r"`train.per_model.vit.epochs` must be >= 1"),
        ("train.per_model={vit: {device: cpu}}", r"`train.per_model.vit.device` must not be set"),
        ("train.per_model={vit: {threads: 1}}", r"`train.per_model.vit.threads` must not be set"),
    ],
)
def test_every_value_is_range_checked_when_loaded(override: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        load_config("quick", overrides=[override])


def test_every_numeric_key_has_a_range_rule() -> None:
    import dataclasses
    import typing

    from shiftaug.harness import config

    sections = [config.DataConfig, config.ArmConfig, config.TrainConfig, config.EvalConfig]
    for cls in sections:
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            numeric = hints[f.name] in (int, float, int | None, float | None)
            if numeric:
                assert (cls, f.name) in config._RULES, f"{cls.__name__}.{f.name} has no range rule"


def test_floats_accept_numbers_written_as_strings() -> None:
    # YAML 1.1 reads 1e-3 (no dot) as a string: still the float a user meant
    cfg = load_config("smoke", overrides=["train.lr=1e-3", "train.warmup=0"])
    assert cfg.train.lr == 0.001 and cfg.train.warmup == 0.0
    with pytest.raises(ValueError, match=r"`train.lr` must be of type float, but got 'fast'"):
        load_config("smoke", overrides=["train.lr=fast"])


def test_defaults_and_presets_pass_their_own_rules() -> None:
    assert config_from_dict({}) == ExperimentConfig()
    from shiftaug.harness.claims.suite import load_suite

    for name in available_presets():
        suite = load_suite(name)
        if suite is not None:  # a suite: every part is a config that passes the rules
            for cfg in suite[1].values():
                assert config_from_dict(config_to_dict(cfg)) == cfg
            continue
        assert config_from_dict(config_to_dict(load_config(name))) == load_config(name)
