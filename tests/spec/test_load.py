"""Loading spec files: every problem at once, each with file:line and its YAML path."""

from __future__ import annotations

import os

import pytest

from dnnexp.errors import DnnexpError, SpecError
from dnnexp.tasks import load_spec, spec_from_dict
from dnnexp.spec.load import MAX_EXTENDS, MAX_SPEC_BYTES, _data_path


def problems_of(path, overrides=()) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_spec(path, overrides)
    return caught.value.problems


def test_the_issues_example_loads(write_spec, example):
    spec = load_spec(write_spec(example))
    assert spec.name == "relu_he_adam" and spec.data.name == "fashion_mnist" and spec.data.flatten
    assert [layer["type"] for layer in spec.model.layers] == ["dense", "batchnorm", "dropout", "dense"]
    assert spec.model.layers[3]["init"] == {"name": "normal", "std": 0.01}
    assert spec.optimizer == {"name": "adam", "lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
    assert spec.regularization.l2 == 0.0001


def test_the_name_defaults_to_the_file_stem(tmp_path, example):
    path = tmp_path / "relu_he.yaml"
    path.write_text(example.replace("name: relu_he_adam\n", ""))
    assert load_spec(path).name == "relu_he"


def test_an_exponent_without_a_dot_is_a_learning_rate(write_spec, example):
    spec = load_spec(write_spec(example.replace("lr: 0.001", "lr: 1e-3")))
    assert spec.optimizer["lr"] == 0.001


def test_every_problem_is_reported_at_once_with_its_line(write_spec):
    path = write_spec(
        """\
        name: bad
        trian: {epochs: 3}
        data: {name: fashion_mnist, flaten: true}
        model:
          input_shape: [784]
          layers:
            - {type: dense, units: 0, init: he_normall}
            - {type: dropout, rate: 1.5}
            - {type: dense, units: 10, activation: rellu}
        loss: mse
        optimizer: {name: adam, lr: -0.1}
        train:
          epochs: 0
          batch_size: 0
        """
    )
    assert problems_of(path) == [
        f"{path}:2: trian: unknown key; did you mean 'train'?",
        f"{path}:3: data.flaten: unknown key; did you mean 'flatten'?",
        f"{path}:7: model.layers[0].init: 'he_normall' is not an initializer; did you mean 'he_normal'?",
        f"{path}:7: model.layers[0].units: should be greater than or equal to 1, got 0",
        f"{path}:8: model.layers[1].rate: should be less than 1, got 1.5",
        f"{path}:9: model.layers[2].activation: 'rellu' is not an activation; did you mean 'relu'?",
        f"{path}:11: optimizer.lr: should be greater than 0, got -0.1",
        f"{path}:13: train.epochs: should be greater than 0, got 0",
        f"{path}:14: train.batch_size: should be greater than 0, got 0",
    ]


def test_a_boolean_word_where_a_name_belongs_is_explained(write_spec, example):
    path = write_spec(example.replace("activation: relu", "activation: off").replace("name: relu_he_adam", "name: no"))
    assert problems_of(path) == [
        f"{path}:1: name: no was read as the boolean false; quote it: name: 'no'",
        f"{path}:11: model.layers[0].activation: off was read as the boolean false; quote it: activation: 'off'",
    ]


def test_a_shape_that_does_not_fit_names_the_layer(write_spec, example):
    path = write_spec(example.replace("input_shape: [784]", "input_shape: [1, 28, 28]"))
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}:11: model.layers[0] (dense): dense takes flat inputs (D,), got (1, 28, 28)")


def test_duplicate_keys_and_syntax_errors_are_spec_errors(write_spec, example):
    path = write_spec(example + "seed: 3\n")
    assert problems_of(path) == [f"{path}:25: seed: duplicate key (first at line 2); keep one of them"]
    path = write_spec("name: x\nmodel: [\n")
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}:3:1: YAML syntax error: ")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "a spec is a mapping of keys (name, data, model, …); found nothing"),
        ("- 1\n", "a spec is a mapping of keys (name, data, model, …); found a list"),
        ("kind: supervisd\n", "kind: 'supervisd' is not a kind of spec; did you mean 'supervised'?"),
        ("kind: [1]\n", "kind: '[1]' is not a kind of spec; choose from: optimizer_paths, rl, supervised, sweep, word2vec"),
    ],
)
def test_what_is_not_a_spec(write_spec, text, problem):
    path = write_spec(text)
    place = f"{path}:1" if "kind" in text else str(path)
    assert problems_of(path) == [f"{place}: {problem}"]


def test_a_missing_file_or_a_folder_is_a_user_error(tmp_path):
    with pytest.raises(DnnexpError, match="no such spec file"):
        load_spec(tmp_path / "nothere.yaml")
    with pytest.raises(DnnexpError, match="is a folder"):
        load_spec(tmp_path)


def test_overrides_apply_before_validation_and_are_blamed_by_name(write_spec, example):
    path = write_spec(example)
    spec = load_spec(path, ["optimizer.lr=0.01", "model.layers[0].units=256", "data.subset=null", "name=other"])
    assert spec.optimizer["lr"] == 0.01 and spec.model.layers[0]["units"] == 256 and spec.name == "other"
    assert problems_of(path, ["optimizer.lr=-1", "train.epochs=0"]) == [
        "--set optimizer.lr=-1: optimizer.lr: should be greater than 0, got -1",
        "--set train.epochs=0: train.epochs: should be greater than 0, got 0",
    ]
    assert problems_of(path, ["model.layers[0].activation=on"]) == [
        "--set model.layers[0].activation=on: model.layers[0].activation: on was read as the boolean true; "
        "quote it: activation: 'on'"
    ]


def test_problems_of_a_mapping_are_named_by_its_source(raw):
    raw["train"]["epochs"] = 0
    with pytest.raises(SpecError) as caught:
        spec_from_dict(raw, "runs/x/config.yaml")
    assert str(caught.value) == "runs/x/config.yaml: train.epochs: should be greater than 0, got 0"


def test_union_member_tags_are_not_part_of_the_path():
    data = {"model": {"layers": [{"kernel_size": [3, "x"]}]}}
    loc = ("model", "layers", 0, "kernel_size", "function-before[_tuple_from_list(), tuple[int, int]]", 1)
    assert _data_path(loc, data) == ("model", "layers", 0, "kernel_size", 1)
    assert _data_path(("model", "layers", 0, "kernel_size", "int"), data) == ("model", "layers", 0, "kernel_size")
    assert _data_path(("model", "missing"), data) == ("model", "missing")


def test_a_value_of_a_union_type_gets_one_problem(raw):
    """pydantic reports one problem per member of `padding: 'valid' | 'same' | int | [h, w]`."""
    raw["data"] = {"name": "xor", "validation": 20}
    raw["model"] = {
        "input_shape": [1, 8, 8],
        "layers": [
            {"type": "conv2d", "filters": 2, "kernel_size": 3, "padding": "sam"},
            {"type": "conv2d", "filters": 2, "kernel_size": [0, 3], "padding": [0, -1]},
            {"type": "conv2d", "filters": 2, "kernel_size": True},
        ],
    }
    with pytest.raises(SpecError) as caught:
        spec_from_dict(raw)
    assert caught.value.problems == [
        "<spec>: model.layers[0].padding: should be 'valid' or 'same', or a valid integer, or a valid tuple, got 'sam'",
        "<spec>: model.layers[1].kernel_size[0]: should be greater than or equal to 1, got 0",
        "<spec>: model.layers[1].padding[1]: should be greater than or equal to 0, got -1",
        "<spec>: model.layers[2].kernel_size: should be a valid integer, or a valid tuple, got True",
    ]


def test_extends_takes_what_the_spec_does_not_set(tmp_path, example):
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "mlp.yaml").write_text(example)
    child = tmp_path / "child.yaml"
    child.write_text(
        "extends: base/mlp.yaml\n"
        "optimizer: {lr: 0.01}\n"
        "model:\n  layers:\n    - {type: dense, units: 10, activation: softmax}\n"
    )
    spec = load_spec(child)
    assert spec.name == "child"  # the spec's own stem, not the base's name
    assert spec.optimizer["name"] == "adam" and spec.optimizer["lr"] == 0.01  # mappings merge
    assert [layer["type"] for layer in spec.model.layers] == ["dense"]  # lists are replaced whole
    assert spec.data.name == "fashion_mnist" and list(spec.model.input_shape) == [784]


def test_a_problem_inherited_from_the_base_names_the_base_file(tmp_path, example):
    (tmp_path / "base.yaml").write_text(example.replace("epochs: 10", "epochs: -1"))
    child = tmp_path / "child.yaml"
    child.write_text("extends: base.yaml\nseed: 3\n")
    (problem,) = problems_of(child)
    assert problem.startswith(f"{tmp_path / 'base.yaml'}:") and "train.epochs" in problem


def test_extends_refuses_circles_and_missing_files(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    with pytest.raises(SpecError, match="break the circle"):
        load_spec(tmp_path / "a.yaml")
    (tmp_path / "c.yaml").write_text("extends: nowhere.yaml\n")
    with pytest.raises(DnnexpError, match=r"c.yaml:1: extends: .*nowhere.yaml: no such spec file"):
        load_spec(tmp_path / "c.yaml")


def test_only_a_regular_file_of_a_spec_s_size_is_read(tmp_path):
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)  # opening it to read would wait for a writer for ever
    with pytest.raises(DnnexpError, match=r"fifo.yaml is a named pipe, not a file; give the path of a YAML spec file"):
        load_spec(fifo)
    with pytest.raises(DnnexpError, match=r"^/dev/zero is a device, not a file"):
        load_spec("/dev/zero")
    big = tmp_path / "big.yaml"
    big.write_text("seed: 1\n" + "#" * MAX_SPEC_BYTES)
    with pytest.raises(SpecError, match=r"big.yaml: 1,000,008 bytes, more than the 1,000,000 a spec may have"):
        load_spec(big)


@pytest.mark.parametrize(
    ("base", "problem"),
    [
        ("/dev/zero", "/dev/zero is an absolute path; give the path of the spec to start from, relative to this file"),
        ("~/base.yaml", "~/base.yaml is an absolute path"),
        ("../../../../../../../../proc/self/status", "is not a .yaml or .yml file; a spec extends another spec"),
        ("fifo.yaml", "fifo.yaml is a named pipe, not a file"),
        ("list.yaml", "list.yaml holds no mapping of spec keys; extend a spec"),
        ("[1]", "give the path of the spec to start from, relative to this file"),
    ],
)
def test_extends_reads_only_a_spec_beside_this_one(tmp_path, base, problem):
    os.mkfifo(tmp_path / "fifo.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n")
    child = tmp_path / "child.yaml"
    child.write_text(f"extends: {base}\nseed: 3\n")
    with pytest.raises(DnnexpError) as caught:
        load_spec(child)
    assert str(caught.value).startswith(f"{child}:1: extends: ") and problem in str(caught.value)


def test_a_chain_of_extends_has_a_length_limit(tmp_path, example):
    (tmp_path / "s0.yaml").write_text(example)
    for index in range(1, 2 * MAX_EXTENDS):
        (tmp_path / f"s{index}.yaml").write_text(f"extends: s{index - 1}.yaml\nseed: {index}\n")
    assert load_spec(tmp_path / f"s{MAX_EXTENDS - 1}.yaml").seed == MAX_EXTENDS - 1
    with pytest.raises(SpecError, match=f"extends: more than {MAX_EXTENDS} specs extend one another here"):
        load_spec(tmp_path / f"s{2 * MAX_EXTENDS - 1}.yaml")
