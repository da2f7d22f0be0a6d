"""The seed's echo models, reproduced: parameter counts and predictions."""

from __future__ import annotations

from seqcast.models.echo import train_echo_models

ECHO = {"sequence": [0.0, 0.2, 0.4, 0.6, 0.8], "epochs": 500, "learning_rate": 0.01, "seed": 1}


def test_echo_models_reproduce_the_seed():
    table = train_echo_models(ECHO)
    totals = table[table["layer"] == "total"].set_index("model")
    assert totals["params"].to_dict() == {"one_to_one": 146, "many_to_one": 170,
                                          "many_to_many": 146}
    layers = table[table["layer"] != "total"].groupby("model")["params"].apply(list).to_dict()
    assert layers == {"one_to_one": [140, 6], "many_to_one": [140, 30], "many_to_many": [140, 6]}
    for name, predictions in totals["predictions"].items():
        assert predictions == "0.0 0.2 0.4 0.6 0.8", name
