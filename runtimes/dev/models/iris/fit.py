#!/usr/bin/env python3
"""Fits the dev runtime's `iris` model and writes coefficients.json next to this file.

Multinomial logistic regression (softmax over W x + b) on the raw, unstandardised measurements
in iris.csv, so the runtime needs nothing but the weights: p = softmax(W @ x + b).
Deterministic: lbfgs has no randomness and the settings below are fixed.

Run from the repository root:  python3 runtimes/dev/models/iris/fit.py
"""
import csv
import hashlib
import json
import os
import sys

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "iris.csv")
OUT = os.path.join(HERE, "coefficients.json")

# Fixed settings. C=1.0 is sklearn's default (L2) regularisation strength; the tight tol and generous max_iter make
# lbfgs converge fully, so a re-run reproduces the weights far inside the tests' 1e-6 tolerance.
SETTINGS = {"solver": "lbfgs", "C": 1.0, "fit_intercept": True, "tol": 1e-10, "max_iter": 10000}
FEATURES = ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"]
REFERENCE_ROWS = [0, 25, 50, 75, 100, 125, 149, 70, 83, 133]


def load(path):
    """sklearn's iris.csv: a header `150,4,<class names...>`, then 4 floats and a class index per row."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    n_rows, n_features = int(header[0]), int(header[1])
    class_names = header[2:]
    x = np.array([[float(v) for v in r[:n_features]] for r in body], dtype=np.float64)
    y = np.array([int(r[n_features]) for r in body], dtype=np.int64)
    assert x.shape == (n_rows, n_features), x.shape
    return x, y, class_names


def main():
    x, y, class_names = load(DATA)
    model = LogisticRegression(**SETTINGS)
    model.fit(x, y)
    if model.coef_.shape != (3, 4):
        sys.exit(f"expected a 3-class multinomial model, got coef_ shape {model.coef_.shape}")

    accuracy = float((model.predict(x) == y).mean())
    # The runtime receives FP32 inputs, so the reference rows are evaluated on FP32-rounded features.
    reference = []
    for i in REFERENCE_ROWS:
        features = x[i].astype(np.float32).astype(np.float64)
        proba = model.predict_proba(features.reshape(1, -1))[0]
        reference.append({
            "row": i,
            "features": [float(v) for v in features],
            "label": class_names[int(y[i])],
            "predictProba": [float(p) for p in proba],
        })

    with open(DATA, "rb") as f:
        data_sha256 = hashlib.sha256(f.read()).hexdigest()

    out = {
        "model": "multinomial logistic regression: probabilities = softmax(weights @ x + bias)",
        "features": FEATURES,
        "classNames": list(class_names),
        "weights": [[float(v) for v in row] for row in model.coef_],
        "bias": [float(v) for v in model.intercept_],
        "standardised": False,
        "trainingAccuracy": accuracy,
        "trainingRows": int(x.shape[0]),
        "iterations": int(model.n_iter_[0]),
        "sklearnVersion": sklearn.__version__,
        "numpyVersion": np.__version__,
        "settings": SETTINGS,
        "command": "python3 runtimes/dev/models/iris/fit.py",
        "data": {"file": "iris.csv", "sha256": data_sha256, "source": "scikit-learn sklearn/datasets/data/iris.csv"},
        "referenceRows": reference,
    }
    with open(OUT, "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")
    print(f"wrote {os.path.relpath(OUT)}: training accuracy {accuracy:.4f} in {out['iterations']} lbfgs iterations")


if __name__ == "__main__":
    main()
